"""Group membership decides who may approve: every change is audited with its actor."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _membership_events():
    return [
        (e.actor_repr, e.action, e.payload["group"], e.payload["user"])
        for e in AuditEvent.objects.filter(action__startswith="group.member").order_by(
            "chain_seq"
        )
    ]


def test_admin_editing_a_users_groups_is_audited_as_that_admin(users):
    get_user_model().objects.create_superuser("boss", "b@example.com", "pw-boss")
    target = users["requester"]
    finance = Group.objects.get(name="Finance")
    before = len(_membership_events())
    client = Client()
    assert client.login(request=HttpRequest(), username="boss", password="pw-boss")
    response = client.post(
        f"/admin/auth/user/{target.pk}/change/",
        {
            "username": target.username,
            "email": target.email,
            "is_active": "on",
            "groups": [finance.pk],  # drops Requester, adds Finance
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(target.groups.values_list("name", flat=True)) == {"Finance"}
    assert sorted(_membership_events()[before:]) == [
        ("boss", "group.member_added", "Finance", "requester"),
        ("boss", "group.member_removed", "Requester", "requester"),
    ]


def test_changes_outside_a_request_are_the_systems_and_clear_is_itemised(users):
    user = users["manager1"]
    user.groups.add(Group.objects.get(name="Finance"))
    before = len(_membership_events())
    user.groups.clear()
    assert sorted(_membership_events()[before:]) == [
        ("system", "group.member_removed", "Finance", "manager1"),
        ("system", "group.member_removed", "Manager", "manager1"),
    ]
