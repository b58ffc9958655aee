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
    IncidentRetryUnsupported,
    IncidentSkipUnsupported,
)
from engine.models import Case, Incident, ServiceCall
from engine.selectors import case_processes
from engine.spec_cache import spec_for
from engine.spiff import (
    ServiceResultRejected,
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
from .message_sends import message_drop, message_resend
from .repairs import case_elements_modify
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
        retry_intervals=last.retry_intervals,
        external=last.external,  # fetchable again (Camunda: retries set above 0)
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


# SpiffWorkflow's note on a failure in a task's post-script: for a user task, its
# complete or end listeners, run as the person completed it.
_AT_COMPLETION = "Error occurred in the Post-Script"


def _retry_engine_step(case: Case, incident: Incident, user: Any) -> None:
    process = spec_for(case.version)
    if _AT_COMPLETION in incident.message and any(
        incident.bpmn_id in each.task_meta for each in case_processes(case=case)
    ):  # a child's user task is in the called version its child ran
        # Such a completion is refused now (case_complete_user_task); an
        # incident left from before would offer the task a second time.
        raise IncidentRetryUnsupported(
            f"This incident is a completion of the user task "
            f"'{incident.element_name or incident.bpmn_id}' whose complete or end "
            "listener failed; retrying would offer the task a second time. Choose "
            "one of its outgoing paths (the task counts as done), move the case in "
            "the cockpit, or cancel the case.",
            details={"element": incident.bpmn_id},
        )
    try:
        with case_scripts(case, user):
            outcome = workflow_retry(
                process, case.state.state, task_id=incident.spiff_task_id
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
    if not case.is_running and not incident_fixable_after_end(incident, case):
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    return case, incident


def incident_fixable_after_end(incident: Incident, case: Case) -> bool:
    """Return whether the incident can be fixed although its case has completed.

    A message incident can: the message was sent by a step that has completed
    (perhaps the case's end event), so re-sending or dropping it is still open.
    """
    return (
        incident.kind == Incident.Kind.MESSAGE and case.status == Case.Status.COMPLETED
    )


@transaction.atomic
def incident_retry(*, user: Any, incident_id: UUID | str) -> Incident:
    """Retry the failed step behind an open incident (process-admins).

    The incident stays open (`retrying`) until the step gets through; a failure
    adds an attempt to it.

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning, CaseBusy,
        IncidentRetryUnsupported.
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
    elif incident.kind == Incident.Kind.MESSAGE:
        message_resend(case, incident, user=user)
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
    except ServiceResultRejected as exc:  # its output parameters cannot map it
        message = f"This data cannot complete the step: {exc}."
        raise FormInvalid(message, details={"fields": {"data": [message]}}) from None
    except TaskNotReady as exc:
        if incident.kind == Incident.Kind.SERVICE:
            raise IncidentNotOpen(
                "The failed step is no longer waiting.", details={"reason": str(exc)}
            ) from None
        raise IncidentSkipUnsupported(
            "Only a failed service or script task can be completed with data; "
            "choose one of its outgoing paths, retry this step or cancel the case."
        ) from None


def _skip_by_flow(
    case: Case, incident: Incident, user: Any, flow: str, data: dict[str, Any]
) -> str:
    """Take `flow` out of the failed step instead of completing it; return its
    target's id. The step's own task is cancelled (its call discarded)."""
    outgoing = [
        f
        for f in spec_for(case.version).meta.sequence_flows
        if f.source == incident.bpmn_id
    ]
    chosen = next((f for f in outgoing if f.id == flow), None)
    if chosen is None:
        choices = ", ".join(f.id for f in outgoing) or "none"
        message = (
            f"'{flow}' is not a sequence flow out of "
            f"{incident.element_name or incident.bpmn_id}; choose one of: {choices}."
        )
        raise FormInvalid(
            message,
            details={
                "fields": {"flow": [message]},
                "choices": [f.id for f in outgoing],
            },
        )
    incident_resolve(case, incident, actor=user, resolution="path")
    case_elements_modify(
        case=case,
        actor=user,
        instructions=[
            ("cancel_task", incident.spiff_task_id),
            ("start_transition", chosen.id),
        ],
        data=data,
    )
    return chosen.target


@transaction.atomic
def incident_skip(
    *,
    user: Any,
    incident_id: UUID | str,
    data: Mapping[str, Any] | None,
    flow: str = "",
    reason: str = "",
) -> Incident:
    """Complete the failed step with `data`, or take an outgoing `flow` (admins).

    Without `flow`: a service task's `data` becomes the call's result (its result
    variable, its output parameters, or merged into the case variables, as a result
    is); a script task's `data` is merged into the case's variables, as if the
    script had set them. With `flow` (a sequence flow id out of the failed element,
    e.g. past a gateway whose condition failed): the step does not complete; a
    token takes that flow with `data` merged into the case variables. The case
    moves on. Audited with who, why, and the active elements before and after. A
    message nothing took is dropped (`data` is not used).

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning,
        IncidentSkipUnsupported, CaseBusy, ModificationRefused.
        FormInvalid: `data` is not a JSON object (None: it did not parse), or
            `flow` does not leave the failed element.
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
    if incident.kind == Incident.Kind.MESSAGE:
        message_drop(case, incident, user=user)  # the sending step has completed
        return incident
    before = list(case.active_elements)
    taken: dict[str, Any] = {}
    if flow:
        target = _skip_by_flow(case, incident, user, flow, dict(data))
        taken = {"flow": flow, "target": target}
    else:
        with case_scripts(case, user):
            outcome = _skip_outcome(case, incident, dict(data))
        incident_resolve(case, incident, actor=user, resolution="skip")
        case_advance(
            case, outcome, actor=user, completed_task_id=incident.spiff_task_id
        )
    case_audit(
        case,
        user,
        AuditAction.INCIDENT_SKIPPED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        fields=sorted(data),
        data=dict(data),
        reason=reason,
        **taken,
        before={"active": before},
        after={"active": list(case.active_elements), "status": case.status},
    )
    return incident


@transaction.atomic
def incident_cancel_case(
    *,
    user: Any,
    incident_id: UUID | str,
    reason: str = "",
    skip_custom_listeners: bool = False,
) -> Incident:
    """Cancel the case an open incident stopped; its open incidents resolve.
    Its end listeners run unless skipped (`case_cancel`).

    Raises:
        IncidentNotFound, ActionNotAllowed, IncidentNotOpen, CaseNotRunning, CaseBusy,
        CancellationFailed.
    """
    case, incident = _locked_open_incident(user, incident_id)
    case_cancel(
        user=user,
        case_id=case.pk,
        reason=reason or f"incident at {incident.element_name or incident.bpmn_id}",
        skip_custom_listeners=skip_custom_listeners,
    )
    incident.refresh_from_db()
    return incident
