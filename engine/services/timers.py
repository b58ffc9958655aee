"""Wake cases whose timers are due (deadlines, escalations, reminders)."""

from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from engine.models import Case
from engine.spec_cache import spec_for
from engine.spiff import workflow_fire_timers

from .advance import case_advance, case_audit, case_lock
from .script_host import case_scripts
from .timer_wake import (
    TIMER_WAKE_TASK,
    timer_wake_due,
    timer_wake_later,
    timers_upcoming,
)


@transaction.atomic
def case_fire_timers(*, case_id: UUID | str) -> bool:
    """Fire the due timers of one case and advance it; return whether it was due.

    Raises:
        CaseNotFound, CaseBusy.
    """
    case = case_lock(case_id=case_id)
    now = timezone.now()
    if not case.is_running or case.next_timer_at is None or case.next_timer_at > now:
        return False  # another sweep got here first, or the timer moved
    with case_scripts(case, None):
        outcome = workflow_fire_timers(spec_for(case.version), case.state.state)
    fired = [step.bpmn_id for step in outcome.steps]
    due = case.next_timer_at.isoformat()
    case_audit(case, None, AuditAction.TIMER_FIRED, due=due, elements=fired)
    case_advance(case, outcome, actor=None)
    return True


def timers_due(*, limit: int = 100) -> list[UUID]:
    """Return ids of running cases whose next timer is due, oldest due first.

    Rows locked by another sweep are skipped (FOR UPDATE SKIP LOCKED), so any
    number of workers can sweep at once.
    """
    with transaction.atomic():
        return list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Case.Status.RUNNING, next_timer_at__lte=timezone.now())
            .order_by("next_timer_at")
            .values_list("pk", flat=True)[:limit]
        )


_RUNNING = Case.objects.filter(status=Case.Status.RUNNING)


def case_timer_wake(*, case_id: UUID | str, due: datetime) -> bool:
    """Fire the case's timers if a wake queued for `due` finds them due.

    A no-op when the case has moved on (the timer fired, was rescheduled or
    the case ended); queued again when it came early (timer_wake.py).

    Raises:
        CaseNotFound, CaseBusy, CaseSuspended.
    """
    if not timer_wake_due(TIMER_WAKE_TASK, _RUNNING, "next_timer_at", case_id, due):
        return False
    return case_fire_timers(case_id=case_id)


def case_timer_wake_queue(case: Case) -> None:
    """Queue the wake of the case's next timer when this transaction commits (a
    case resumed: a wake that came while it was suspended did nothing; one
    that came due meanwhile fires at once)."""
    timer_wake_later(TIMER_WAKE_TASK, case.pk, case.next_timer_at, once=False)


def cases_timers_upcoming() -> list[tuple[UUID, datetime]]:
    """Return (id, next_timer_at) of the running cases to wake before the next sweep."""
    return timers_upcoming(_RUNNING, "next_timer_at")
