"""Start, advance and cancel cases: every change goes through one locked transaction.

atomic(): lock the Case row -> load state onto the cached spec -> apply the command
-> run the engine -> save state -> project (signal) -> audit; enqueue on commit.
"""

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from audit.services import audit_record
from engine.spiff import (
    AdvanceOutcome,
    workflow_cancel,
    workflow_complete_user_task,
    workflow_retry,
    workflow_start,
)
from engine.spiff import TaskNotReady as SpiffTaskNotReady
from processes.selectors import version_get

from . import permissions
from .errors import (
    ActionNotAllowed,
    CaseBusy,
    CaseNotFound,
    CaseNotRunning,
    IncidentNotFound,
    IncidentNotOpen,
    StartNotAllowed,
    TaskNotReady,
)
from .forms import form_clean
from .models import Case, CaseState, Incident, ServiceCall
from .signals import case_advanced
from .spec_cache import spec_for
from .subscriptions import message_subscriptions_sync

SERVICE_CALL_TASK = "engine.service_call_run"
logger = logging.getLogger(__name__)


def _set_lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL lock_timeout = '{int(settings.ENGINE_LOCK_TIMEOUT_MS)}ms'"
            )


def case_lock(*, case_id: UUID | str) -> Case:
    """Lock and return the case row (blocking, bounded by ENGINE_LOCK_TIMEOUT_MS).

    Raises:
        CaseNotFound: when there is no such case.
        CaseBusy: when the lock wait timed out.
    """
    assert connection.in_atomic_block, "case_lock must run inside transaction.atomic()"
    _set_lock_timeout()
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("version__definition", "started_by")
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError):
        raise CaseNotFound("No such case.") from None
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", "") == "55P03":
            raise CaseBusy("The case is busy; try again in a moment.") from None
        raise


def _audit(
    case: Case, actor: Any, action: str, *, task_ref: str = "", **payload: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        case_id=case.pk,
        process_key=case.version.definition.key,
        version_id=case.version_id,
        task_ref=task_ref,
        payload=payload,
    )


def _record_steps(case: Case, outcome: AdvanceOutcome, skip_task: str | None) -> None:
    for step in outcome.steps:
        if step.task_id != skip_task:
            _audit(
                case,
                None,
                "element.completed",
                task_ref=step.bpmn_id,
                element=step.bpmn_id,
                name=step.name,
                kind=step.kind,
            )


def incident_open(
    case: Case,
    *,
    kind: str,
    spiff_task_id: str,
    bpmn_id: str,
    element_name: str,
    error_type: str,
    message: str,
) -> Incident:
    """Record what stopped a case (under its lock) and flag the case; audit it."""
    incident = Incident.objects.create(
        case=case,
        kind=kind,
        spiff_task_id=spiff_task_id,
        bpmn_id=bpmn_id,
        element_name=element_name,
        error_type=error_type,
        message=message,
    )
    case.has_incident = True
    Case.objects.filter(pk=case.pk).update(has_incident=True)
    _audit(
        case,
        None,
        "incident.opened",
        task_ref=bpmn_id,
        incident=str(incident.pk),
        error_type=error_type,
        message=message,
    )
    return incident


def _open_incident(case: Case, outcome: AdvanceOutcome) -> None:
    failure = outcome.failure
    if failure is None:
        return
    engine_limit = failure.error_type in ("TreeTooDeep", "EngineStepLimit")
    incident_open(
        case,
        kind="engine" if engine_limit else "script",
        spiff_task_id=failure.task_id,
        bpmn_id=failure.bpmn_id,
        element_name=failure.name,
        error_type=failure.error_type,
        message=failure.message,
    )


def _queue_service_calls(case: Case, outcome: AdvanceOutcome) -> list[int]:
    queued = []
    for pending in outcome.pending_service_calls:
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
            },
        )
        if created:
            queued.append(call.pk)
            _audit(
                case,
                None,
                "service.queued",
                task_ref=pending.bpmn_id,
                operation=pending.operation,
                call=call.pk,
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
    case.save()
    defaults = {
        "state_json": json.dumps(outcome.state),
        "revision": case.revision,
        "serializer_version": str(outcome.state.get("serializer_version", "")),
    }
    if create:
        CaseState.objects.create(case=case, **defaults)
    else:
        CaseState.objects.filter(case=case).update(**defaults)
    return completed


def _apply_outcome(
    case: Case,
    outcome: AdvanceOutcome,
    *,
    actor: Any,
    completed_task_id: str | None = None,
    create: bool = False,
) -> None:
    _record_steps(case, outcome, completed_task_id)
    _open_incident(case, outcome)
    just_completed = _save(case, outcome, create=create)
    message_subscriptions_sync(case=case, outcome=outcome)
    queued = _queue_service_calls(case, outcome)
    case_advanced.send(
        sender=Case,
        case=case,
        outcome=outcome,
        actor=actor,
        completed_task_id=completed_task_id,
    )
    if just_completed:
        _audit(case, None, "case.completed", data=outcome.data)
    if queued:
        transaction.on_commit(lambda: _enqueue(queued))


def _enqueue(call_ids: list[int], *, countdown: float | None = None) -> None:
    # By task name: engine.tasks imports this module. The transaction has
    # committed, so a broker failure must not fail the request: the outbox
    # sweep re-sends calls that were never picked up.
    for pk in call_ids:
        try:
            current_app.send_task(
                SERVICE_CALL_TASK,
                args=[pk],
                countdown=countdown,
                soft_time_limit=settings.ENGINE_SERVICE_TIMEOUT_SECONDS,
            )
        except Exception:  # noqa: BLE001 - any broker error; the row is the source of truth
            logger.warning(
                "could not enqueue service call %s; the outbox sweep will",
                pk,
                exc_info=True,
            )


def case_start(
    *,
    user: Any,
    key: str,
    data: Mapping[str, Any],
    business_key: str = "",
    idempotency_key: str | None = None,
) -> tuple[Case, bool]:
    """Start a case of the latest version of `key`; return (case, created).

    A repeated idempotency key returns the case it started the first time.

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process.
        StartNotAllowed: the user may not start this process.
        FormInvalid: the start form rejects the data (nothing is started).
    """
    if idempotency_key:
        existing = Case.objects.filter(
            started_by=user, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    version = version_get(key=key)
    process = spec_for(version)
    if not permissions.can_start(user, process):
        raise StartNotAllowed(f"You may not start '{process.meta.name}'.")
    start_form = process.meta.start.form if process.meta.start else ()
    cleaned = form_clean(start_form, data)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                version=version,
                business_key=business_key or "",
                started_by=user,
                idempotency_key=idempotency_key or None,
            )
            _audit(
                case,
                user,
                "case.started",
                data=cleaned,
                business_key=business_key,
                version=version.number,
            )
            outcome = workflow_start(
                process, data=cleaned, initiator=user.get_username()
            )
            _apply_outcome(case, outcome, actor=user, create=True)
    except IntegrityError:
        if idempotency_key:
            return Case.objects.get(
                started_by=user, idempotency_key=idempotency_key
            ), False
        raise
    return case, True


def case_complete_user_task(
    *,
    case: Case,
    spiff_task_id: str,
    data: Mapping[str, Any],
    actor: Any,
    task_ref: str,
) -> AdvanceOutcome:
    """Complete a READY human task of a locked case and advance it.

    The caller holds the case lock and has checked permissions and the form.

    Raises:
        CaseNotRunning: the case has ended.
        TaskNotReady: the task is no longer READY.
    """
    assert connection.in_atomic_block
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    process = spec_for(case.version)
    try:
        outcome = workflow_complete_user_task(
            process, case.state.state, task_id=spiff_task_id, data=data
        )
    except SpiffTaskNotReady as exc:
        raise TaskNotReady(
            "This task is no longer open.", details={"reason": str(exc)}
        ) from None
    _audit(case, actor, "task.completed", task_ref=task_ref, data=dict(data))
    _apply_outcome(case, outcome, actor=actor, completed_task_id=spiff_task_id)
    return outcome


@transaction.atomic
def case_cancel(*, user: Any, case_id: UUID | str, reason: str = "") -> Case:
    """Cancel a running case and close its open tasks.

    Raises:
        CaseNotFound, ActionNotAllowed, CaseNotRunning, CaseBusy.
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
    outcome = workflow_cancel(spec_for(case.version), case.state.state)
    case.status, case.ended_at = Case.Status.CANCELLED, timezone.now()
    _audit(case, user, "case.cancelled", reason=reason)
    _apply_outcome(case, outcome, actor=user)
    return case


def _retry_service_call(case: Case, incident: Incident, user: Any) -> None:
    last = (
        ServiceCall.objects.filter(case=case, spiff_task_id=incident.spiff_task_id)
        .order_by("-epoch")
        .first()
    )
    if last is None:
        raise IncidentNotOpen("There is no service call to retry.")
    call = ServiceCall.objects.create(
        case=case,
        spiff_task_id=last.spiff_task_id,
        bpmn_id=last.bpmn_id,
        operation=last.operation,
        params=last.params,
        epoch=last.epoch + 1,
        max_attempts=last.max_attempts,
        backoff_seconds=last.backoff_seconds,
    )
    _audit(
        case,
        user,
        "service.retried",
        task_ref=call.bpmn_id,
        call=call.pk,
        epoch=call.epoch,
    )
    transaction.on_commit(lambda: _enqueue([call.pk]))


def _retry_engine_step(case: Case, incident: Incident, user: Any) -> None:
    try:
        outcome = workflow_retry(
            spec_for(case.version), case.state.state, task_id=incident.spiff_task_id
        )
    except SpiffTaskNotReady as exc:
        raise IncidentNotOpen(
            "The failed step is no longer waiting for a retry.",
            details={"reason": str(exc)},
        ) from None
    _apply_outcome(case, outcome, actor=user)


@transaction.atomic
def incident_retry(*, user: Any, incident_id: UUID | str) -> Incident:
    """Retry the failed step behind an open incident (process-admins).

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning, CaseBusy.
    """
    try:
        case_id = Incident.objects.values_list("case_id", flat=True).get(pk=incident_id)
    except (Incident.DoesNotExist, ValueError):
        raise IncidentNotFound("No such incident.") from None
    case = case_lock(case_id=case_id)
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if not permissions.can_view_case(user, case):
        raise IncidentNotFound("No such incident.")
    if not user.has_perm("engine.retry_incident"):
        raise ActionNotAllowed("Only process admins may retry incidents.")
    if incident.status != Incident.Status.OPEN:
        raise IncidentNotOpen("This incident is already resolved.")
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    incident.status, incident.resolved_at = Incident.Status.RESOLVED, timezone.now()
    incident.save(update_fields=["status", "resolved_at"])
    case.has_incident = case.incidents.filter(status=Incident.Status.OPEN).exists()
    _audit(
        case,
        user,
        "incident.resolved",
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        resolution="retry",
    )
    if incident.kind == "service":
        _retry_service_call(case, incident, user)
        case.save(update_fields=["has_incident"])
    else:
        _retry_engine_step(case, incident, user)
    return incident
