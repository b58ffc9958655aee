"""The service-call outbox: begin, execute (no lock held) and apply a result.

A technical failure (an exception, a result that is not JSON, the soft time limit)
is retried with exponential backoff up to the call's attempts, then fails the call
and opens an incident. A `BusinessError` is thrown as a BPMN error at the task.
An external task's outcome (engine.services.external_tasks) goes through the same
`service_call_outcome`, with the retries its worker reported.
"""

import json
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import AuditAction
from engine.models import Case, Incident, ServiceCall
from engine.operations import BusinessError, operation_arguments, operation_get
from engine.secrets import secrets_redact
from engine.spec_cache import spec_for
from engine.spiff import (
    ServiceErrorNotCaught,
    ServiceResultRejected,
    TaskNotReady,
    workflow_apply_service_result,
    workflow_service_scope_names,
    workflow_throw_service_error,
)

from .advance import (
    case_advance,
    case_audit,
    case_lock,
    incident_open,
    incident_resolve,
    service_calls_enqueue,
)
from .script_host import case_scripts

_RUNNABLE = (ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING)
# A redelivered message may arrive a little before next_attempt_at (clock skew
# between machines); earlier than this it is a duplicate and is skipped.
_EARLY_TOLERANCE = timedelta(seconds=1)


def service_call_max_attempts(call: ServiceCall) -> int:
    """Return how many attempts the call gets (diagram override, else settings)."""
    if call.max_attempts is not None:
        return max(call.max_attempts, 1)
    return max(int(settings.ENGINE_SERVICE_MAX_ATTEMPTS), 1)


def service_call_backoff(call: ServiceCall) -> float:
    """Return the delay in seconds before the next attempt, after `call.attempts`.

    The diagram's retry cycle (camunda:failedJobRetryTimeCycle) gives each wait;
    otherwise it doubles from the base (diagram override, else settings).
    """
    if call.retry_intervals:
        index = min(max(call.attempts, 1), len(call.retry_intervals)) - 1
        return max(float(call.retry_intervals[index]), 0.0)
    base = (
        call.backoff_seconds
        if call.backoff_seconds is not None
        else float(settings.ENGINE_SERVICE_BACKOFF_SECONDS)
    )
    delay = max(base, 0.0) * 2 ** max(call.attempts - 1, 0)
    return min(delay, float(settings.ENGINE_SERVICE_BACKOFF_MAX_SECONDS))


@transaction.atomic
def service_call_begin(*, call_id: int) -> ServiceCall | None:
    """Mark a call running (attempt + 1); return None if it must not run now.

    A RUNNING call is run again once its row is older than ENGINE_OUTBOX_STALE_SECONDS:
    its worker died before applying a result, and the sweep or the broker sent it
    again (at-least-once; the operation gets the same idempotency key). Younger, it
    is a duplicate of a message another worker is running, and is skipped.
    One whose worker died on every allowed attempt fails with an incident instead of
    being redelivered forever. Locks the case first, then the call (ARCHITECTURE §4).
    """
    case_id = ServiceCall.objects.filter(pk=call_id).values_list("case_id", flat=True)
    if not case_id:
        return None
    case = case_lock(case_id=case_id[0])
    call = ServiceCall.objects.select_for_update().get(pk=call_id)
    if call.status not in _RUNNABLE:
        return None
    if (
        call.status == ServiceCall.Status.PENDING
        and call.next_attempt_at is not None
        and call.next_attempt_at > timezone.now() + _EARLY_TOLERANCE
    ):
        return None  # a duplicate of a message for a later attempt
    if not case.is_running:
        _discard(case, call, "the case is no longer running")
        return None
    if call.status == ServiceCall.Status.RUNNING and call.updated_at > (
        timezone.now() - timedelta(seconds=settings.ENGINE_OUTBOX_STALE_SECONDS)
    ):
        # Another worker began it and may still be running it: a duplicate
        # message (two beats' sweeps, a broker redelivery), not a lost worker.
        # A worker that really died leaves the row to go stale; then it is re-run.
        return None
    if (
        call.status == ServiceCall.Status.RUNNING
        and call.attempts >= service_call_max_attempts(call)
    ):
        _technical_failure(
            case,
            call,
            f"the worker stopped while running it ({call.attempts} attempts)",
            retry_in=None,
        )
        return None
    call.status, call.attempts = ServiceCall.Status.RUNNING, call.attempts + 1
    call.save(update_fields=["status", "attempts", "updated_at"])
    case_audit(
        case,
        None,
        AuditAction.SERVICE_STARTED,
        task_ref=call.bpmn_id,
        call=call.pk,
        operation=call.operation,
        attempt=call.attempts,
        epoch=call.epoch,
    )
    call.case = case
    return call


def service_call_sweep(*, older_than: timedelta) -> list[int]:
    """Return the ids of calls that were never picked up or whose worker vanished.

    A call waiting for a retry counts as lost only `older_than` after its
    next_attempt_at: it is never re-sent before its backoff has passed.
    """
    stale = timezone.now() - older_than
    pending = ServiceCall.Status.PENDING
    return list(
        ServiceCall.objects.filter(
            Q(status=ServiceCall.Status.RUNNING, updated_at__lt=stale)
            | Q(status=pending, next_attempt_at__isnull=True, updated_at__lt=stale)
            | Q(status=pending, next_attempt_at__lt=stale),
            external=False,  # outside workers fetch external tasks themselves
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:500]
    )


def service_call_variables(
    call: ServiceCall, names: Collection[str] | None = None
) -> dict[str, Any]:
    """Return the variables the call's operation sees (all, or those in `names`).

    Camunda's rule, evaluated when the task started (`operation_variables` in
    engine.spiff): the task's input parameters, else every case variable. An
    external-task worker's fetchAndLock gets the same variables.
    """
    variables = dict(call.params or {})
    if names is None:
        return variables
    return {k: v for k, v in variables.items() if k in names}


def _not_json(value: Any) -> str | None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"the result is not JSON-serializable: {type(exc).__name__}: {exc}"
    return None


def service_call_execute(*, call: ServiceCall) -> tuple[bool, Any]:
    """Call the registered operation with no transaction or lock held.

    Returns (True, JSON result), (False, BusinessError) or (False, error text), each
    with every configured secret redacted (engine.secrets): none is stored or logged.
    """
    ok, value = _execute(call)
    if isinstance(value, BusinessError):
        redacted = BusinessError(
            secrets_redact(value.code),
            secrets_redact(value.message),
            secrets_redact(value.data),
            variables=secrets_redact(value.variables),
        )
        return ok, redacted
    return ok, secrets_redact(value)


def _execute(call: ServiceCall) -> tuple[bool, Any]:
    func = operation_get(call.operation)
    if func is None:
        return False, f"operation '{call.operation}' is not registered"
    try:
        arguments = operation_arguments(func, service_call_variables(call))
        value = func(idempotency_key=call.idempotency_key, **arguments)
    except BusinessError as exc:
        return False, exc
    except SoftTimeLimitExceeded:
        limit = settings.ENGINE_SERVICE_TIMEOUT_SECONDS
        return False, f"SoftTimeLimitExceeded: the call ran longer than {limit:g} s"
    except Exception as exc:  # noqa: BLE001 - any operation failure is recorded, not raised
        return False, f"{type(exc).__name__}: {exc}"
    problem = _not_json(value)
    return (False, problem) if problem else (True, value)


def _element_name(case: Case, bpmn_id: str) -> str:
    names = dict(spec_for(case.version).meta.element_names)
    return names.get(bpmn_id) or bpmn_id


def _service_incident(
    case: Any, call: ServiceCall, error_type: str = "ServiceCallFailed"
) -> None:
    retry = f"Retry {call.epoch}, attempt" if call.epoch else "Attempt"
    attempts = [
        {"at": e["at"], "message": f"{retry} {e['attempt']}: {e['message']}"}
        for e in call.errors
    ]
    incident_open(
        case,
        kind=Incident.Kind.SERVICE,
        spiff_task_id=str(call.spiff_task_id),
        bpmn_id=call.bpmn_id,
        element_name=_element_name(case, call.bpmn_id),
        error_type=error_type,
        message=call.last_error,
        attempts=attempts or None,
    )


def _resolve_incident_of(case: Case, call: ServiceCall) -> None:
    """Resolve the incident of the call's step: a retry of it got through."""
    for incident in Incident.objects.select_for_update().filter(
        case=case, spiff_task_id=str(call.spiff_task_id), status=Incident.Status.OPEN
    ):
        incident_resolve(case, incident, actor=None, resolution="retry")


def _discard(case: Case, call: ServiceCall, reason: str, actor: Any = None) -> None:
    # Terminal, so neither the sweep nor a redelivery runs the operation again.
    call.status, call.last_error = ServiceCall.Status.DISCARDED, reason
    call.lock_expires_at = None
    call.save(update_fields=["status", "last_error", "lock_expires_at", "updated_at"])
    case_audit(
        case,
        actor,
        AuditAction.SERVICE_DISCARDED,
        task_ref=call.bpmn_id,
        call=call.pk,
        reason=reason,
    )


def service_calls_discard(case: Case, *, task_ids: list[str], reason: str) -> None:
    """Discard the waiting calls of service tasks that no longer wait (under the
    case lock): neither the worker nor the sweep runs them again."""
    for call in ServiceCall.objects.select_for_update().filter(
        case=case, spiff_task_id__in=task_ids, status__in=_RUNNABLE
    ):
        _discard(case, call, reason)


def _policy_retry_in(call: ServiceCall) -> float | None:
    """Return the backoff before the next attempt, or None when none is left."""
    if call.attempts < service_call_max_attempts(call):
        return service_call_backoff(call)
    return None


def _technical_failure(
    case: Case,
    call: ServiceCall,
    error: str,
    *,
    retry_in: float | None,
    details: str = "",
    actor: Any = None,
) -> None:
    """Record a failed attempt; retry in `retry_in` seconds, or fail with an incident.

    A Python call's retry is sent to the worker with that countdown; an external
    task becomes fetchable again then (its worker decided `retry_in`).
    """
    call.last_error = error[:10000]
    entry = {
        "at": timezone.now().isoformat(),
        "attempt": call.attempts,
        "message": call.last_error,
    }
    call.errors = [*call.errors, {**entry, "details": details} if details else entry]
    call.lock_expires_at = None
    if retry_in is not None:
        call.status = ServiceCall.Status.PENDING
        call.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
        call.save(
            update_fields=[
                "status",
                "last_error",
                "errors",
                "next_attempt_at",
                "lock_expires_at",
                "retries",
                "updated_at",
            ]
        )
        case_audit(
            case,
            actor,
            AuditAction.SERVICE_RETRY_SCHEDULED,
            task_ref=call.bpmn_id,
            call=call.pk,
            attempt=call.attempts,
            delay=retry_in,
            error=call.last_error,
        )
        if not call.external:
            pk = call.pk
            transaction.on_commit(
                lambda: service_calls_enqueue([pk], countdown=retry_in)
            )
        return
    call.status = ServiceCall.Status.FAILED
    call.save(
        update_fields=[
            "status",
            "last_error",
            "errors",
            "lock_expires_at",
            "retries",
            "updated_at",
        ]
    )
    case_audit(
        case,
        actor,
        AuditAction.SERVICE_FAILED,
        task_ref=call.bpmn_id,
        attempts=call.attempts,
        error=call.last_error,
    )
    _service_incident(case, call)


def _business_error(
    case: Case, call: ServiceCall, error: BusinessError, actor: Any = None
) -> None:
    case_audit(
        case,
        actor,
        AuditAction.SERVICE_BUSINESS_ERROR,
        task_ref=call.bpmn_id,
        call=call.pk,
        code=error.code,
        message=error.message,
    )
    process, state = spec_for(case.version), case.state.state
    # Camunda 7 sets them on the task's execution: a name local to the task's
    # scope (an input parameter) stays there and ends with the task.
    try:
        local = workflow_service_scope_names(
            process, state, task_id=str(call.spiff_task_id), bpmn_id=call.bpmn_id
        )
        variables = {k: v for k, v in error.variables.items() if k not in local}
        with case_scripts(case, actor):
            outcome = workflow_throw_service_error(
                process,
                state,
                task_id=str(call.spiff_task_id),
                code=error.code,
                message=error.message,
                data=error.data,
                variables=variables,
            )
    except TaskNotReady:
        _discard(
            case, call, "the service task is no longer waiting for a result", actor
        )
        return
    except ServiceErrorNotCaught:
        call.status, call.lock_expires_at = ServiceCall.Status.FAILED, None
        call.last_error = (
            f"Business error '{error.code}' was not caught by an error boundary event"
            + (f": {error.message}" if error.message else "")
        )
        call.save(
            update_fields=["status", "last_error", "lock_expires_at", "updated_at"]
        )
        _service_incident(case, call, error_type="BusinessErrorNotCaught")
        return
    call.status = ServiceCall.Status.BUSINESS_ERROR
    call.last_error = f"{error.code}: {error.message}" if error.message else error.code
    call.result, call.lock_expires_at = _business_payload(error), None
    call.save(
        update_fields=[
            "status",
            "last_error",
            "result",
            "lock_expires_at",
            "updated_at",
        ]
    )
    _resolve_incident_of(case, call)
    case_advance(case, outcome, actor=None, completed_task_id=str(call.spiff_task_id))


def _business_payload(error: BusinessError) -> dict[str, Any]:
    return json.loads(
        json.dumps(
            {"code": error.code, "message": error.message, "data": error.data},
            default=str,
        )
    )


@transaction.atomic
def service_call_apply(*, call_id: int, ok: bool, value: Any) -> None:
    """Apply a call's outcome to its case (once: a repeated outcome is ignored).

    `value` is the JSON result when `ok`, else a `BusinessError` (thrown as a BPMN
    error) or the error text of a technical failure (retried, then an incident).
    """
    case_id = ServiceCall.objects.values_list("case_id", flat=True).get(pk=call_id)
    case = case_lock(case_id=case_id)
    call = ServiceCall.objects.select_for_update().get(pk=call_id)
    if call.status != ServiceCall.Status.RUNNING:
        return
    service_call_outcome(
        case, call, ok=ok, value=value, retry_in=_policy_retry_in(call)
    )


def service_call_outcome(
    case: Case,
    call: ServiceCall,
    *,
    ok: bool,
    value: Any,
    retry_in: float | None,
    details: str = "",
    actor: Any = None,
    local: Mapping[str, Any] | None = None,
) -> None:
    """Apply the outcome of a RUNNING call; the caller holds the case and call locks.

    `retry_in` is when a technical failure is tried again (None: the call fails
    and an incident opens); `details` are kept with the failed attempt. `actor`
    is who reported it (an external task's worker user; None: the system).
    `local` are set on the task's execution (an external task's
    localVariables, `service_tasks.service_variables`): its own scope, or the
    case; LocalVariablesRefused where Laneway cannot place them.
    """
    if not case.is_running:
        _discard(case, call, "the case is no longer running", actor)
        return
    if isinstance(value, BusinessError):
        _business_error(case, call, value, actor)
        return
    if not ok:
        _technical_failure(
            case, call, str(value), retry_in=retry_in, details=details, actor=actor
        )
        return
    try:
        with case_scripts(case, actor):
            outcome = workflow_apply_service_result(
                spec_for(case.version),
                case.state.state,
                task_id=str(call.spiff_task_id),
                result=value,
                local=local,
            )
    except TaskNotReady:
        _discard(
            case, call, "the service task is no longer waiting for a result", actor
        )
        return
    except ServiceResultRejected as exc:
        # A worker's result does not improve by fetching the task again: an
        # external task fails at once; a Python call is retried as any failure.
        _technical_failure(
            case,
            call,
            f"The result cannot be applied: {exc}",
            retry_in=None if call.external else retry_in,
            actor=actor,
        )
        return
    call.status, call.result = ServiceCall.Status.SUCCEEDED, value
    call.lock_expires_at = None
    call.save(update_fields=["status", "result", "lock_expires_at", "updated_at"])
    case_audit(
        case,
        actor,
        AuditAction.SERVICE_SUCCEEDED,
        task_ref=call.bpmn_id,
        operation=call.operation,
        **({"worker": call.worker_id} if call.external else {}),
    )
    _resolve_incident_of(case, call)
    case_advance(case, outcome, actor=None, completed_task_id=str(call.spiff_task_id))
