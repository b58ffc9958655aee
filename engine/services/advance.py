"""The advance core: every change to a case goes through one locked transaction.

atomic(): lock the Case row (`case_lock`) -> load its state onto the cached spec
(`spec_for`) -> apply the command and run the engine (an `engine.spiff` workflow_*
function, which also prunes finished branches) -> `case_advance`: record the steps,
open an incident, save the row and state, project (message subscriptions, the
service-call outbox, the `case_advanced` signal) and audit; enqueue on commit.

Cases, calls, messages, timers and incidents use only the public functions here.
"""

import functools
import json
import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, CharField, JSONField, QuerySet, Value
from django.utils import timezone

from audit.actions import AuditAction
from audit.services import audit_batch, audit_record
from common import json_text
from common.sql import (
    insert_statement,
    row_values,
    select_compiled,
    update_statement,
    write_later,
)
from engine.errors import CaseBusy, CaseNotFound, CaseSuspended
from engine.human_tasks import CaseAdvance
from engine.models import (
    Case,
    CaseState,
    Incident,
    MessageSubscription,
    ReceiveWait,
    ServiceCall,
    SignalSubscription,
)
from engine.operations import operation_registry
from engine.signals import case_advanced
from engine.spec_cache import spec_for
from engine.spiff import (
    AdvanceOutcome,
    FailureKind,
    process_has_receive_waits,
    process_waits_for_events,
)

from .timer_wake import TIMER_WAKE_TASK, timer_wake_later

SERVICE_CALL_TASK = "engine.service_call_run"
logger = logging.getLogger(__name__)


def _lock_timeout(cases: QuerySet[Case], timeout: str) -> QuerySet[Case]:
    """Bound the row-lock wait of `cases` by `timeout` ("5000ms"; PostgreSQL).

    `set_config(..., true)` is `SET LOCAL` evaluated in the locking statement's
    own filter, before its rows are locked: no round trip of its own.
    """
    if connection.vendor != "postgresql":
        return cases
    return cases.extra(  # noqa: S610 - a constant expression, the value a parameter
        where=["set_config('lock_timeout', %s, true) IS NOT NULL"], params=[timeout]
    )


# The version's documents: only a cold spec cache reads them (spec_for), lazily.
_VERSION_DOCUMENTS = ("version__original_xml", "version__normalized_xml")
# Columns no command run under the case lock reads (each would be read back
# by a query of its own): the version's upload record (its DMN files only on a
# cold spec cache, with its documents), the starter's account but for who they
# are (scripts' initiator, a task's assignee expression), the state's time.
# Not sent, nor parsed (a JSON column's json.loads, a timestamp's loader).
_UNREAD = (
    *(
        f"version__{name}"
        for name in (
            "name",
            "filename",
            "dmn_files",
            "checksum",
            "warnings",
            "uploaded_by",
            "uploaded_at",
            "status",
        )
    ),
    "version__definition__name",
    "version__definition__created_at",
    *(
        f"started_by__{name}"
        for name in (
            "password",
            "last_login",
            "is_superuser",
            "is_staff",
            "date_joined",
        )
    ),
)


def case_lock(
    *,
    case_id: UUID | str | None = None,
    human_task_id: UUID | str | None = None,
    allow_suspended: bool = False,
    with_state: bool = False,
) -> Case:
    """Lock and return the case row (blocking, bounded by ENGINE_LOCK_TIMEOUT_MS).

    The case is named by its id or by one of its human tasks' (one statement
    either way). `with_state` loads the case's state in the same statement.
    A suspended case refuses every command here, so every path obeys; only the
    repairs that resume or edit it pass `allow_suspended`.

    Raises:
        CaseNotFound: when there is no such case.
        CaseBusy: when the lock wait timed out.
        CaseSuspended: when the case is suspended and that is not allowed.
    """
    assert connection.in_atomic_block, "case_lock must run inside transaction.atomic()"
    by_task = human_task_id is not None
    try:
        ident = UUID(str(human_task_id if by_task else case_id))
        found = select_compiled(
            ("case_lock", by_task, with_state),
            functools.partial(_case_locking, by_task=by_task, with_state=with_state),
            ident,
            f"{int(settings.ENGINE_LOCK_TIMEOUT_MS)}ms",
        )
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", "") == "55P03":
            raise CaseBusy("The case is busy; try again in a moment.") from None
        raise
    except ValueError:
        raise CaseNotFound("No such case.") from None
    if not found:
        raise CaseNotFound("No such case.")
    case = found[0]
    if with_state and _state_stale(case):
        case.state.refresh_from_db()
    if case.status == Case.Status.SUSPENDED and not allow_suspended:
        raise CaseSuspended(
            "The case is suspended; a process admin must resume it first.",
            details={"case": str(case.pk)},
        )
    return case


def _case_locking(
    ident: UUID, timeout: str, *, by_task: bool, with_state: bool
) -> QuerySet[Case]:
    """The statement of `case_lock` (compiled once per shape: `select_compiled`)."""
    related = ("version__definition", "started_by", *(("state",) if with_state else ()))
    cases = (
        Case.objects.select_for_update(of=("self",))
        .select_related(*related)
        .defer(
            *_VERSION_DOCUMENTS,
            *_UNREAD,
            *(("state__updated_at",) if with_state else ()),
        )
        .filter(**{"human_tasks" if by_task else "pk": ident})
        .order_by()
    )
    return _lock_timeout(cases, timeout)


def _state_stale(case: Case) -> bool:
    # The state row is read with the case row but not locked: when the lock waited
    # for another command, PostgreSQL hands back the case row as that command left
    # it and the state row as it was before. Both carry the revision (_save).
    try:
        return case.state.revision != case.revision
    except CaseState.DoesNotExist:
        return False


def case_audit(
    case: Case,
    actor: Any,
    action: AuditAction,
    *,
    task_ref: str = "",
    on_behalf_of: str = "",
    **payload: Any,
) -> None:
    """Record an audit event about the case (process, version and task filled in)."""
    audit_record(
        actor=actor,
        action=action,
        on_behalf_of=on_behalf_of,
        case_id=case.pk,
        process_key=case.version.definition.key,
        version_id=case.version_id,
        task_ref=task_ref,
        payload=payload,
    )


def _record_steps(case: Case, outcome: AdvanceOutcome, skip_task: str | None) -> None:
    for step in outcome.steps:
        if step.task_id != skip_task:
            if case.started is not None and step.bpmn_id:
                case.started.completed[step.bpmn_id] = None
            _element_audit(
                case,
                AuditAction.ELEMENT_COMPLETED,
                step.bpmn_id,
                step.name,
                kind=step.kind,
            )


def _element_audit(
    case: Case, action: AuditAction, bpmn_id: str, name: str, **payload: Any
) -> None:
    """Audit, as the system, what happened at the element `bpmn_id` (`name`)."""
    case_audit(
        case, None, action, task_ref=bpmn_id, element=bpmn_id, name=name, **payload
    )


def _record_uncaught(case: Case, outcome: AdvanceOutcome) -> None:
    """Audit each BPMN error nothing caught: its path ended (uncaught_errors.py;
    Camunda 7 logs BpmnBehaviorLogger.missingBoundaryCatchEvent)."""
    for error in outcome.uncaught_errors:
        _element_audit(
            case,
            AuditAction.ERROR_UNCAUGHT,
            error.bpmn_id,
            error.element_name,
            code=error.code,
            message=error.message,
            outcome="no catching error event: its path ended as at a none end event",
        )


def _record_calls(case: Case, outcome: AdvanceOutcome) -> None:
    """Audit the version each call of another file's process started runs."""
    for bpmn_id, ref in outcome.called_versions:
        case_audit(
            case,
            None,
            AuditAction.CALL_STARTED,
            task_ref=bpmn_id,
            element=bpmn_id,
            called=f"{ref['key']} v{ref['version']}",
            key=ref["key"],
            version=ref["version"],
            version_id=ref["id"],
        )


def incident_open(
    case: Case,
    *,
    kind: Incident.Kind,
    spiff_task_id: str,
    bpmn_id: str,
    element_name: str,
    error_type: str,
    message: str,
    attempts: list[dict[str, Any]] | None = None,
) -> Incident:
    """Record what stopped a case (under its lock) and flag the case; audit it.

    A step that already has an unresolved incident (a retry failed again) keeps that
    one incident: the new failure is added to its attempts.
    """
    attempts = attempts or [{"at": timezone.now().isoformat(), "message": message}]
    incident = (
        Incident.objects.select_for_update()
        .filter(case=case, spiff_task_id=spiff_task_id, status=Incident.Status.OPEN)
        .first()
        if spiff_task_id
        else None
    )
    action = AuditAction.INCIDENT_RETRY_FAILED
    if incident is None:
        action = AuditAction.INCIDENT_OPENED
        incident = Incident(case=case, kind=kind, spiff_task_id=spiff_task_id)
    incident.bpmn_id, incident.element_name = bpmn_id, element_name
    incident.error_type, incident.message = error_type, message
    incident.attempts = [*incident.attempts, *attempts]
    incident.retrying = False
    incident.save()
    if case.started is not None and incident not in case.started.incidents:
        case.started.incidents.append(incident)
    case.has_incident = True
    Case.objects.filter(pk=case.pk).update(has_incident=True)
    case_audit(
        case,
        None,
        action,
        task_ref=bpmn_id,
        incident=str(incident.pk),
        error_type=error_type,
        message=message,
    )
    return incident


def incident_resolve(
    case: Case, incident: Incident, *, actor: Any, resolution: str
) -> None:
    """Mark an incident resolved (under the case lock) and audit how."""
    incident.status, incident.resolved_at = Incident.Status.RESOLVED, timezone.now()
    incident.resolution, incident.retrying = resolution, False
    incident.save(update_fields=["status", "resolved_at", "resolution", "retrying"])
    case.has_incident = case.incidents.filter(status=Incident.Status.OPEN).exists()
    Case.objects.filter(pk=case.pk).update(has_incident=case.has_incident)
    case_audit(
        case,
        actor,
        AuditAction.INCIDENT_RESOLVED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        resolution=resolution,
    )


def _open_incident(case: Case, outcome: AdvanceOutcome) -> None:
    """One incident per failed task of the advance (several tasks may fail as
    they are reached in one step: two branches of a fork)."""
    failures = (outcome.failure, *outcome.also_failed) if outcome.failure else ()
    for failure in failures:
        engine_limit = failure.kind is FailureKind.ENGINE_LIMIT
        incident_open(
            case,
            kind=Incident.Kind.ENGINE if engine_limit else Incident.Kind.SCRIPT,
            spiff_task_id=failure.task_id,
            bpmn_id=failure.bpmn_id,
            element_name=failure.name,
            error_type=failure.error_type,
            message=failure.message,
        )


def _queue_service_calls(case: Case, outcome: AdvanceOutcome) -> list[int]:
    """Write the outbox rows; return those a Celery worker runs.

    An operation with no Python callable registered is an external task: its row
    waits for an outside worker's fetchAndLock (engine.services.external_tasks).
    """
    queued = []
    registered = operation_registry()
    for pending in outcome.pending_service_calls:
        external = pending.operation not in registered
        call, created = ServiceCall.objects.get_or_create(
            case=case,
            spiff_task_id=pending.task_id,
            epoch=0,
            defaults={
                "bpmn_id": pending.bpmn_id,
                "operation": pending.operation,
                "params": pending.params,
                "max_attempts": pending.max_attempts,
                "backoff_seconds": pending.backoff_seconds,
                "retry_intervals": (
                    list(pending.retry_intervals)
                    if pending.retry_intervals is not None
                    else None
                ),
                "external": external,
            },
        )
        if not created:
            continue
        if not external:
            queued.append(call.pk)
        extra: dict[str, Any] = {"external": True} if external else {}
        case_audit(
            case,
            None,
            AuditAction.SERVICE_QUEUED,
            task_ref=pending.bpmn_id,
            operation=pending.operation,
            call=call.pk,
            **extra,
        )
    return queued


def _save(case: Case, outcome: AdvanceOutcome, *, create: bool = False) -> bool:
    """Save the case row and its state; return whether the case just completed."""
    case.revision += 1
    case.data = outcome.data
    case.active_elements = list(outcome.active_elements)
    case.next_timer_at = (
        datetime.fromisoformat(outcome.next_timer_at) if outcome.next_timer_at else None
    )
    completed = outcome.completed and case.status == Case.Status.RUNNING
    if completed:
        case.status, case.ended_at = Case.Status.COMPLETED, timezone.now()
    state = CaseState(
        case=case,
        state_json=_state_text(outcome.state),
        revision=case.revision,
        serializer_version=str(outcome.state.get("serializer_version", "")),
        updated_at=timezone.now(),
    )
    # The case row and its state; a case started in this advance is inserted
    # here, with its first state. Held back to go with the command's next
    # writes (write_later).
    if case._state.adding:
        written = insert_statement(Case, [case])
        case._state.adding = False
    else:
        written = update_statement(Case, row_values(case), pk=case.pk)
    rows = [("engine_case", case.pk)]
    if create:
        write_later([insert_statement(CaseState, [state]), written], rows=rows)
    else:
        values = {f: getattr(state, f) for f in _STATE_WRITTEN}
        state_written = update_statement(CaseState, values, case_id=case.pk)
        write_later([state_written, written], rows=rows)
    state._state.adding = False
    return completed


_STATE_WRITTEN = ("state_json", "revision", "serializer_version", "updated_at")
# json.dumps' text (its defaults), without the check for reference cycles: the
# state is a tree the adapter has just made (a few µs of a step's ~40).
_STATE_DUMPS = json.JSONEncoder(check_circular=False).encode


def _state_text(state: dict[str, Any]) -> str:
    """Return the state's JSON text: orjson's (~2 µs for a step's ~4 KB, against
    ~40 for json.dumps) when it holds no null but each task's absent parent
    (common.json_text: a NaN would be written as null), else json.dumps'."""
    text = json_text.dumps(state, nulls=_parentless(state))
    return text if text is not None else _STATE_DUMPS(state)


def _parentless(state: dict[str, Any]) -> int:
    """Return how many of the state's tasks have no parent (its Nones there)."""
    count = 0
    try:
        for workflow in (state, *state.get("subprocesses", {}).values()):
            for task in workflow["tasks"].values():
                count += task["parent"] is None
    except (AttributeError, KeyError, TypeError):  # not the serializer's shape
        return 0
    return count


def case_advance(
    case: Case,
    outcome: AdvanceOutcome,
    *,
    actor: Any,
    completed_task_id: str | None = None,
    create: bool = False,
    moved: bool = False,
) -> None:
    """Apply an engine outcome to the locked case: save, project and audit it.

    `completed_task_id` is the human or service task the command completed (its
    step is audited by the caller); `create` saves the first state of a new case;
    `moved` says the case has just moved to another version (its subscriptions
    are then always looked at).
    """
    with audit_batch():
        _advance(case, outcome, actor, completed_task_id, create=create, moved=moved)


def _advance(
    case: Case,
    outcome: AdvanceOutcome,
    actor: Any,
    completed_task_id: str | None,
    *,
    create: bool,
    moved: bool,
) -> None:
    if case.started is not None:
        case.started.advances += 1
    _record_steps(case, outcome, completed_task_id)
    _record_uncaught(case, outcome)
    _record_calls(case, outcome)
    _open_incident(case, outcome)
    timer_before = case.next_timer_at
    just_completed = _save(case, outcome, create=create)
    if case.next_timer_at != timer_before:
        timer_wake_later(TIMER_WAKE_TASK, case.pk, case.next_timer_at)
    messages, signals = _subscriptions(
        case, create=create, moved=moved or outcome.called_may_wait
    )
    _subscriptions_sync(case, outcome, messages)
    _receive_waits_sync(case, outcome, create=create, moved=moved)
    queued = _queue_service_calls(case, outcome)
    advance = CaseAdvance(
        case=case,
        actor=actor,
        completed_task_id=completed_task_id,
        data=outcome.data,
        outcome=outcome,
        signal_subscriptions=tuple(signals),
        new_case=create,
    )
    case_advanced.send(sender=Case, advance=advance)
    if just_completed:
        case_audit(case, None, AuditAction.CASE_COMPLETED, data=outcome.data)
    if queued:
        transaction.on_commit(lambda: service_calls_enqueue(queued))


def service_time_limits() -> tuple[float, float]:
    """Return the soft and hard time limits of one service call, in seconds.

    The hard one is at least a second after the soft one, so an operation always
    gets the chance to stop on `SoftTimeLimitExceeded` before its process is killed.
    """
    soft = float(settings.ENGINE_SERVICE_TIMEOUT_SECONDS)
    return soft, max(float(settings.ENGINE_SERVICE_HARD_TIMEOUT_SECONDS), soft + 1)


def service_calls_enqueue(
    call_ids: list[int], *, countdown: float | None = None
) -> None:
    """Send the service calls to the worker queue (after the commit).

    External tasks are never sent: an outside worker fetches them.
    """
    # By task name: engine.tasks imports this module. The transaction has
    # committed, so a broker failure must not fail the request: the outbox
    # sweep re-sends calls that were never picked up.
    external = set(
        ServiceCall.objects.filter(pk__in=call_ids, external=True).values_list(
            "pk", flat=True
        )
    )
    soft, hard = service_time_limits()
    for pk in call_ids:
        if pk in external:
            continue
        try:
            current_app.send_task(
                SERVICE_CALL_TASK,
                args=[pk],
                countdown=countdown,
                soft_time_limit=soft,
                time_limit=hard,
            )
        except Exception:  # noqa: BLE001 - any broker error; the row is the source of truth
            logger.warning(
                "could not enqueue service call %s; the outbox sweep will",
                pk,
                exc_info=True,
            )


def _subscriptions(
    case: Case, *, create: bool, moved: bool
) -> tuple[list[tuple], list[tuple]]:
    """Return the case's (message, signal) subscriptions, both in one query.

    None are read for a new case, nor for a case whose process has no message or
    signal event anywhere (it never had one, unless it has just moved from a
    version that had: `moved`).
    """
    if create or not (moved or process_waits_for_events(spec_for(case.version))):
        return [], []
    messages = MessageSubscription.objects.filter(case=case).values_list(
        Value("m", output_field=CharField()),
        "name",
        "bpmn_id",
        "correlation",
        "variables",
        "own_business_key",
        "business_key",
    )
    signals = SignalSubscription.objects.filter(case=case).values_list(
        Value("s", output_field=CharField()),
        "name",
        "bpmn_id",
        Value(None, output_field=JSONField()),
        Value(None, output_field=JSONField()),
        Value(False, output_field=BooleanField()),
        Value("", output_field=CharField()),
    )
    rows = messages.order_by().union(signals.order_by(), all=True)
    return (
        sorted((row[1:] for row in rows if row[0] == "m"), key=_message_row_order),
        sorted((row[1], row[2]) for row in rows if row[0] == "s"),
    )


def _message_row_order(row: tuple) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def _message_rows(outcome: AdvanceOutcome) -> list[tuple]:
    """Return the subscription rows of the messages the case waits for.

    Inside a called process: its variables, and its own business key ("":
    none) unless camunda:in businessKey passed the case's.
    """
    rows = []
    for m in outcome.waiting_messages:
        variables = m.variables if m.called else None
        own = m.called and not m.inherits_key
        key = (m.business_key or "") if own else ""
        rows.append((m.name, m.bpmn_id, m.correlation, variables, own, key))
    return sorted(rows, key=_message_row_order)


def _subscriptions_sync(case: Case, outcome: AdvanceOutcome, current: list) -> None:
    """Replace the case's message subscriptions with the messages it waits for."""
    wanted = _message_rows(outcome) if case.is_running else []
    if current == wanted:
        return
    MessageSubscription.objects.filter(case=case).delete()
    MessageSubscription.objects.bulk_create(
        MessageSubscription(
            case=case,
            name=name,
            bpmn_id=bpmn_id,
            correlation=corr,
            variables=variables,
            own_business_key=own,
            business_key=key,
        )
        for name, bpmn_id, corr, variables, own, key in wanted
    )


def _receive_waits_sync(
    case: Case, outcome: AdvanceOutcome, *, create: bool, moved: bool
) -> None:
    """Replace the case's receive waits with the receive tasks it waits at.

    Read only for a process that has a receive task without a message (or
    whose called processes may wait: `called_may_wait`, or that just moved).
    """
    wanted = {w.task_id: w for w in outcome.waiting_receives} if case.is_running else {}
    if not wanted and (
        create
        or not (
            moved
            or outcome.called_may_wait
            or process_has_receive_waits(spec_for(case.version))
        )
    ):
        return
    current = (
        set()
        if create
        else {
            str(pk) for pk in case.receive_waits.values_list("spiff_task_id", flat=True)
        }
    )
    gone = current - wanted.keys()
    if gone:
        ReceiveWait.objects.filter(case=case, spiff_task_id__in=gone).delete()
    created = ReceiveWait.objects.bulk_create(
        ReceiveWait(
            case=case,
            spiff_task_id=wait.task_id,
            bpmn_id=wait.bpmn_id,
            element_name=wait.name,
        )
        for task_id, wait in wanted.items()
        if task_id not in current
    )
    if create and case.started is not None:
        case.started.receive_waits = created  # the start's answer lists them
