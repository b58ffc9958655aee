"""Who may do what: every endpoint and page × every role (#14's authorisation matrix).

The world: the purchase example with a case that `requester` started, waiting at the
manager's approval (offered to the Manager group, unclaimed); `exdelegate` answered
it as manager2's delegate and lost it when it returned; `teamlead` manages the
Manager group ("Manager-managers"), so sees that case and acts on its tasks; a
second case of `requester` stopped at a script incident. Every row of
authorisation_matrix.txt is one method on one route; every column one role. Each
request runs inside a savepoint that is rolled back, so an allowed action (2xx)
does not change the world the next cell sees.

Codes mean what ARCHITECTURE §10 says: 401 anonymous (pages: 302 to the login), 404
may not see, 403 may see but not do this, 400/409 allowed but the body or the state
is wrong (the permission check came first), 2xx/302 done. Process definitions and
their diagrams are readable by every signed-in user (the case page draws its
diagram); their statistics and reports are for analysts, auditors and process
admins. A new route fails `test_every_route_is_in_the_matrix` until a row says who
may use it.
"""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest
from django.test import Client
from django.urls import get_resolver
from rest_framework.test import APIClient

from engine.models import Incident
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete, task_delegate, task_unclaim
from tests.audit.helpers import token_client
from tests.audit.test_auditors_change_nothing import _concrete, _patterns
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous", "requester", "requester2", "manager1", "finance", "analyst",
    "auditor", "padmin", "outsider", "exdelegate", "teamlead",
)  # fmt: skip
# Signing in and out touch only the caller's own session or token; they have their
# own tests (tests/api/test_sign_in_protection.py).
SKIPPED = ("admin/", "login/", "logout/", "api/v1/auth/")
BODY = {
    "process": "purchase_request",
    "data": {"amount": 1, "justification": "x", "approved": True},
    "user": "manager2",
    "name": "payment_received",
    "reason": "check",
    "set": {"amount": 2},
    "due_at": "2030-01-01T00:00:00Z",
}
MATRIX = Path(__file__).with_name("authorisation_matrix.txt")


def _expected() -> dict[tuple[str, str], tuple[str, ...]]:
    rows = {}
    for line in MATRIX.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, *rest = line.split()
        route = rest[0] if len(rest) == len(ROLES) + 1 else ""  # "" is the inbox
        rows[(method, route)] = tuple(rest[-len(ROLES) :])
    return rows


class _Rollback(Exception):
    pass


@pytest.fixture
def world(users, purchase):
    ex = get_user_model().objects.create_user("exdelegate", "ex@example.com", PASSWORD)
    lead = get_user_model().objects.create_user("teamlead", "tl@example.com", PASSWORD)
    lead.groups.add(Group.objects.create(name="Manager-managers"))
    users = {**users, "exdelegate": ex, "teamlead": lead}
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 50, "justification": "Desk"},
    )
    task = HumanTask.objects.get(case=case, status="open")
    task_claim(user=users["manager2"], task_id=task.pk)
    task_delegate(user=users["manager2"], task_id=task.pk, delegate="exdelegate")
    task_complete(user=ex, task_id=task.pk, data={"approved": True})
    task_unclaim(user=users["manager2"], task_id=task.pk)
    deploy(BPMN_DIR / "script_fails.bpmn", users["analyst"])
    failed, _ = case_start(
        user=users["requester"], key="script_fails", data={"amount": 3}
    )
    ids = {
        "case_id": str(case.pk),
        "task_id": str(task.pk),
        "incident_id": str(Incident.objects.get(case=failed).pk),
        "key": "purchase_request",
        "number": "1",
        "migration_id": "00000000-0000-0000-0000-000000000001",
        "attachment_id": "00000000-0000-0000-0000-000000000002",
        "execution_id": "00000000-0000-0000-0000-000000000003",
    }
    return users, ids, case


def _clients(users) -> dict[str, tuple]:
    clients: dict[str, tuple] = {"anonymous": (APIClient(), Client())}
    for role in ROLES[1:]:
        page = Client()
        assert page.login(request=HttpRequest(), username=role, password=PASSWORD)
        clients[role] = (token_client(users[role]), page)
    return clients


def _answer(client, method: str, url: str) -> str:
    try:
        with transaction.atomic():
            if isinstance(client, APIClient):
                response = getattr(client, method)(url, BODY, format="json")
            else:
                response = getattr(client, method)(url, BODY)
            raise _Rollback(str(response.status_code))
    except _Rollback as answer:
        return str(answer)


def _routes() -> list[str]:
    return [r for r in _patterns(get_resolver()) if not r.startswith(SKIPPED)]


def test_every_route_is_in_the_matrix():
    declared = {route for _, route in _expected()}
    missing = sorted(set(_routes()) - declared)
    assert not missing, f"declare who may use these routes in MATRIX: {missing}"
    assert not declared - set(_routes()), "MATRIX names routes that no longer exist"


def test_every_role_gets_exactly_its_answer_on_every_route(world):
    users, ids, _ = world
    clients = _clients(users)
    expected = _expected()
    wrong = []
    for route in _routes():
        url = _concrete(route, ids)
        for method in ("get", "post", "put", "patch", "delete"):
            want = expected.get((method, route))
            for i, role in enumerate(ROLES):
                api, page = clients[role]
                by_api = url.startswith(("/api/", "/engine-rest/"))
                got = _answer(api if by_api else page, method, url)
                if want is None:  # an undeclared method is refused to everyone
                    if got not in ("401", "302", "403", "404", "405"):
                        wrong.append(f"{method} {route} as {role}: {got}, refused?")
                elif got != want[i]:
                    wrong.append(f"{method} {route} as {role}: {got}, not {want[i]}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("role", ["requester2", "finance", "outsider", "exdelegate"])
def test_no_list_count_or_search_shows_what_a_role_may_not_see(world, role):
    users, ids, case = world
    api = token_client(users[role])
    for url in (
        "/api/v1/tasks/",
        f"/api/v1/tasks/?search={case.business_key or ids['case_id']}",
        "/api/v1/tasks/?search=Approve",
        f"/api/v1/tasks/?case={ids['case_id']}",
    ):
        assert api.get(url).json()["count"] == 0, url
    counts = api.get("/api/v1/tasks/counts/").json()
    assert all(value == 0 for value in counts.values()), counts
    listed = {c["id"] for c in api.get("/api/v1/cases/").json()["results"]}
    assert ids["case_id"] not in listed
    incidents = {i["id"] for i in api.get("/api/v1/incidents/").json()["results"]}
    assert ids["incident_id"] not in incidents
    page = Client()
    page.login(request=HttpRequest(), username=role, password=PASSWORD)
    for url in ("/", "/cases/", "/incidents/", "/dashboard/"):
        body = page.get(url).content.decode()
        assert ids["case_id"] not in body and ids["task_id"] not in body, url
