"""The purchase example end to end through the services, on PostgreSQL."""

import pytest

from audit.models import AuditEvent
from audit.selectors import audit_verify
from engine.errors import FormInvalid, StartNotAllowed
from engine.models import Case
from engine.services import case_start
from tasks_app.errors import SeparationOfDuties, TaskAlreadyClaimed, TaskNotFound
from tasks_app.models import HumanTask
from tasks_app.selectors import inbox_list_for_user
from tasks_app.services import task_claim, task_complete

pytestmark = pytest.mark.django_db


def _open(case, bpmn_id):
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def test_rejection_goes_back_to_initiator_then_approval_completes(users, purchase):
    case, created = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": "250.5", "justification": "New laptop"},
    )
    assert created is True
    assert case.data == {"amount": 250.5, "justification": "New laptop"}
    review = _open(case, "manager_review")
    assert review.candidate_groups == ["Manager"]
    assert list(inbox_list_for_user(user=users["manager2"])) == [review]
    assert list(inbox_list_for_user(user=users["requester"])) == []

    task_complete(
        user=users["manager1"],
        task_id=review.pk,
        data={"approved": False, "comment": "Too expensive"},
    )
    revise = _open(case, "revise_request")
    assert revise.assignee == users["requester"]
    assert list(inbox_list_for_user(user=users["requester"])) == [revise]
    assert list(inbox_list_for_user(user=users["requester2"])) == []
    with pytest.raises(TaskNotFound):
        task_complete(
            user=users["requester2"],
            task_id=revise.pk,
            data={"amount": 1, "justification": "mine now"},
        )

    task_complete(
        user=users["requester"],
        task_id=revise.pk,
        data={"amount": 199, "justification": "Cheaper laptop"},
    )
    task_complete(
        user=users["manager2"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": True},
    )
    task_complete(
        user=users["finance"],
        task_id=_open(case, "finance_review").pk,
        data={"finance_approved": True},
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    print("DATA", case.data)
    assert case.data["amount"] == 199
    assert case.data["finance_approved"] is True
    actions = list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("chain_seq")
        .values_list("action", flat=True)
    )
    assert actions[0] == "case.started" and actions[-1] == "case.completed"
    assert actions.count("task.completed") == 4
    assert audit_verify().ok is True


def test_invalid_start_data_is_refused_field_by_field_and_starts_nothing(
    users, purchase
):
    with pytest.raises(FormInvalid) as err:
        case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": 0, "justification": ""},
        )
    assert set(err.value.details["fields"]) == {"amount", "justification"}
    assert Case.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case.started").exists()


def test_only_the_requester_lane_may_start(users, purchase):
    with pytest.raises(StartNotAllowed):
        case_start(
            user=users["manager1"],
            key="purchase_request",
            data={"amount": 5, "justification": "x"},
        )


def test_claimed_task_leaves_other_inboxes_and_they_get_conflict(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 5, "justification": "x"},
    )
    review = _open(case, "manager_review")
    task_claim(user=users["manager1"], task_id=review.pk)
    assert list(inbox_list_for_user(user=users["manager2"])) == []
    with pytest.raises(TaskAlreadyClaimed):
        task_claim(user=users["manager2"], task_id=review.pk)
    with pytest.raises(TaskAlreadyClaimed):
        task_complete(
            user=users["manager2"], task_id=review.pk, data={"approved": True}
        )


def test_requester_who_is_also_a_manager_cannot_approve_own_request(users, purchase):
    from django.contrib.auth.models import Group

    users["manager1"].groups.add(Group.objects.get(name="Requester"))
    case, _ = case_start(
        user=users["manager1"],
        key="purchase_request",
        data={"amount": 5, "justification": "x"},
    )
    with pytest.raises(SeparationOfDuties):
        task_complete(
            user=users["manager1"],
            task_id=_open(case, "manager_review").pk,
            data={"approved": True},
        )
    assert _open(case, "manager_review").assignee is None
