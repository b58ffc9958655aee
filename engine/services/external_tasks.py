"""External tasks: Camunda 7's external-task pattern on the service-call outbox.

A service task whose operation has no Python callable registered is an external
task (`ServiceCall.external`): no Celery worker runs it. An outside worker, in any
language, fetches and locks it (`external_tasks_fetch`, long polling), works on
it with no lock held here, and reports the outcome: complete (its variables are
the task's result), failure (retried after the worker's retryTimeout while it
reports retries left, else an incident), BPMN error (thrown as the operation's
business error is). The outcome is applied by `calls.service_call_outcome`, so
exactly-once application, incidents and audit are the Python operations' own.

Locks: a fetch takes the case row with SKIP LOCKED (a busy case is left for the
next poll), then the call row, and re-checks that the call is still fetchable, so
two competing workers never lock the same task. A lock that expires makes the task
fetchable again (its worker may still complete it until another fetches it, as in
Camunda). No transaction is held while a fetch waits for work.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.actions import AuditAction
from engine.errors import (
    ActionNotAllowed,
    ExternalTaskNotFound,
    ExternalTaskNotLocked,
    FormInvalid,
)
from engine.models import Case, Incident, ServiceCall
from engine.operations import BusinessError
from engine.spiff import LocalVariablesRefused

from .advance import case_audit, case_lock
from .calls import service_call_outcome, service_call_variables

WORK_EXTERNAL_TASKS = "engine.work_external_tasks"
_ALIVE_CASE = (Case.Status.RUNNING, Case.Status.SUSPENDED)


@dataclass(frozen=True, slots=True)
class TopicRequest:
    """One topic of a fetchAndLock request, with Camunda's filters."""

    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None  # None: every variable
    business_key: str | None = None
    process_keys: tuple[str, ...] | None = None
    process_variables: dict[str, Any] | None = None  # equal values, all of them


@dataclass(frozen=True, slots=True)
class LockedTask:
    """An external task a worker just locked, with the variables it asked for."""

    call: ServiceCall
    variables: dict[str, Any]


def external_worker_check(user: Any) -> None:
    """Refuse anyone but an external worker (before reading a request's body).

    Raises:
        ActionNotAllowed: without the permission engine.work_external_tasks.
    """
    if not user.has_perm(WORK_EXTERNAL_TASKS):
        raise ActionNotAllowed(
            "Only external workers (permission engine.work_external_tasks, group "
            "integrations) may work on external tasks."
        )


def _fetchable(now: datetime) -> Q:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return Q(status=ServiceCall.Status.PENDING) & due | Q(
        status=ServiceCall.Status.RUNNING, lock_expires_at__lt=now
    )


def _is_fetchable(call: ServiceCall, now: datetime) -> bool:
    if call.status == ServiceCall.Status.PENDING:
        return call.next_attempt_at is None or call.next_attempt_at <= now
    return (
        call.status == ServiceCall.Status.RUNNING
        and call.lock_expires_at is not None
        and call.lock_expires_at < now
    )


def _topic_filter(topic: TopicRequest) -> Q:
    where = Q(operation=topic.name)
    if topic.business_key is not None:
        where &= Q(case__business_key=topic.business_key)
    if topic.process_keys is not None:
        where &= Q(case__version__definition__key__in=topic.process_keys)
    return where


def _matches(case: Case, topic: TopicRequest) -> bool:
    wanted = topic.process_variables or {}
    return all(case.data.get(k, object()) == v for k, v in wanted.items())


def _lock(
    case: Case, call: ServiceCall, *, user: Any, worker_id: str, lock_ms: int
) -> None:
    """Lock the call for the worker (one attempt, audited); both rows are locked."""
    now = timezone.now()
    expired_worker = call.worker_id if call.status == ServiceCall.Status.RUNNING else ""
    call.status, call.attempts = ServiceCall.Status.RUNNING, call.attempts + 1
    call.worker_id = worker_id
    call.lock_expires_at = now + timedelta(milliseconds=lock_ms)
    call.save(
        update_fields=[
            "status",
            "attempts",
            "worker_id",
            "lock_expires_at",
            "updated_at",
        ]
    )
    case_audit(
        case,
        user,
        AuditAction.SERVICE_STARTED,
        task_ref=call.bpmn_id,
        call=call.pk,
        topic=call.operation,
        worker=worker_id,
        attempt=call.attempts,
        lock_expires_at=call.lock_expires_at.isoformat(),
        **({"lock_expired_for": expired_worker} if expired_worker else {}),
    )


def _claim(
    user: Any, worker_id: str, candidate: ServiceCall, topic: TopicRequest
) -> LockedTask | None:
    """Lock one candidate for the worker; None when it is gone or busy."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version__definition")
            .filter(pk=candidate.case_id, status=Case.Status.RUNNING)
            .first()
        )
        if case is None or not _matches(case, topic):
            return None  # another worker or command holds the case: next poll
        call = ServiceCall.objects.select_for_update().get(pk=candidate.pk)
        now = timezone.now()
        if not _is_fetchable(call, now):
            return None
        _lock(case, call, user=user, worker_id=worker_id, lock_ms=topic.lock_ms)
        call.case = case
        return LockedTask(call, service_call_variables(call, topic.variables))


def _claim_some(
    user: Any, worker_id: str, topics: Sequence[TopicRequest], max_tasks: int
) -> list[LockedTask]:
    now = timezone.now()
    by_name = {t.name: t for t in topics}
    where = Q()
    for topic in topics:
        where |= _topic_filter(topic)
    candidates = (
        ServiceCall.objects.filter(
            where,
            _fetchable(now),
            external=True,
            case__status=Case.Status.RUNNING,
        )
        .only("pk", "case_id", "operation")
        .order_by("created_at", "pk")[: max_tasks * 4 + 10]
    )
    locked: list[LockedTask] = []
    for candidate in candidates:
        task = _claim(user, worker_id, candidate, by_name[candidate.operation])
        if task is not None:
            locked.append(task)
            if len(locked) >= max_tasks:
                break
    return locked


def external_tasks_fetch(
    *,
    user: Any,
    worker_id: str,
    topics: Sequence[TopicRequest],
    max_tasks: int,
    wait_seconds: float = 0,
) -> list[LockedTask]:
    """Lock up to `max_tasks` fetchable tasks of the topics for the worker.

    With `wait_seconds` (Camunda's asyncResponseTimeout, capped by
    ENGINE_EXTERNAL_TASK_MAX_WAIT_SECONDS), wait until at least one is there,
    looking every ENGINE_EXTERNAL_TASK_POLL_SECONDS; no transaction is open
    while it waits. Each lock is one attempt, audited as service.started.

    Raises:
        ActionNotAllowed: without the permission engine.work_external_tasks.
    """
    external_worker_check(user)
    if not topics or max_tasks <= 0:
        return []
    wait = min(max(wait_seconds, 0.0), settings.ENGINE_EXTERNAL_TASK_MAX_WAIT_SECONDS)
    deadline = time.monotonic() + wait
    while True:
        locked = _claim_some(user, worker_id, topics, max_tasks)
        remaining = deadline - time.monotonic()
        if locked or remaining <= 0:
            return locked
        time.sleep(min(settings.ENGINE_EXTERNAL_TASK_POLL_SECONDS, remaining))


def _task_id(task_id: str) -> int:
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        pk = 0
    if not 0 < pk < 2**63:  # beyond bigint, no row has it
        raise ExternalTaskNotFound(f"External task with id {task_id} does not exist")
    return pk


def _locked_call(task_id: str) -> tuple[Case, ServiceCall]:
    """Lock the case and then the call of an external task (ARCHITECTURE §4 order)."""
    pk = _task_id(task_id)
    missing = ExternalTaskNotFound(f"External task with id {task_id} does not exist")
    case_id = (
        ServiceCall.objects.filter(pk=pk, external=True)
        .values_list("case_id", flat=True)
        .first()
    )
    if case_id is None:
        raise missing
    case = case_lock(case_id=case_id)
    call = ServiceCall.objects.select_for_update().get(pk=pk)
    alive = (ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING)
    if call.status not in alive or not case.is_running:
        raise missing  # finished, or its case ended: gone, as in Camunda
    return case, call


def _check_worker(call: ServiceCall, worker_id: str, action: str) -> None:
    if call.status != ServiceCall.Status.RUNNING or call.worker_id != worker_id:
        running = call.status == ServiceCall.Status.RUNNING
        holder = call.worker_id if running else "null"
        raise ExternalTaskNotLocked(
            f"External Task {call.pk} cannot be {action} by worker '{worker_id}'. "
            f"It is locked by worker '{holder}'."
        )


@transaction.atomic
def external_task_complete(
    *,
    user: Any,
    task_id: str,
    worker_id: str,
    variables: dict[str, Any],
    local_variables: dict[str, Any] | None = None,
) -> None:
    """Complete an external task the worker holds; `variables` are its result.

    `local_variables` (Camunda's localVariables) are set, after `variables`,
    on the task's execution, as Camunda 7 does: a task with camunda:inputOutput
    (or a boundary event, or an instance of a parallel multi-instance
    activity) keeps them in its own scope (its output parameters see them,
    the case keeps only what those map); a task running in the process
    instance's execution sets them as case variables, one in an embedded
    sub-process's execution as the sub-process's. Where Camunda would keep
    them on an execution Laneway does not keep apart (a parallel branch, a
    sequential multi-instance activity), the completion is refused and
    nothing changes.

    Raises:
        ActionNotAllowed, ExternalTaskNotFound (unknown or already finished),
        ExternalTaskNotLocked (the worker does not hold it), CaseBusy,
        CaseSuspended, FormInvalid (localVariables that cannot be placed).
    """
    external_worker_check(user)
    case, call = _locked_call(task_id)
    _check_worker(call, worker_id, "completed")
    try:
        service_call_outcome(
            case,
            call,
            ok=True,
            value=dict(variables),
            retry_in=None,
            actor=user,
            local=local_variables,
        )
    except LocalVariablesRefused as exc:
        raise FormInvalid(str(exc), details={"fields": {}}) from None


@transaction.atomic
def external_task_failure(
    *,
    user: Any,
    task_id: str,
    worker_id: str,
    error_message: str,
    error_details: str,
    retries: int,
    retry_timeout_ms: int,
) -> None:
    """Report a failed attempt: fetchable again after the timeout, or an incident.

    With `retries` 0 the task fails and an incident opens (a process admin's
    retry makes it fetchable again); otherwise it waits `retry_timeout_ms`.
    """
    external_worker_check(user)
    case, call = _locked_call(task_id)
    _check_worker(call, worker_id, "failed")
    call.retries = retries
    service_call_outcome(
        case,
        call,
        ok=False,
        value=error_message or "The external worker reported a failure.",
        retry_in=retry_timeout_ms / 1000 if retries > 0 else None,
        details=error_details,
        actor=user,
    )


@transaction.atomic
def external_task_bpmn_error(
    *,
    user: Any,
    task_id: str,
    worker_id: str,
    error_code: str,
    error_message: str,
    variables: dict[str, Any],
) -> None:
    """Throw a BPMN error at the task, as an operation's business error is thrown.

    An error boundary event (or event sub-process) catching the code takes over,
    with `variables` set as case variables; uncaught, it is an incident.
    """
    external_worker_check(user)
    case, call = _locked_call(task_id)
    _check_worker(call, worker_id, "failed")  # Camunda's wording for bpmnError
    error = BusinessError(error_code, error_message, variables=variables)
    service_call_outcome(case, call, ok=False, value=error, retry_in=None, actor=user)


@transaction.atomic
def external_task_extend_lock(
    *, user: Any, task_id: str, worker_id: str, new_duration_ms: int
) -> None:
    """Extend the worker's lock to `new_duration_ms` from now (it must not be expired).

    Only the call row is locked: a lease renewal changes no case state.
    """
    external_worker_check(user)
    call = (
        ServiceCall.objects.select_for_update()
        .filter(pk=_task_id(task_id), external=True)
        .first()
    )
    if call is None or call.status not in (
        ServiceCall.Status.PENDING,
        ServiceCall.Status.RUNNING,
    ):
        raise ExternalTaskNotFound(f"External task with id {task_id} does not exist")
    _check_worker(call, worker_id, "extended")
    now = timezone.now()
    if call.lock_expires_at is None or call.lock_expires_at < now:
        raise ExternalTaskNotLocked("Cannot extend a lock that expired")
    call.lock_expires_at = now + timedelta(milliseconds=new_duration_ms)
    call.save(update_fields=["lock_expires_at", "updated_at"])


@transaction.atomic
def external_task_lock(
    *, user: Any, task_id: str, worker_id: str, lock_ms: int
) -> None:
    """Lock one task by id for the worker (Camunda's /lock), unless another holds it.

    The worker's own live lock is renewed; any other lock is a new attempt.
    """
    external_worker_check(user)
    case, call = _locked_call(task_id)
    now = timezone.now()
    held = (
        call.status == ServiceCall.Status.RUNNING
        and call.lock_expires_at is not None
        and call.lock_expires_at >= now
    )
    if held and call.worker_id != worker_id:
        _check_worker(call, worker_id, "locked")
    if held:
        call.lock_expires_at = now + timedelta(milliseconds=lock_ms)
        call.save(update_fields=["lock_expires_at", "updated_at"])
        return
    _lock(case, call, user=user, worker_id=worker_id, lock_ms=lock_ms)


def external_task_error_details(*, user: Any, task_id: str) -> str:
    """Return the error details of the task's last reported failure ('' if none)."""
    call = external_task_get(user=user, task_id=task_id)
    reported = [e.get("details", "") for e in call.errors if isinstance(e, dict)]
    return reported[-1] if reported else ""


@transaction.atomic
def external_task_unlock(*, user: Any, task_id: str) -> None:
    """Release a task's lock (any worker's, as in Camunda): fetchable again now."""
    external_worker_check(user)
    case, call = _locked_call(task_id)
    if call.status != ServiceCall.Status.RUNNING:
        return
    previous = call.worker_id
    call.status, call.lock_expires_at, call.worker_id = (
        ServiceCall.Status.PENDING,
        None,
        "",
    )
    call.next_attempt_at = None
    call.save(
        update_fields=[
            "status",
            "lock_expires_at",
            "worker_id",
            "next_attempt_at",
            "updated_at",
        ]
    )
    case_audit(
        case,
        user,
        AuditAction.SERVICE_UNLOCKED,
        task_ref=call.bpmn_id,
        call=call.pk,
        worker=previous,
    )


@dataclass(frozen=True, slots=True)
class ExternalTaskFilter:
    """GET /engine-rest/external-task query parameters (Camunda's names)."""

    external_task_id: str | None = None
    topic_name: str | None = None
    worker_id: str | None = None
    locked: bool = False
    not_locked: bool = False
    process_instance_id: UUID | None = None
    activity_id: str | None = None
    with_retries_left: bool = False
    no_retries_left: bool = False


def external_task_list(
    *, user: Any, where: ExternalTaskFilter
) -> QuerySet[ServiceCall]:
    """Return the open external tasks (waiting, locked, or out of retries).

    A failed task stays listed with 0 retries while its incident is open (a
    retry replaces it, a skip ends it); finished ones and those of ended cases
    are gone, as in Camunda.
    """
    external_worker_check(user)
    now = timezone.now()
    newer = ServiceCall.objects.filter(
        case=OuterRef("case"),
        spiff_task_id=OuterRef("spiff_task_id"),
        epoch__gt=OuterRef("epoch"),
    )
    waiting = Q(status__in=(ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING))
    rows = (
        ServiceCall.objects.filter(external=True, case__status__in=_ALIVE_CASE)
        .filter(waiting | Q(pk__in=_failed_with_open_incident()))
        .exclude(Exists(newer))
    )
    locked = Q(status=ServiceCall.Status.RUNNING, lock_expires_at__gte=now)
    failed = Q(status=ServiceCall.Status.FAILED)
    conditions = [
        (where.external_task_id is not None, Q(pk=_id_or_none(where))),
        (where.topic_name is not None, Q(operation=where.topic_name)),
        (where.worker_id is not None, Q(worker_id=where.worker_id)),
        (where.locked, locked),
        (where.not_locked, ~locked),
        (where.process_instance_id is not None, Q(case=where.process_instance_id)),
        (where.activity_id is not None, Q(bpmn_id=where.activity_id)),
        (where.with_retries_left, ~failed),
        (where.no_retries_left, failed),
    ]
    for wanted, condition in conditions:
        if wanted:
            rows = rows.filter(condition)
    return rows.select_related("case__version__definition").order_by("created_at", "pk")


def _failed_with_open_incident() -> list[int]:
    # Compared in Python: Incident.spiff_task_id is text, ServiceCall's a UUID
    # (stored differently on SQLite). Open service incidents are few.
    steps = set(
        Incident.objects.filter(
            status=Incident.Status.OPEN, kind=Incident.Kind.SERVICE
        ).values_list("case_id", "spiff_task_id")
    )
    if not steps:
        return []
    failed = ServiceCall.objects.filter(
        external=True,
        status=ServiceCall.Status.FAILED,
        case_id__in={case_id for case_id, _ in steps},
    ).values_list("pk", "case_id", "spiff_task_id")
    return [pk for pk, case_id, task in failed if (case_id, str(task)) in steps]


def _id_or_none(where: ExternalTaskFilter) -> int | None:
    try:
        return _task_id(where.external_task_id or "")
    except ExternalTaskNotFound:
        return None


def external_task_get(*, user: Any, task_id: str) -> ServiceCall:
    """Return one open external task.

    Raises:
        ActionNotAllowed, ExternalTaskNotFound.
    """
    found = external_task_list(
        user=user, where=ExternalTaskFilter(external_task_id=str(_task_id(task_id)))
    ).first()
    if found is None:
        raise ExternalTaskNotFound(f"External task with id {task_id} does not exist")
    return found
