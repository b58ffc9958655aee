"""Read-only Django admin: versions, cases, tasks, incidents and audit events."""

import pytest
from django.contrib.auth import get_user_model

from engine.models import Case
from tests.clients import page_for

from .conftest import start_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(users):
    return get_user_model().objects.create_superuser("root", "r@example.com", "pw")


@pytest.mark.parametrize(
    "path",
    [
        "processes/processversion",
        "engine/case",
        "tasks_app/humantask",
        "engine/incident",
        "audit/auditevent",
    ],
)
def test_each_list_shows_and_nothing_can_be_added(root, users, purchase, path):
    start_purchase(users)  # a case, a task and audit events to list
    client = page_for(root)
    assert client.get(f"/admin/{path}/").status_code == 200
    assert client.get(f"/admin/{path}/add/").status_code == 403


def test_a_case_cannot_be_changed_or_deleted_in_the_admin(root, users, purchase):
    case = start_purchase(users)
    client = page_for(root)
    page = client.get(f"/admin/engine/case/{case.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    client.post(f"/admin/engine/case/{case.pk}/change/", {"status": "cancelled"})
    assert (
        client.post(
            f"/admin/engine/case/{case.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Case.objects.get(pk=case.pk).status == "running"
