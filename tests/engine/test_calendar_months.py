"""A timer duration in months or years counts calendar months, as Camunda 7.

Camunda 7 adds durations with `javax.xml.datatype.Duration.addTo` (XML Schema
1.0 Part 2, Appendix E): a month from 31 January is 28 February (the day is
pinned to the month's last day), a year from 29 February 2028 is 28 February
2029. SpiffWorkflow added the length of each month in days (3 March, 1 March).
"""

from datetime import UTC, datetime

import pytest

from engine.services import case_start
from engine.spiff import TimerStart, timer_schedule_first, timer_schedule_next
from engine.spiff.calendar_durations import months_add


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("cycle", "now", "due"),
    [
        ("R/2026-01-31T09:00:00Z/P1M", "2026-02-01T00:00:00", "2026-02-28T09:00:00"),
        ("R/2026-03-31T09:00:00Z/P1M", "2026-04-01T00:00:00", "2026-04-30T09:00:00"),
        ("R/2028-02-29T09:00:00Z/P1Y", "2028-03-01T00:00:00", "2029-02-28T09:00:00"),
        ("R/2026-01-31T09:00:00Z/P1M2D", "2026-02-01T00:00:00", "2026-03-02T09:00:00"),
    ],
)
def test_a_monthly_timer_start_from_a_month_end_is_due_on_the_next_months_last_day(
    cycle, now, due
):
    start = TimerStart("Start_Monthly", "cycle", cycle)
    schedule = timer_schedule_first(start, now=_at(now))
    assert schedule.next_at == _at(due)


def test_a_monthly_timer_start_steps_from_each_occurrence_as_camunda():
    # Camunda's DurationHelper adds the period to the previous occurrence.
    start = TimerStart("Start_Monthly", "cycle", "R/2026-01-31T09:00:00Z/P1M")
    first = timer_schedule_first(start, now=_at("2026-02-01T00:00:00"))
    after = timer_schedule_next(
        start, previous=first.next_at, remaining=first.remaining, now=first.next_at
    )
    assert after.next_at == _at("2026-03-28T09:00:00")


@pytest.mark.django_db
def test_a_one_month_deadline_on_a_user_task_is_a_calendar_month(users, tmp_path):
    from tests.conftest import deploy_timer_escalation

    deploy_timer_escalation(tmp_path, users["analyst"], "P1M")
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    expected = months_add(case.started_at, 1)
    assert abs((case.next_timer_at - expected).total_seconds()) < 60
