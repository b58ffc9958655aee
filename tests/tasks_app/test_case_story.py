"""The case page tells the case in words: the outcome and who decided what."""

import pytest

from engine.services import case_cancel, case_start
from tasks_app.discussion import comment_add
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import page_for

pytestmark = pytest.mark.django_db


def _open(case, bpmn_id):
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def test_a_rejected_then_approved_purchase_reads_as_a_story(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 900, "justification": "Laptop"},
    )
    review = _open(case, "manager_review")
    comment_add(user=users["manager1"], task_id=review.pk, text="Is it urgent?")
    task_complete(
        user=users["manager1"],
        task_id=review.pk,
        data={"approved": False, "comment": "too expensive"},
    )
    task_complete(
        user=users["requester"],
        task_id=_open(case, "revise_request").pk,
        data={"amount": 700, "justification": "Laptop"},
    )
    task_complete(
        user=users["manager2"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": True, "comment": ""},
    )
    task_complete(
        user=users["finance"],
        task_id=_open(case, "finance_review").pk,
        data={"finance_approved": True, "finance_comment": ""},
    )
    html = page_for(users["requester"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Outcome: Purchase approved" in html
    assert "manager1 rejected “Manager approval”: Comment “too expensive”" in html
    assert "manager1 commented on “Manager approval”: “Is it urgent?”" in html
    assert "requester completed “Revise request”: Amount (EUR) 700" in html
    assert "manager2 approved “Manager approval”" in html
    assert "finance approved “Finance approval”" in html
    assert "The case reached “Purchase approved”" in html


def test_a_cancelled_case_says_who_cancelled_it_and_why(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 5, "justification": "Pens"},
    )
    case_cancel(user=users["requester"], case_id=case.pk, reason="bought them myself")
    html = page_for(users["requester"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Outcome: Cancelled by requester: bought them myself" in html
    assert "“Manager approval” was withdrawn" in html
