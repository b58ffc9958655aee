"""Auditors read everything and change nothing: every URL, every changing method."""

import re
import uuid

import pytest
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AuditEvent
from engine.models import Case
from processes.models import ProcessVersion
from tasks_app.models import HumanTask
from tests.audit.helpers import start_case, token_client
from tests.conftest import EXAMPLES, PASSWORD

pytestmark = pytest.mark.django_db

METHODS = ("post", "put", "patch", "delete")
# Signing in and out changes only the caller's own session or token; saved inbox
# filters and the e-mail setting only the caller's own preferences.
OWN_SESSION = (
    "login/",
    "logout/",
    "api/v1/auth/token/",
    "api/v1/auth/logout/",
    "admin/login/",
    "profile/",
    "filters/",
    "api/v1/profile/",
    "api/v1/tasks/filters/",
)
BODY = {
    "process": "purchase_request",
    "data": {"amount": 1, "justification": "x", "approved": True},
    "username": "auditor",
    "user": "auditor",
    "name": "payment_received",
    "reason": "audit",
    "comment": "audit",
}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def _concrete(route: str, ids: dict[str, str]) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")

    def value(match: re.Match) -> str:
        name = match.group("name")
        return ids.get(name, "1" if "id" in name or name == "number" else "x")

    route = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)
    route = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", value, route)
    return "/" + route


def _state() -> tuple:
    return (
        AuditEvent.objects.count(),
        sorted(Case.objects.values_list("id", "status")),
        sorted(HumanTask.objects.values_list("id", "status", "assignee_id")),
        ProcessVersion.objects.count(),
        sorted(Group.objects.values_list("name", "user__username")),
    )


@pytest.fixture
def open_case(users, purchase):
    case_id = start_case(
        token_client(users["requester"]),
        "purchase_request",
        {"amount": 50, "justification": "Desk"},
    )
    task = HumanTask.objects.get(case_id=case_id, status="open")
    return {
        "case_id": case_id,
        "task_id": str(task.pk),
        "incident_id": str(uuid.uuid4()),
        "key": "purchase_request",
        "number": "1",
        "object_id": str(users["auditor"].pk),
    }


def _sweep(user, ids: dict[str, str]) -> dict[tuple[str, str], int]:
    """Send every state-changing method to every URL as this user."""
    api = token_client(user)
    page = Client()
    assert page.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    routes = [r for r in _patterns(get_resolver()) if not r.startswith(OWN_SESSION)]
    assert len(routes) > 30
    answers = {}
    for route in routes:
        url = _concrete(route, ids)
        for method in METHODS:
            if url.startswith("/api/"):
                response = getattr(api, method)(url, BODY, format="json")
            else:
                response = getattr(page, method)(url, BODY)
            answers[(method, url)] = response.status_code
    return answers


def test_auditors_can_change_nothing_anywhere(users, open_case):
    before = _state()
    answers = _sweep(users["auditor"], open_case)
    assert _state() == before
    assert {
        key: status
        for key, status in answers.items()
        if not (400 <= status < 500 or (status == 302 and "/admin/" in key[1]))
    } == {}
    with open(EXAMPLES / "purchase_request.bpmn", "rb") as bpmn:
        upload = token_client(users["auditor"]).post(
            "/api/v1/processes/", {"file": bpmn}, format="multipart"
        )
    assert upload.status_code == 403
    assert _state() == before


def test_the_same_sweep_by_a_requester_does_change_things(users, open_case):
    before = _state()
    _sweep(users["requester"], open_case)  # may start and cancel own cases
    assert _state() != before
