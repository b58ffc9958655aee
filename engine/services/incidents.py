"""Retry the failed step behind an incident."""

from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from engine import permissions
from engine.errors import (
    ActionNotAllowed,
    CaseNotRunning,
    IncidentNotFound,
    IncidentNotOpen,
)
from engine.models import Case, Incident, ServiceCall
from engine.spec_cache import spec_for
from engine.spiff import TaskNotReady, workflow_retry

from .advance import case_advance, case_audit, case_lock, service_calls_enqueue


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
    case_audit(
        case,
        user,
        AuditAction.SERVICE_RETRIED,
        task_ref=call.bpmn_id,
        call=call.pk,
        epoch=call.epoch,
    )
    transaction.on_commit(lambda: service_calls_enqueue([call.pk]))


def _retry_engine_step(case: Case, incident: Incident, user: Any) -> None:
    try:
        outcome = workflow_retry(
            spec_for(case.version), case.state.state, task_id=incident.spiff_task_id
        )
    except TaskNotReady as exc:
        raise IncidentNotOpen(
            "The failed step is no longer waiting for a retry.",
            details={"reason": str(exc)},
        ) from None
    case_advance(case, outcome, actor=user)


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
    case_audit(
        case,
        user,
        AuditAction.INCIDENT_RESOLVED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        resolution="retry",
    )
    if incident.kind == Incident.Kind.SERVICE:
        _retry_service_call(case, incident, user)
        case.save(update_fields=["has_incident"])
    else:
        _retry_engine_step(case, incident, user)
    return incident
