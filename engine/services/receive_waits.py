"""Continue a case waiting at a receive task without a message.

Camunda 7 runs such a receive task as a wait state that
`RuntimeService.signal(executionId, variables)` continues
(ReceiveTaskActivityBehavior; REST POST /execution/{id}/signal). The waiting
tasks are projected into `ReceiveWait` rows after every advance (their id is
the execution id), so a signal finds its case by that id alone.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.db import transaction

from audit.actions import AuditAction
from engine.errors import ActionNotAllowed, FormInvalid, ReceiveNotWaiting
from engine.models import Case, ReceiveWait
from engine.permissions import SIGNAL_RECEIVE
from engine.spec_cache import spec_for
from engine.spiff import ReceiveNotWaiting as NotWaitingInState
from engine.spiff import workflow_signal_receive

from .advance import case_advance, case_audit, case_lock
from .script_host import case_scripts


def receive_signal_check(user: Any) -> None:
    """Raise ActionNotAllowed unless the user may continue waiting receive tasks."""
    if not user.has_perm(SIGNAL_RECEIVE):
        raise ActionNotAllowed("You may not continue cases waiting at a receive task.")


def _not_waiting(execution_id: Any) -> ReceiveNotWaiting:
    return ReceiveNotWaiting(
        f"No receive task waits as execution {execution_id}: it was never one, "
        "or it has been continued already (a signal continues it once).",
        details={"execution": str(execution_id)},
    )


def _check_variables(data: Any) -> None:
    if not isinstance(data, Mapping) or any(not str(k).isidentifier() for k in data):
        raise FormInvalid(
            "The variables must be an object whose keys are variable names.",
            details={"fields": {"data": ["Give an object of variables."]}},
        )


def _locked_wait(execution: UUID, case_id: UUID | None) -> tuple[Case, ReceiveWait]:
    """Lock the case waiting as `execution`; return it and its wait, read again
    under the lock (a signal that waited for it finds the wait gone)."""
    waits = ReceiveWait.objects.filter(spiff_task_id=execution)
    if case_id is not None:
        waits = waits.filter(case_id=case_id)
    waiting_case = waits.values_list("case_id", flat=True).first()
    if waiting_case is None:
        raise _not_waiting(execution)
    case = case_lock(case_id=waiting_case, with_state=True)
    wait = ReceiveWait.objects.filter(case=case, spiff_task_id=execution).first()
    if wait is None or not case.is_running:
        raise _not_waiting(execution)
    return case, wait


def receive_signal(
    *,
    user: Any,
    execution_id: UUID | str,
    data: Mapping[str, Any],
    case_id: UUID | None = None,
) -> Case:
    """Continue the receive task waiting as `execution_id`, `data` set first.

    With `case_id`, only a receive task of that case (the case page's button).

    Exactly once: the case lock is taken and the wait looked up again under
    it, so of two signals for one execution the second finds it gone.

    Raises:
        ActionNotAllowed: the user lacks `engine.signal_receive`.
        FormInvalid: `data` is not an object of variables.
        ReceiveNotWaiting: no receive task waits as that execution (any more).
        CaseSuspended: the case is suspended.
        CaseBusy: the case stayed locked too long.
    """
    receive_signal_check(user)
    _check_variables(data)
    try:
        execution = UUID(str(execution_id))
    except ValueError:
        raise _not_waiting(execution_id) from None
    with transaction.atomic():
        case, wait = _locked_wait(execution, case_id)
        with case_scripts(case, user):
            try:
                outcome = workflow_signal_receive(
                    spec_for(case.version),
                    case.state.state,
                    task_id=str(execution),
                    payload=data,
                )
            except NotWaitingInState:
                raise _not_waiting(execution) from None
        case_audit(
            case,
            user,
            AuditAction.RECEIVE_SIGNALLED,
            task_ref=wait.bpmn_id,
            element=wait.bpmn_id,
            name=wait.element_name,
            execution=str(execution),
            data=dict(data),
        )
        case_advance(case, outcome, actor=user)
    return case
