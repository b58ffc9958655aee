"""Wake a timer at its due moment, not at the next sweep.

When a case's `next_timer_at` or a timer start schedule's `next_at` is set to a
moment less than `wake_horizon()` (ENGINE_TIMER_WAKE_SECONDS) away, a Celery
task is queued once the transaction commits, with that moment as its eta
(`timer_wake_later`). The worker holds it until then and fires the timer
through the usual locked, idempotent path (`case_fire_timers`,
`timer_start_fire`). The beat sweep stays the safety net: it fires whatever is
overdue (a lost message, a worker that died holding one) and queues wakes for
the timers coming due before its next run, so a timer set further ahead is
woken on time too. Far moments are left to the sweep because a broker holds an
eta task in the worker's memory (and Redis delivers it again after its
visibility timeout, an hour).

A wake names the moment it was queued for. When it arrives and the row's
moment has passed, the timer fires (through the lock, so once however many
wakes and sweeps arrive); when that moment is still ahead and is the one
named, the wake came early (clocks) and is queued again for it; when it is
ahead and another, the row has moved on and has its own wake. A wake that
finds its case busy is queued again shortly, a bounded number of times
(engine.tasks.timer_wake_task); a suspended case's wake does nothing, and
resuming the case queues the wake of its next timer (`case_timer_wake_queue`).
"""

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

TIMER_WAKE_TASK = "engine.timer_wake"
TIMER_START_WAKE_TASK = "engine.timer_start_wake"


def wake_horizon() -> timedelta | None:
    """How far ahead a timer gets its own wake (ENGINE_TIMER_WAKE_SECONDS, by
    default two sweep intervals, so every timer is within reach of some sweep
    before it is due); None: wakes are off, timers fire at the sweep."""
    seconds = int(settings.ENGINE_TIMER_WAKE_SECONDS)
    return timedelta(seconds=seconds) if seconds > 0 else None


def timer_wake_send(task: str, pk: UUID | str | int, due: datetime) -> None:
    """Queue a wake of case or schedule `pk` for `due` (after the commit).

    A broker error is logged, not raised: the sweep fires the timer anyway.
    """
    try:
        current_app.send_task(task, args=[str(pk), due.isoformat()], eta=due)
    except Exception:  # noqa: BLE001 - any broker error; the row is the source of truth
        logger.warning("could not queue %s %s; the sweep will", task, pk, exc_info=True)


def timer_wake_later(task: str, pk: UUID | str | int, due: datetime | None) -> None:
    """Queue a wake for `due` when this transaction commits, if it is near."""
    horizon = wake_horizon()
    if due is None or horizon is None or due > timezone.now() + horizon:
        return
    transaction.on_commit(lambda: timer_wake_send(task, pk, due))


def timer_wake_due(
    task: str, rows: QuerySet[Any], field: str, pk: UUID | str | int, due: datetime
) -> bool:
    """Whether the row `pk` of `rows`, woken for `due`, has its `field` moment due.

    Not when the row is gone, has moved on (it has its own wake) or has no
    moment; when the wake came early (`field` is still `due`, ahead), it is
    queued again for it.
    """
    current = rows.filter(pk=pk).values_list(field, flat=True).first()
    if current is None:
        return False
    if current <= timezone.now():
        return True
    if current == due:
        timer_wake_send(task, pk, due)
    return False


def timers_upcoming(rows: QuerySet[Any], field: str) -> list[tuple[Any, datetime]]:
    """Return (id, moment) of the rows whose `field` moment is within the wake
    horizon but not yet due (the sweep queues their wakes), soonest first."""
    horizon = wake_horizon()
    if horizon is None:
        return []
    now = timezone.now()
    near = {f"{field}__gt": now, f"{field}__lte": now + horizon}
    return list(rows.filter(**near).order_by(field).values_list("pk", field)[:1000])
