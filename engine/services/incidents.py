"""Fix what stopped a case: retry the failed step, skip it with data, or cancel.

An incident stays open until its step gets through: a retry that fails again adds
an attempt to the same incident (engine.services.advance.incident_open).
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.db import transaction

from audit.actions import AuditAction
from engine import permissions
from engine.errors import (
    ActionNotAllowed,
    CaseNotRunning,
    FormInvalid,
    IncidentNotFound,
    IncidentNotOpen,
    IncidentSkipUnsupported,
)
from engine.models import Case, Incident, ServiceCall
from engine.spec_cache import spec_for
from engine.spiff import (
    TaskNotReady,
    workflow_apply_service_result,
    workflow_complete_failed_task,
    workflow_retry,
)

from .advance import (
    case_advance,
    case_audit,
    case_lock,
    incident_resolve,
    service_calls_enqueue,
)
from .cases import case_cancel
from .script_host import case_scripts


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
        with case_scripts(case, user):
            outcome = workflow_retry(
                spec_for(case.version), case.state.state, task_id=incident.spiff_task_id
            )
    except TaskNotReady as exc:
        raise IncidentNotOpen(
            "The failed step is no longer waiting for a retry.",
            details={"reason": str(exc)},
        ) from None
    case_advance(case, outcome, actor=user)
    incident.refresh_from_db()
    if incident.retrying:  # the step did not fail again
        incident_resolve(case, incident, actor=user, resolution="retry")


def _locked_open_incident(user: Any, incident_id: UUID | str) -> tuple[Case, Incident]:
    try:
        case_id = Incident.objects.values_list("case_id", flat=True).get(pk=incident_id)
    except (Incident.DoesNotExist, ValueError):
        raise IncidentNotFound("No such incident.") from None
    case = case_lock(case_id=case_id)
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if not permissions.can_view_case(user, case):
        raise IncidentNotFound("No such incident.")
    if not user.has_perm("engine.retry_incident"):
        raise ActionNotAllowed("Only process admins may fix incidents.")
    if incident.status != Incident.Status.OPEN:
        raise IncidentNotOpen("This incident is already resolved.")
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    return case, incident


@transaction.atomic
def incident_retry(*, user: Any, incident_id: UUID | str) -> Incident:
    """Retry the failed step behind an open incident (process-admins).

    The incident stays open (`retrying`) until the step gets through; a failure
    adds an attempt to it.

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning, CaseBusy.
    """
    case, incident = _locked_open_incident(user, incident_id)
    if incident.retrying:
        raise IncidentNotOpen("A retry of this step is already running.")
    incident.retrying = True
    incident.save(update_fields=["retrying"])
    case_audit(
        case,
        user,
        AuditAction.INCIDENT_RETRY_REQUESTED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
    )
    if incident.kind == Incident.Kind.SERVICE:
        _retry_service_call(case, incident, user)
    else:
        _retry_engine_step(case, incident, user)
    incident.refresh_from_db()
    return incident


def _skip_outcome(case: Case, incident: Incident, data: dict[str, Any]) -> Any:
    process, state = spec_for(case.version), case.state.state
    try:
        if incident.kind == Incident.Kind.SERVICE:
            return workflow_apply_service_result(
                process, state, task_id=incident.spiff_task_id, result=data
            )
        return workflow_complete_failed_task(
            process, state, task_id=incident.spiff_task_id, data=data
        )
    except TaskNotReady as exc:
        if incident.kind == Incident.Kind.SERVICE:
            raise IncidentNotOpen(
                "The failed step is no longer waiting.", details={"reason": str(exc)}
            ) from None
        raise IncidentSkipUnsupported(
            "Only a failed service or script task can be completed with data; "
            "retry this step or cancel the case."
        ) from None


@transaction.atomic
def incident_skip(
    *, user: Any, incident_id: UUID | str, data: Mapping[str, Any] | None
) -> Incident:
    """Complete the failed step with `data` instead of running it (process-admins).

    A service task: `data` becomes the call's result (its result variable). A script
    task: `data` is merged into the case's variables, as if the script had set them.
    The case moves on. A failed gateway condition cannot be skipped (it would have to
    choose a path).

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning,
        IncidentSkipUnsupported, CaseBusy.
        FormInvalid: `data` is not a JSON object (None: it did not parse).
    """
    case, incident = _locked_open_incident(user, incident_id)
    if not isinstance(data, Mapping):
        message = "Enter the result as a JSON object, e.g. {}."
        raise FormInvalid(message, details={"fields": {"data": [message]}})
    if incident.kind == Incident.Kind.ENGINE:
        raise IncidentSkipUnsupported(
            "A step stopped by an engine limit cannot be skipped; cancel the case."
        )
    if incident.retrying:
        raise IncidentNotOpen("A retry of this step is running; wait for it.")
    outcome = _skip_outcome(case, incident, dict(data))
    case_audit(
        case,
        user,
        AuditAction.INCIDENT_SKIPPED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        fields=sorted(data),
        data=dict(data),
    )
    incident_resolve(case, incident, actor=user, resolution="skip")
    case_advance(case, outcome, actor=user, completed_task_id=incident.spiff_task_id)
    return incident


@transaction.atomic
def incident_cancel_case(
    *, user: Any, incident_id: UUID | str, reason: str = ""
) -> Incident:
    """Cancel the case an open incident stopped; its open incidents resolve.

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning, CaseBusy.
    """
    case, incident = _locked_open_incident(user, incident_id)
    case_cancel(
        user=user,
        case_id=case.pk,
        reason=reason or f"incident at {incident.element_name or incident.bpmn_id}",
    )
    incident.refresh_from_db()
    return incident
