"""Start, complete a human task of, and cancel cases."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actions import AuditAction, task_ref_element
from audit.services import audit_batch
from common.sql import default_connection
from common.uuids import uuid7
from engine import permissions
from engine.errors import (
    ActionNotAllowed,
    AssignmentListenerFailed,
    CancellationFailed,
    CaseNotFound,
    CaseNotRunning,
    StartNotAllowed,
    TaskCompletionFailed,
    TaskNoLongerOpen,
)
from engine.form_validation import start_form_clean
from engine.idempotency import case_replayed, request_fingerprint
from engine.models import Case, CaseStarted, Incident
from engine.selectors import process_hand_start_refusal, process_tasklist_start_check
from engine.spec_cache import spec_for
from engine.spiff import (
    AdvanceOutcome,
    EndListenerFailed,
    TaskNotReady,
    has_assignment_listener,
    workflow_assign,
    workflow_cancel,
    workflow_complete_user_task,
    workflow_start,
)
from engine.spiff import AssignmentListenerFailed as ListenerFailed
from processes.models import ProcessVersion
from processes.selectors import version_get

from .advance import case_advance, case_audit, case_lock, incident_resolve
from .script_host import case_scripts


def case_start(
    *,
    user: Any,
    key: str,
    data: Mapping[str, Any],
    business_key: str = "",
    idempotency_key: str | None = None,
    tasklist: bool = False,
) -> tuple[Case, bool]:
    """Start a case of the latest version of `key`; return (case, created).

    `tasklist`: the start comes from the start page, which does not start a
    version whose process is not startable in the tasklist (Camunda 7's
    camunda:isStartableInTasklist="false"; its REST API still starts it, and so
    does POST /api/v1/cases/).

    A repeated idempotency key returns the case it started the first time, if the
    request is the same.

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process.
        StartNotAllowed: the user may not start this process.
        NotStartableInTasklist: `tasklist`, and the process is not startable there.
        MessageStartOnly, StartOnlyByEvent: every start event waits for an event.
        FormInvalid: the start form rejects the data (nothing is started).
        IdempotencyKeyReused: the key started a case from a different request.
    """
    fingerprint = request_fingerprint(key=key, data=data, business_key=business_key)
    if idempotency_key:
        existing = case_replayed(
            user=user, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
        if existing is not None:
            return existing, False
    version = version_get(key=key, documents=False)  # only a cold spec reads them
    process = spec_for(version)
    if not permissions.can_start(user, process):
        raise StartNotAllowed(f"You may not start '{process.meta.name}'.")
    if tasklist:
        process_tasklist_start_check(version)
    refusal = process_hand_start_refusal(process)
    if refusal is not None:
        raise refusal
    cleaned = start_form_clean(version, process.meta.start, data)
    case_id = uuid7()  # Case's own default: time-ordered
    try:
        with transaction.atomic(), audit_batch(new_case=case_id):
            # Inserted once, by case_advance, with its first state.
            case = Case(
                id=case_id,
                version=version,
                business_key=business_key or "",
                started_by=user,
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint if idempotency_key else "",
            )
            case.started = CaseStarted()  # what the start's answer shows
            case_audit(
                case,
                user,
                AuditAction.CASE_STARTED,
                data=cleaned,
                business_key=business_key,
                version=version.number,
            )
            with case_scripts(case, user):
                started = workflow_start(
                    process, data=cleaned, initiator=user.get_username()
                )
            case_advance(case, started, actor=user, create=True)
    except IntegrityError:
        if idempotency_key:
            replayed = case_replayed(
                user=user, idempotency_key=idempotency_key, fingerprint=fingerprint
            )
            if replayed is not None:
                return replayed, False
        raise
    return case, True


def case_start_at_event(
    case: Case,
    actor: Any,
    start: Callable[[], AdvanceOutcome],
    *,
    data: dict[str, Any],
    audit: dict[str, Any],
    delivered: Callable[[Case], None] | None = None,
) -> Case:
    """Start `case` at one of its event start events and advance it.

    `start` runs the engine to that start event (with the case's scripts);
    the case is saved, `case.started` audited with `data`, the version and
    `audit` (the event's fields), then `delivered` (what else the event audits), then
    the outcome advanced: a message's, signal's, timer's or condition's start.
    """
    with case_scripts(case, actor):
        outcome = start()
    case.save(force_insert=True)
    case_audit(
        case,
        actor,
        AuditAction.CASE_STARTED,
        data=data,
        version=case.version.number,
        **audit,
    )
    if delivered is not None:
        delivered(case)
    case_advance(case, outcome, actor=actor, create=True)
    return case


def case_start_by_event_check(
    *, user: Any, versions: Iterable[ProcessVersion], event: str
) -> None:
    """Refuse what `user` sends when it would start a case they may not start.

    `event` says what would start the cases ("the message 'paid'"). As Camunda
    7 (CorrelateMessageCmd, CorrelateAllMessageCmd, SignalEventReceivedCmd
    check CREATE_INSTANCE on every definition they would start before they
    trigger anything), the whole command is refused: nothing is delivered,
    nothing starts. The process's declared starters decide
    (`permissions.can_start_by_event`): the integration accounts they name
    keep starting their processes.

    Raises:
        StartNotAllowed: naming the first process the user may not start.
    """
    for version in versions:
        process = spec_for(version)
        if not permissions.can_start_by_event(user, process):
            raise StartNotAllowed(
                f"You may not start '{process.meta.name}': {event} would start "
                "a case of it. Nothing was delivered.",
                details={"process": version.definition.key},
            )


@contextmanager
def _task_command(task_ref: str) -> Iterator[None]:
    """Say why a command on a human task was refused, in engine's errors."""
    try:
        yield
    except TaskNotReady as exc:
        raise TaskNoLongerOpen(
            "This task is no longer open.", details={"reason": str(exc)}
        ) from None
    except ListenerFailed as exc:
        element = task_ref_element(task_ref)
        raise AssignmentListenerFailed(
            f"The assignment listener of the task '{element}' failed: {exc}. "
            "Nothing was changed.",
            details={"element": element, "reason": str(exc)},
        ) from None


def case_complete_user_task(
    *,
    case: Case,
    spiff_task_id: str,
    data: Mapping[str, Any],
    actor: Any,
    task_ref: str,
    assignee: str | None = None,
) -> AdvanceOutcome:
    """Complete a READY human task of a locked case and advance it.

    The caller holds the case lock and has checked permissions and the form.
    `assignee` is set when completing assigns the task (it had nobody): its
    assignment listeners run first (`case_task_assigned`).

    Raises:
        CaseNotRunning: the case has ended.
        TaskNoLongerOpen: the task is no longer READY.
        AssignmentListenerFailed: an assignment listener failed.
        TaskCompletionFailed: the task's complete/end listener or an output
            parameter failed (the caller rolls back).
    """
    assert default_connection().in_atomic_block
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    process = spec_for(case.version)
    with (
        _task_command(task_ref),
        case_scripts(case, actor, completing=task_ref_element(task_ref)),
    ):
        outcome = workflow_complete_user_task(
            process,
            case.state.state,
            task_id=spiff_task_id,
            data=data,
            assignee=assignee,
        )
    failure = outcome.failure
    if failure is not None and failure.task_id == spiff_task_id:
        # The task's own completion failed: its complete or end listener, or an
        # output parameter. Camunda 7 runs them inside TaskService.complete,
        # so the call fails and nothing changes (whatever the task's async
        # settings); the task stays open with its assignee. (An incident here
        # could not be retried: the reset task would be offered a second time.)
        element = task_ref_element(task_ref)
        raise TaskCompletionFailed(
            f"The task '{failure.name or element}' could not be completed: "
            f"{failure.message.rstrip('. ')}. Nothing was changed; the task is "
            "still open.",
            details={"element": element, "reason": failure.message},
        )
    case_audit(
        case, actor, AuditAction.TASK_COMPLETED, task_ref=task_ref, data=dict(data)
    )
    case_advance(case, outcome, actor=actor, completed_task_id=spiff_task_id)
    return outcome


def case_task_assigned(
    *,
    case: Case,
    spiff_task_id: str,
    bpmn_id: str,
    assignee: str,
    actor: Any,
    task_ref: str,
) -> None:
    """The assignee of a READY human task of a locked case changed (claimed,
    assigned, delegated, given back: `assignee` "" for nobody): run its
    assignment listeners, as Camunda 7 does, once, now.

    What they set is shared at once with the case and its waiting tasks, and
    audited (case.data_changed, naming the task and the assignee). A task
    without assignment listeners costs nothing.

    Raises:
        CaseNotRunning: the case has ended.
        TaskNoLongerOpen: the task is no longer READY.
        AssignmentListenerFailed: a listener failed (the caller rolls back).
    """
    assert default_connection().in_atomic_block
    process = spec_for(case.version)
    if not has_assignment_listener(process, bpmn_id):
        return
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    before = dict(case.data)
    with _task_command(task_ref), case_scripts(case, actor):
        outcome = workflow_assign(
            process, case.state.state, task_id=spiff_task_id, assignee=assignee
        )
    after = dict(outcome.data)
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    if changed or set(before) - set(after):
        case_audit(
            case,
            actor,
            AuditAction.CASE_DATA_CHANGED,
            task_ref=task_ref,
            reason="assignment listener",
            assignee=assignee or None,
            set=changed,
            unset=sorted(set(before) - set(after)),
        )
    case_advance(case, outcome, actor=actor)


@transaction.atomic
def case_cancel(
    *,
    user: Any,
    case_id: UUID | str,
    reason: str = "",
    skip_custom_listeners: bool = False,
) -> Case:
    """Cancel a running case and close its open tasks.

    The end execution listeners of the activities active in it run first,
    innermost first (a called instance's before its call activity's), unless
    `skip_custom_listeners`: Camunda 7's RuntimeService.deleteProcessInstance
    and `DELETE /process-instance/{id}?skipCustomListeners=` (default false).
    What they set stays in the cancelled case's data.

    Raises:
        CaseNotFound, ActionNotAllowed, CaseNotRunning, CaseBusy.
        CancellationFailed: a listener failed; nothing changed (Camunda 7's
            deletion fails and its transaction rolls back).
    """
    case = case_lock(case_id=case_id)
    if not permissions.can_view_case(user, case):
        raise CaseNotFound("No such case.")
    if not permissions.can_cancel_case(user, case):
        raise ActionNotAllowed(
            "Only the requester or a process admin may cancel this case."
        )
    if not case.is_running:
        raise CaseNotRunning(
            f"The case is already {case.get_status_display().lower()}."
        )
    try:
        with case_scripts(case, user):
            outcome = workflow_cancel(
                spec_for(case.version),
                case.state.state,
                skip_custom_listeners=skip_custom_listeners,
            )
    except EndListenerFailed as exc:
        raise CancellationFailed(
            f"The case could not be cancelled: {exc}. Nothing was changed; "
            "cancel it skipping custom listeners to end it without them.",
            details={"reason": str(exc)},
        ) from None
    case.status, case.ended_at = Case.Status.CANCELLED, timezone.now()
    case_audit(
        case,
        user,
        AuditAction.CASE_CANCELLED,
        reason=reason,
        skip_custom_listeners=skip_custom_listeners,
    )
    for incident in case.incidents.select_for_update().filter(
        status=Incident.Status.OPEN
    ):
        incident_resolve(case, incident, actor=user, resolution="case_cancelled")
    case_advance(case, outcome, actor=user)
    return case
