"""A delegation gives rights only while it lasts (Camunda's delegateTask / resolveTask).

The delegate may answer, not hand the task on or decide it; when the task returns to
its owner (or is handed on, assigned or cancelled), every guardian row the delegation
wrote is deleted, so the former delegate can neither see, claim nor complete it.
"""

import pytest
from guardian.models import UserObjectPermission

from engine.services import case_cancel, case_start
from tasks_app.models import HumanTask
from tasks_app.permissions import grant_candidates
from tasks_app.services import task_claim, task_complete, task_delegate
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


def personal_rows(user, task) -> set[str]:
    """Return the codenames of the user's own guardian rows on the task and its case."""
    return set(
        UserObjectPermission.objects.filter(
            user=user, object_pk__in=[str(task.pk), str(task.case_id)]
        ).values_list("permission__codename", flat=True)
    )


@pytest.fixture
def finance_step(users, review):
    """The purchase at its finance approval, the manager step decided by manager1."""
    task_complete(user=users["manager1"], task_id=review.pk, data={"approved": True})
    return HumanTask.objects.get(case=review.case, bpmn_id="finance_review")


def test_the_former_delegate_loses_the_task_when_it_returns(users, finance_step):
    """The issue's leak: manager1 must not approve the finance step too."""
    task, manager1 = finance_step, users["manager1"]
    owner = api_for(users["finance"])
    assert owner.post(f"/api/v1/tasks/{task.pk}/claim/").status_code == 200
    delegated = owner.post(
        f"/api/v1/tasks/{task.pk}/delegate/", {"user": "manager1"}, format="json"
    )
    assert delegated.status_code == 200
    assert personal_rows(manager1, task) == {
        "view_humantask",
        "work_on_humantask",
        "view_case",
    }
    delegate = api_for(manager1)
    assert delegate.get(f"/api/v1/tasks/{task.pk}/").json()["actions"] == ["complete"]
    answered = delegate.post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"data": {"finance_approved": True, "finance_comment": "ok"}},
        format="json",
    )
    assert answered.status_code == 200
    assert answered.json()["status"] == "open"
    assert answered.json()["assignee"] == "finance"
    # The answer went back to finance: manager1's rows are gone, with the task.
    assert personal_rows(manager1, task) == set()
    assert delegate.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert owner.post(f"/api/v1/tasks/{task.pk}/unclaim/").status_code == 200
    assert delegate.get("/api/v1/tasks/").json()["count"] == 0
    for action in ("claim", "complete"):
        refused = delegate.post(
            f"/api/v1/tasks/{task.pk}/{action}/",
            {"data": {"finance_approved": True}},
            format="json",
        )
        assert refused.status_code == 404, action
    pages = page_for(manager1)
    assert str(task.pk) not in pages.get("/").content.decode()
    assert pages.get(f"/tasks/{task.pk}/").status_code == 404
    assert pages.post(f"/tasks/{task.pk}/claim/").status_code == 404
    task.refresh_from_db()
    assert task.assignee is None and task.status == "open"


def test_a_delegate_may_answer_but_not_hand_on_release_or_assign(users, review):
    owner = api_for(users["manager1"])
    owner.post(
        f"/api/v1/tasks/{review.pk}/delegate/", {"user": "finance"}, format="json"
    )
    delegate = api_for(users["finance"])
    for action, body in (
        ("delegate", {"user": "requester2"}),
        ("assign", {"user": "manager2"}),
        ("unclaim", {}),
    ):
        refused = delegate.post(
            f"/api/v1/tasks/{review.pk}/{action}/", body, format="json"
        )
        assert refused.status_code == 403, action
        assert refused.json()["code"] == "permission_denied", action
    review.refresh_from_db()
    assert review.assignee == users["finance"] and review.owner == users["manager1"]
    # The delegate's page offers the answer only: no Release button.
    page = page_for(users["finance"]).get(f"/tasks/{review.pk}/").content.decode()
    assert "Complete task" in page and f"/tasks/{review.pk}/release/" not in page


def test_handing_on_or_assigning_a_delegated_task_revokes_the_delegate(users, review):
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="finance")
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="requester2")
    assert personal_rows(users["finance"], review) == set()
    assert personal_rows(users["requester2"], review) == {
        "view_humantask",
        "work_on_humantask",
        "view_case",
    }
    admin = api_for(users["padmin"])
    assigned = admin.post(
        f"/api/v1/tasks/{review.pk}/assign/", {"user": "manager2"}, format="json"
    )
    assert assigned.status_code == 200 and assigned.json()["owner"] is None
    assert personal_rows(users["requester2"], review) == set()
    assert api_for(users["requester2"]).get("/api/v1/tasks/").json()["count"] == 0


def test_the_owner_releasing_from_the_page_revokes_the_delegate(users, review):
    task_claim(user=users["manager1"], task_id=review.pk)
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="finance")
    page = page_for(users["manager1"])
    assert (
        f"/tasks/{review.pk}/release/"
        in page.get(f"/tasks/{review.pk}/").content.decode()
    )
    assert page.post(f"/tasks/{review.pk}/release/").status_code == 302
    review.refresh_from_db()
    assert review.assignee is None and review.owner is None
    assert personal_rows(users["finance"], review) == set()
    assert page_for(users["finance"]).get(f"/tasks/{review.pk}/").status_code == 404


def test_a_cancelled_case_takes_the_delegation_with_it(users, review):
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="finance")
    case_cancel(user=users["requester"], case_id=review.case_id, reason="Not needed")
    review.refresh_from_db()
    assert review.status == "cancelled"
    assert personal_rows(users["finance"], review) == set()


def test_a_named_candidate_keeps_their_rows_when_a_delegation_ends(users, review):
    """Rows a user holds as a candidate are not the delegation's to take back."""
    review.candidate_users = ["requester2"]
    review.save(update_fields=["candidate_users"])
    grant_candidates(review, users=[users["requester2"]], groups=[])
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="requester2")
    task_complete(user=users["requester2"], task_id=review.pk, data={"approved": True})
    assert "work_on_humantask" in personal_rows(users["requester2"], review)


def test_an_assignment_ends_with_its_rows_when_an_admin_reassigns(users):
    """`camunda:assignee="requester2"` grants requester2 the task while it is theirs."""
    version = deploy(BPMN_DIR / "named_assignee.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key=version.definition.key, data={})
    task = HumanTask.objects.get(case=case)
    named = users["requester2"]
    assert task.assignee == named
    assert personal_rows(named, task) == {
        "view_humantask",
        "work_on_humantask",
        "view_case",
    }
    assert api_for(named).get("/api/v1/tasks/").json()["count"] == 1
    moved = api_for(users["padmin"]).post(
        f"/api/v1/tasks/{task.pk}/assign/", {"user": "manager1"}, format="json"
    )
    assert moved.status_code == 200
    assert personal_rows(named, task) == set()
    assert api_for(named).get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert page_for(named).get(f"/tasks/{task.pk}/").status_code == 404
