"""A suspended case's tasks leave every inbox and offer no action until it resumes."""

import pytest

from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db


def test_a_suspended_cases_task_waits_out_of_the_inbox(users, review):
    manager, admin = api_for(users["manager1"]), api_for(users["padmin"])
    case_url = f"/api/v1/cases/{review.case_id}/"
    before = manager.get("/api/v1/tasks/").json()["count"]
    counts = manager.get("/api/v1/tasks/counts/").json()
    assert admin.post(case_url + "suspend/", {"reason": "audit"}).status_code == 200

    assert manager.get("/api/v1/tasks/").json()["count"] == before - 1
    after = manager.get("/api/v1/tasks/counts/").json()
    assert all(after[tab] <= counts[tab] for tab in counts) and after != counts
    inbox = page_for(users["manager1"]).get("/")
    assert str(review.pk) not in inbox.content.decode()
    # Open by its link: it says why, and offers nothing that would answer 409.
    detail = manager.get(f"/api/v1/tasks/{review.pk}/").json()
    assert detail["actions"] == []
    page = page_for(users["manager1"]).get(f"/tasks/{review.pk}/").content.decode()
    assert 'id="case-suspended"' in page and "Complete task" not in page
    claim = manager.post(f"/api/v1/tasks/{review.pk}/claim/")
    assert (claim.status_code, claim.json()["code"]) == (409, "case_suspended")

    assert admin.post(case_url + "resume/", {"reason": "done"}).status_code == 200
    assert manager.get("/api/v1/tasks/").json()["count"] == before
    assert "claim" in manager.get(f"/api/v1/tasks/{review.pk}/").json()["actions"]
