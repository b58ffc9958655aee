"""Celery tasks: run service calls outside any transaction, then apply the result."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.db import connections

from .errors import CaseBusy, CaseNotFound, CaseSuspended
from .services import (
    case_fire_timers,
    service_call_apply,
    service_call_begin,
    service_call_execute,
    service_call_sweep,
    service_calls_enqueue,
    service_time_limits,
    signal_broadcast,
    timer_start_fire,
    timer_starts_due,
    timers_due,
)
from .services.message_buffer import (
    buffered_message_offer,
    buffered_messages_deliver,
    buffered_messages_expire,
)
from .services.message_sends import (
    message_outbox_enqueue,
    message_outbox_send,
    message_outbox_sweep,
    message_send_from_case,
)
from .services.signals import (
    signal_delivery_enqueue,
    signal_delivery_send,
    signal_delivery_sweep,
    signal_outbox_enqueue,
    signal_outbox_send,
    signal_outbox_sweep,
)
from .services.timer_starts import timer_start_wake, timer_starts_upcoming
from .services.timer_wake import (
    TIMER_START_WAKE_TASK,
    TIMER_WAKE_TASK,
    timer_wake_send,
)
from .services.timers import case_timer_wake, cases_timers_upcoming

logger = logging.getLogger(__name__)


class ServiceCallTask(Task):
    """Records a call killed at the hard time limit as a technical failure."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Celery calls this in the pool's parent process when the hard limit
        # killed the child: the row is RUNNING with this attempt counted, so the
        # failure is retried with backoff, then opens an incident -- not left to
        # the outbox sweep as if the worker had vanished.
        if not isinstance(exc, TimeLimitExceeded) or not args:
            return
        _, hard = service_time_limits()
        try:
            service_call_apply(
                call_id=int(args[0]),
                ok=False,
                value=f"TimeLimitExceeded: the call ran longer than {hard:g} s "
                "and was stopped",
            )
        except Exception:  # the sweep re-sends it; the worker must go on
            logger.exception("could not record the time limit of call %s", args[0])
        finally:
            connections.close_all()  # no connection is inherited by a new child


@shared_task(
    base=ServiceCallTask,
    name="engine.service_call_run",
    acks_late=True,
    reject_on_worker_lost=True,
    # The defaults; every send passes the current settings too (service_calls_enqueue).
    soft_time_limit=settings.ENGINE_SERVICE_TIMEOUT_SECONDS,
    time_limit=service_time_limits()[1],
)
def service_call_run_task(call_id: int) -> str:
    """Run one pending service call (idempotent: a finished call is skipped).

    Failures are not retried by Celery: service_call_apply records them and
    re-sends the call with a countdown (the row, not the broker, holds the state).
    """
    try:
        call = service_call_begin(call_id=call_id)
    except CaseSuspended:
        return "suspended"  # stays pending; resuming the case sends it again
    if call is None:
        return "skipped"
    ok, value = service_call_execute(call=call)
    service_call_apply(call_id=call_id, ok=ok, value=value)
    return "succeeded" if ok else "failed"


@shared_task(name="engine.outbox_sweep")
def outbox_sweep_task() -> int:
    """Re-send calls, case messages and signals committed but never run.

    Also the signals a busy case has still not got (each goes once).
    """
    stale = timedelta(seconds=settings.ENGINE_OUTBOX_STALE_SECONDS)
    ids = service_call_sweep(older_than=stale)
    service_calls_enqueue(ids)
    messages = message_outbox_sweep(older_than=stale)
    message_outbox_enqueue(messages)
    signals = signal_outbox_sweep(older_than=stale)
    signal_outbox_enqueue(signals)
    late = signal_delivery_sweep(older_than=stale)
    signal_delivery_enqueue(late)
    return len(ids) + len(messages) + len(signals) + len(late)


@shared_task(name="engine.signal_broadcast")
def signal_broadcast_task(
    name: str, source: str, payload: object = None
) -> dict[str, list[str]]:
    """Broadcast a signal a case threw (tasks queued before the outbox existed).

    `payload`: what its `camunda:in` (or SpiffArena payloadExpression) passes.
    """
    result = signal_broadcast(actor=None, name=name, data=payload, source=UUID(source))
    return result.as_dict()


def _outbox_send(send: Callable[..., Any], outbox_id: str) -> dict[str, Any] | None:
    try:
        result = send(outbox_id=outbox_id)
    except (CaseBusy, CaseSuspended):
        return None  # the row stays; the outbox sweep sends it again
    return None if result is None else result.as_dict()


@shared_task(name="engine.signal_outbox_send")
def signal_outbox_send_task(outbox_id: str) -> dict[str, Any] | None:
    """Broadcast a signal a case threw (its outbox row) to the other cases."""
    return _outbox_send(signal_outbox_send, outbox_id)


@shared_task(name="engine.signal_delivery_send")
def signal_delivery_send_task(delivery_id: str) -> dict[str, Any] | None:
    """Deliver a broadcast signal to a case that was busy when it was broadcast."""
    return _outbox_send(signal_delivery_send, delivery_id)


@shared_task(name="engine.message_outbox_send")
def message_outbox_send_task(outbox_id: str) -> dict[str, Any] | None:
    """Deliver a message a case sent (its outbox row) to the case that takes it."""
    return _outbox_send(message_outbox_send, outbox_id)


@shared_task(name="engine.message_send")
def message_send_task(
    name: str,
    payload: dict,
    correlation: dict,
    source: str,
    origin: dict | None = None,
) -> dict[str, list[str]]:
    """Deliver a message a case sent (tasks queued before the outbox existed)."""
    result = message_send_from_case(
        name=name,
        payload=payload,
        correlation=correlation,
        source=UUID(source),
        origin=origin,
    )
    return {
        "delivered": [str(c) for c in result.delivered],
        "started": [str(c) for c in result.started],
    }


@shared_task(name="engine.message_buffer_deliver")
def message_buffer_deliver_task(case_id: str) -> list[str]:
    """Give a case that now waits for messages the kept ones it waits for."""
    return [str(k) for k in buffered_messages_deliver(case_id=UUID(case_id))]


@shared_task(name="engine.message_buffer_offer")
def message_buffer_offer_task(kept_id: str) -> str | None:
    """Offer a freshly kept message to the cases already waiting for it."""
    case_id = buffered_message_offer(kept_id=UUID(kept_id))
    return str(case_id) if case_id else None


@shared_task(name="engine.message_buffers_expire")
def message_buffers_expire_task() -> int:
    """Drop the kept messages whose time-to-live is up (beat)."""
    return buffered_messages_expire()


def _timer_start_fire(schedule_id: int) -> bool:
    # One broken schedule (its stored diagram no longer compiles) must not stop
    # the sweep for the others; it is retried every tick and logged each time.
    try:
        return timer_start_fire(schedule_id=schedule_id) is not None
    except Exception:
        logger.exception("timer start schedule %s could not start a case", schedule_id)
        return False


@shared_task(name="engine.timers_fire_due")
def timers_fire_due_task() -> int:
    """Start the cases of due timer start events, fire the due timers of cases
    (those whose wake was lost), and queue the wakes of the timers coming due
    before the next sweep (timer_wake.py), each once however often it is seen."""
    fired = sum(_timer_start_fire(pk) for pk in timer_starts_due())
    for case_id in timers_due():
        try:
            fired += case_fire_timers(case_id=case_id)
        except (CaseBusy, CaseSuspended):
            continue  # someone is working on it; the next sweep fires it
    for schedule_id, due in timer_starts_upcoming():
        timer_wake_send(TIMER_START_WAKE_TASK, schedule_id, due, once=True)
    for case_id, due in cases_timers_upcoming():
        timer_wake_send(TIMER_WAKE_TASK, case_id, due, once=True)
    return fired


# A wake that finds its case busy (locked past ENGINE_LOCK_TIMEOUT_MS) is
# queued again 1, 2, 4, 8 s later; then the sweep fires it.
TIMER_WAKE_BUSY_RETRIES = 4


@shared_task(bind=True, name=TIMER_WAKE_TASK, max_retries=TIMER_WAKE_BUSY_RETRIES)
def timer_wake_task(self: Task, case_id: str, due: str) -> bool:
    """Fire a case's timers at their due moment (queued with it as eta).

    Busy: queued again shortly, a bounded number of times. Suspended: nothing;
    resuming the case queues its wake (cockpit case_resume).
    """
    try:
        return case_timer_wake(case_id=case_id, due=datetime.fromisoformat(due))
    except CaseBusy:
        if self.request.retries >= TIMER_WAKE_BUSY_RETRIES:
            return False  # busy all along: the sweep fires it
        raise self.retry(countdown=2**self.request.retries) from None
    except (CaseNotFound, CaseSuspended):
        return False  # gone, or suspended (its resume queues the wake)


@shared_task(name=TIMER_START_WAKE_TASK)
def timer_start_wake_task(schedule_id: str, due: str) -> bool:
    """Start a timer start event's case at its due moment (queued with it as eta)."""
    try:
        started = timer_start_wake(
            schedule_id=int(schedule_id), due=datetime.fromisoformat(due)
        )
    except Exception:
        logger.exception("timer start schedule %s could not start a case", schedule_id)
        return False  # as the sweep: one broken schedule is logged, retried there
    return started is not None
