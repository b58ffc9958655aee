"""The service-call outbox: begin, execute (no lock held) and apply a result."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.spiff import TaskNotReady as SpiffTaskNotReady
from engine.spiff import workflow_apply_service_result

from .models import Case, Incident, ServiceCall
from .operations import operation_get
from .services import _apply_outcome, _audit, case_lock
from .spec_cache import spec_for

_RUNNABLE = (ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING)


@transaction.atomic
def service_call_begin(*, call_id: int) -> ServiceCall | None:
    """Mark a call running (attempt + 1); return None if it already finished.

    A RUNNING call is run again: its worker died before applying a result, and the
    broker redelivered it (at-least-once; the operation gets the same idempotency key).
    """
    call = (
        ServiceCall.objects.select_for_update()
        .select_related("case")
        .filter(pk=call_id)
        .first()
    )
    if call is None or call.status not in _RUNNABLE:
        return None
    call.status, call.attempts = ServiceCall.Status.RUNNING, call.attempts + 1
    call.save(update_fields=["status", "attempts", "updated_at"])
    return call


def service_call_sweep(*, older_than: timedelta) -> list[int]:
    """Return the ids of calls that were never picked up or whose worker vanished."""
    stale = timezone.now() - older_than
    return list(
        ServiceCall.objects.filter(status__in=_RUNNABLE, updated_at__lt=stale)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:500]
    )


def service_call_execute(*, call: ServiceCall) -> tuple[bool, Any]:
    """Call the registered operation with no transaction or lock held."""
    func = operation_get(call.operation)
    if func is None:
        return False, f"operation '{call.operation}' is not registered"
    try:
        return True, func(idempotency_key=call.idempotency_key, **call.params)
    except Exception as exc:  # noqa: BLE001 - any operation failure is recorded, not raised
        return False, f"{type(exc).__name__}: {exc}"


def _service_incident(case: Any, call: ServiceCall) -> None:
    incident = Incident.objects.create(
        case=case,
        kind="service",
        spiff_task_id=str(call.spiff_task_id),
        bpmn_id=call.bpmn_id,
        element_name=call.bpmn_id,
        error_type="ServiceCallFailed",
        message=call.last_error,
    )
    Case.objects.filter(pk=case.pk).update(has_incident=True)
    _audit(
        case,
        None,
        "incident.opened",
        task_ref=call.bpmn_id,
        incident=str(incident.pk),
        error_type="ServiceCallFailed",
        message=call.last_error,
    )


@transaction.atomic
def service_call_apply(*, call_id: int, ok: bool, value: Any) -> None:
    """Apply a call's result to its case (once: a repeated result is ignored)."""
    case_id = ServiceCall.objects.values_list("case_id", flat=True).get(pk=call_id)
    case = case_lock(case_id=case_id)
    call = ServiceCall.objects.select_for_update().get(pk=call_id)
    if call.status != ServiceCall.Status.RUNNING or not case.is_running:
        return
    if not ok:
        call.status, call.last_error = ServiceCall.Status.FAILED, str(value)
        call.save(update_fields=["status", "last_error"])
        _audit(case, None, "service.failed", task_ref=call.bpmn_id, error=str(value))
        _service_incident(case, call)
        return
    try:
        outcome = workflow_apply_service_result(
            spec_for(case.version),
            case.state.state,
            task_id=str(call.spiff_task_id),
            result=value,
        )
    except SpiffTaskNotReady:
        return
    call.status, call.result = ServiceCall.Status.SUCCEEDED, value
    call.save(update_fields=["status", "result"])
    _audit(
        case, None, "service.succeeded", task_ref=call.bpmn_id, operation=call.operation
    )
    _apply_outcome(case, outcome, actor=None, completed_task_id=str(call.spiff_task_id))
