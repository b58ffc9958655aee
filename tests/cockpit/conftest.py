"""A controllable clock for exact cockpit figures."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def clock_at(seconds: float) -> Iterator[datetime]:
    """Run the real services as if it were T0 + seconds (audit, task and case times)."""
    at = T0 + timedelta(seconds=seconds)
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield at


def iso(seconds: float) -> str:
    """Return T0 + seconds in ISO 8601, as a query parameter."""
    return (T0 + timedelta(seconds=seconds)).isoformat()


REVIEW_SECONDS = [10, 20, 30, 100]


def start_purchase(users) -> Case:
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    return case


@pytest.fixture
def reviewed(users, purchase):
    """Four cases whose manager review took 10, 20, 30 and 100 s; a fifth waits."""
    with clock_at(0):
        cases = [start_purchase(users) for _ in REVIEW_SECONDS]
    for case, seconds in zip(cases, REVIEW_SECONDS, strict=True):
        review = HumanTask.objects.get(case=case, bpmn_id="manager_review")
        with clock_at(seconds):
            task_complete(
                user=users["manager1"], task_id=review.pk, data={"approved": True}
            )
    with clock_at(500):
        waiting = start_purchase(users)
    return cases, waiting


def finish_purchase(users, case: Case, at: float) -> None:
    """Approve the case as manager and finance at T0 + at seconds."""
    for bpmn_id, user, answer in (
        ("manager_review", "manager1", {"approved": True}),
        ("finance_review", "finance", {"finance_approved": True}),
    ):
        task = HumanTask.objects.get(case=case, bpmn_id=bpmn_id)
        with clock_at(at):
            task_complete(user=users[user], task_id=task.pk, data=answer)
