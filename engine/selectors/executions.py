"""Read the executions waiting at a receive task without a message (what a
signal continues), as the case's reader may see them.

Camunda 7 finds them with ExecutionRestService.getExecutions
(GET /execution?processInstanceId=...&activityId=...) and getExecution
(GET /execution/{id}); Laneway's executions are its `ReceiveWait` rows, so
only those are listed: an execution waiting elsewhere (a user task, a timer)
is not one a signal could continue.
"""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from ..errors import ReceiveNotWaiting
from ..models import Case, ReceiveWait
from ..permissions import SIGNAL_RECEIVE
from .cases import cases_visible

_OPEN = (Case.Status.RUNNING, Case.Status.SUSPENDED)


def receive_wait_list_for_user(
    *,
    user: Any,
    case_id: UUID | None = None,
    bpmn_id: str | None = None,
    business_key: str | None = None,
    process_key: str | None = None,
) -> QuerySet[ReceiveWait]:
    """Return the receive waits of the open cases the user may see, oldest first,
    narrowed by case, element, business key and process key when given.

    Whoever may signal a receive task (`engine.signal_receive`: an integration
    account) sees every wait, as it must find the execution it continues."""
    cases = Case.objects.filter(status__in=_OPEN)
    if not user.has_perm(SIGNAL_RECEIVE):
        cases = cases_visible(user, cases)
    if case_id is not None:
        cases = cases.filter(pk=case_id)
    if business_key is not None:
        cases = cases.filter(business_key=business_key)
    if process_key is not None:
        cases = cases.filter(version__definition__key=process_key)
    waits = ReceiveWait.objects.filter(case__in=cases.values("pk"))
    if bpmn_id is not None:
        waits = waits.filter(bpmn_id=bpmn_id)
    return waits.order_by("created_at", "pk")


def receive_wait_get(*, user: Any, execution_id: UUID | str) -> ReceiveWait:
    """Return the wait of execution `execution_id` if the user may see its case.

    Raises:
        ReceiveNotWaiting: nothing waits as it, or the user may not see its case.
    """
    try:
        execution = UUID(str(execution_id))
    except ValueError:
        execution = None
    found = (
        receive_wait_list_for_user(user=user).filter(spiff_task_id=execution).first()
        if execution is not None
        else None
    )
    if found is None:
        raise ReceiveNotWaiting(
            f"Execution with id {execution_id} does not exist: no receive task "
            "you may see waits as it.",
            details={"execution": str(execution_id)},
        )
    return found
