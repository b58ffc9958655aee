"""Shared fixtures: demo users and groups, the purchase example, audit-safe flushes."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.commands import flush
from django.db import connections

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
    "padmin": ["process-admins"],
    "outsider": [],
}


def _flush_with_triggers_off(original):
    # The audit table rejects TRUNCATE; the flush that ends a transactional test
    # must switch triggers off explicitly (ARCHITECTURE §9), and back on after.
    def handle(self, **options):
        conn = connections[options.get("database") or "default"]
        if conn.vendor != "postgresql":
            return original(self, **options)
        with conn.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            return original(self, **options)
        finally:
            with conn.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")

    return handle


flush.Command.handle = _flush_with_triggers_off(flush.Command.handle)


@pytest.fixture
def users(db):
    """The demo cast, each in the groups of their role; password PASSWORD."""
    created = {}
    for username, groups in USERS.items():
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", PASSWORD
        )
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        created[username] = user
    return created


def deploy(path: Path, user, **kwargs):
    """Deploy a diagram through the real service and return the first version."""
    return version_upload(
        user=user, bpmn=path.read_bytes(), filename=path.name, **kwargs
    )[0].version


def deploy_with_form(path: Path, form: Path, user):
    """Deploy a diagram with the Camunda Form (.form file) it names."""
    return deploy(path, user, form_files=[(form.name, form.read_bytes())])


def legacy_completion_incident(case, task, *, element_name: str, message: str):
    """Write the incident a failed completion (a complete listener's error)
    left at `task` before such completions were refused: a database from then
    may still hold one open."""
    from engine.models import Incident

    return Incident.objects.create(
        case=case,
        kind=Incident.Kind.SCRIPT,
        spiff_task_id=task.spiff_task_id,
        bpmn_id=task.bpmn_id,
        element_name=element_name,
        error_type="ScriptError",
        message=message,
    )


def deploy_timer_escalation(tmp_path: Path, user, deadline: str):
    """Deploy tests/bpmn/timer_escalation.bpmn with its review's deadline timer
    set to `deadline` (an ISO 8601 duration); return the version."""
    xml = (BPMN_DIR / "timer_escalation.bpmn").read_text()
    path = tmp_path / "timer_escalation.bpmn"
    path.write_text(xml.replace("DEADLINE", deadline))
    return deploy(path, user)


@pytest.fixture
def purchase(users):
    """examples/purchase_request.bpmn, deployed by the analyst."""
    return deploy(EXAMPLES / "purchase_request.bpmn", users["analyst"])
