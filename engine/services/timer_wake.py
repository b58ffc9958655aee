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

One wake is queued per (case or schedule, due moment), however many sweeps
and beats see the timer coming: a claim (Redis SET NX on the broker's Redis,
expiring shortly after the moment) is taken before the task is sent, and a
sweep or advance that finds it taken sends nothing (`timer_wake_claim`). The
wakes sent because the last one was spent without firing (it came early, or
while the case was suspended) do not ask. Without Redis (the file broker) or
with Redis unreachable, the wake is sent anyway: a duplicate costs one no-op
task, a lost wake a timer late by up to a sweep.
"""

import logging
import os
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import redis
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


# A claim outlives its moment by this much: past it the timer is overdue, and
# the sweep fires it rather than queueing a wake (`timers_upcoming`).
CLAIM_AFTER_DUE = timedelta(seconds=30)
_CLAIM_PREFIX = "laneway:timer-wake"

# Per process: a forked worker opens its own connection.
_CLIENTS: dict[int, redis.Redis | None] = {}


def _claims() -> redis.Redis | None:
    """Return a client of the broker's Redis, or None when the broker is not Redis."""
    pid = os.getpid()
    if pid not in _CLIENTS:
        url = settings.CELERY_BROKER_URL
        plain = (
            isinstance(url, str)
            and urlsplit(url).scheme in ("redis", "rediss")
            and ";" not in url  # a failover list: no one server holds the claims
        )
        _CLIENTS[pid] = (
            redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            if plain
            else None
        )
    return _CLIENTS[pid]


def _claim_key(task: str, pk: UUID | str | int, due: datetime) -> str:
    return f"{_CLAIM_PREFIX}:{task}:{pk}:{due.isoformat()}"


def timer_wake_claim(task: str, pk: UUID | str | int, due: datetime) -> bool:
    """Claim the one wake of `pk` for `due`: False when it is claimed already.

    True when no Redis holds claims or it cannot be reached (send: the wake
    matters more than a duplicate), and for a moment already past: no sweep
    queues those (it fires them), and the wake of a case busy at its moment may
    have given up (engine.tasks.timer_wake_task), so the next advance sends one.
    """
    client = _claims()
    ttl = due - timezone.now() + CLAIM_AFTER_DUE
    if client is None or ttl <= CLAIM_AFTER_DUE:
        return True
    try:
        taken = client.set(
            _claim_key(task, pk, due),
            1,
            nx=True,
            px=max(int(ttl.total_seconds() * 1000), 1),
        )
    except redis.RedisError:
        logger.warning("could not claim %s %s; sending it", task, pk, exc_info=True)
        return True
    return bool(taken)


def _claim_release(task: str, pk: UUID | str | int, due: datetime) -> None:
    client = _claims()
    if client is None:
        return
    try:
        client.delete(_claim_key(task, pk, due))
    except redis.RedisError:
        pass  # it expires just after the moment; the sweep fires the timer then


def timer_wake_send(
    task: str, pk: UUID | str | int, due: datetime, *, once: bool = False
) -> None:
    """Queue a wake of case or schedule `pk` for `due` (after the commit).

    `once`: unless a wake for that moment was queued already (`timer_wake_claim`).
    A broker error is logged, not raised: the sweep fires the timer anyway.
    """
    if once and not timer_wake_claim(task, pk, due):
        return
    try:
        current_app.send_task(task, args=[str(pk), due.isoformat()], eta=due)
    except Exception:  # noqa: BLE001 - any broker error; the row is the source of truth
        logger.warning("could not queue %s %s; the sweep will", task, pk, exc_info=True)
        if once:
            _claim_release(task, pk, due)  # a later sweep may queue it


def timer_wake_later(
    task: str, pk: UUID | str | int, due: datetime | None, *, once: bool = True
) -> None:
    """Queue a wake for `due` when this transaction commits, if it is near.

    Once per moment, unless `once` is False (the last wake was spent without
    firing, as on a suspended case).
    """
    horizon = wake_horizon()
    if due is None or horizon is None or due > timezone.now() + horizon:
        return
    transaction.on_commit(lambda: timer_wake_send(task, pk, due, once=once))


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
