"""Shared fixtures: demo users and groups, the deployed purchase example, audit-safe flushes."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from processes.services import version_upload

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BPMN_DIR = Path(__file__).resolve().parent / "bpmn"
PASSWORD = "pw-for-tests"

USERS = {
    "requester": ["Requester"],
    "requester2": ["Requester"],
    "manager1": ["Manager"],
    "manager2": ["Manager"],
    "finance": ["Finance"],
    "analyst": ["analysts"],
    "auditor": ["auditors"],
    "outsider": [],
}


def _replication_role(role: str) -> None:
    # The audit table rejects TRUNCATE; a test database flush must switch
    # triggers off explicitly (ARCHITECTURE §9), and back on for the next test.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET session_replication_role = {role}")


@pytest.fixture
def db(db):
    _replication_role("origin")
    yield


@pytest.fixture
def transactional_db(transactional_db):
    _replication_role("origin")
    yield
    _replication_role("replica")


@pytest.fixture
def users(db):
    """The demo cast, each in the groups of their role; password PASSWORD."""
    created = {}
    for username, groups in USERS.items():
        user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        created[username] = user
    return created


def deploy(path: Path, user, **kwargs):
    """Deploy a diagram through the real service and return the first version."""
    return version_upload(user=user, bpmn=path.read_bytes(), filename=path.name, **kwargs)[0].version


@pytest.fixture
def purchase(users):
    """examples/purchase_request.bpmn, deployed by the analyst."""
    return deploy(EXAMPLES / "purchase_request.bpmn", users["analyst"])
