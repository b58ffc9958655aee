"""Timer start events: deployed processes that start their own cases.

Deploying a version schedules its timer start events (`timer_starts_schedule`,
called from a post_save receiver inside the deploy transaction) and clears the
schedules of the process's older versions: the new version replaces the old
one's timer. A wake queued for each due moment (timer_wake.py) starts its case
(`timer_start_fire`) on time; beat's timer sweep (`engine.timers_fire_due`) starts
one for every schedule still due (a lost wake). Each schedule row is locked with
FOR UPDATE SKIP LOCKED while its case starts and its next moment is stored, in
one transaction, so several beats running at once start one case per tick.

Cases started by a timer have the system as actor: the audit records no user
(shown as "system") and `Case.started_by` is the inactive system account.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from engine.models import Case, TimerStartSchedule
from engine.spec_cache import spec_for
from engine.spiff import (
    TimerStart,
    timer_schedule_first,
    timer_schedule_next,
    timer_starts_in,
    workflow_start_by_timer,
)
from processes.models import ProcessVersion

from .cases import case_start_at_event
from .script_host import SYSTEM_USERNAME, system_user
from .timer_wake import (
    TIMER_START_WAKE_TASK,
    timer_wake_due,
    timer_wake_later,
    timers_upcoming,
)

__all__ = ["SYSTEM_USERNAME", "system_user"]  # where other modules import them


def timer_starts_schedule(*, version: ProcessVersion) -> list[TimerStartSchedule]:
    """Schedule the timer start events of a newly deployed version.

    The older versions of the process stop starting cases (their `next_at` is
    cleared), whether or not the new version has a timer start event.
    """
    TimerStartSchedule.objects.filter(
        version__definition_id=version.definition_id
    ).exclude(version=version).update(next_at=None)
    now = timezone.now()
    created = []
    for start in timer_starts_in(bytes(version.normalized_xml), version.key):
        first = timer_schedule_first(start, now=now)
        schedule = TimerStartSchedule.objects.create(
            version=version,
            bpmn_id=start.bpmn_id,
            kind=start.kind,
            value=start.value,
            next_at=first.next_at,
            remaining=first.remaining,
        )
        timer_wake_later(TIMER_START_WAKE_TASK, schedule.pk, schedule.next_at)
        created.append(schedule)
    return created


def timer_starts_due(*, limit: int = 100) -> list[int]:
    """Return the ids of the schedules of deployed versions that are due now."""
    return list(
        TimerStartSchedule.objects.filter(
            next_at__lte=timezone.now(),
            version__status=ProcessVersion.Status.DEPLOYED,
        )
        .order_by("next_at")
        .values_list("pk", flat=True)[:limit]
    )


def _start_case(schedule: TimerStartSchedule, due: datetime) -> Case:
    version = schedule.version
    case = Case(version=version, started_by=system_user())
    return case_start_at_event(
        case,
        None,
        lambda: workflow_start_by_timer(
            spec_for(version), bpmn_id=schedule.bpmn_id, data={}
        ),
        data={},
        audit={"timer": schedule.bpmn_id, "due": due.isoformat()},
    )


@transaction.atomic
def timer_start_fire(*, schedule_id: int) -> UUID | None:
    """Start the case of one due schedule and move it on; return the case id.

    None when another sweep holds the schedule or already moved it on.
    """
    schedule = (
        TimerStartSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("version__definition")
        .filter(
            pk=schedule_id,
            next_at__lte=timezone.now(),
            version__status=ProcessVersion.Status.DEPLOYED,
        )
        .first()
    )
    if schedule is None or schedule.next_at is None:
        return None
    due = schedule.next_at
    case = _start_case(schedule, due)
    start = TimerStart(schedule.bpmn_id, schedule.kind, schedule.value)
    following = timer_schedule_next(
        start, previous=due, remaining=schedule.remaining, now=timezone.now()
    )
    schedule.next_at = following.next_at
    schedule.remaining = following.remaining
    schedule.fired += 1
    schedule.save(update_fields=["next_at", "remaining", "fired"])
    timer_wake_later(TIMER_START_WAKE_TASK, schedule.pk, schedule.next_at)
    return case.pk


_DEPLOYED = TimerStartSchedule.objects.filter(
    version__status=ProcessVersion.Status.DEPLOYED
)


def timer_start_wake(*, schedule_id: int, due: datetime) -> UUID | None:
    """Start the schedule's case if a wake queued for `due` finds it due.

    A no-op when the schedule has moved on or its version no longer starts
    cases; queued again when it came early (timer_wake.py).
    """
    wake = (TIMER_START_WAKE_TASK, _DEPLOYED, "next_at", schedule_id, due)
    if not timer_wake_due(*wake):
        return None
    return timer_start_fire(schedule_id=schedule_id)


def timer_starts_upcoming() -> list[tuple[int, datetime]]:
    """Return (id, next_at) of the deployed schedules to wake before the next sweep."""
    return timers_upcoming(_DEPLOYED, "next_at")


def version_deployed(
    sender: Any, instance: ProcessVersion, created: bool, **_: Any
) -> None:
    """Schedule a new version's timer start events (post_save receiver)."""
    if created:
        timer_starts_schedule(version=instance)
