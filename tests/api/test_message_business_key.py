"""POST /api/v1/messages/ with `business_key` (Camunda 7's processInstanceBusinessKey).

Camunda 7 (`DefaultCorrelationHandler.correlateMessageToExecutions`, REST
`POST /message` `businessKey`): only the process instances with that business key
are candidates for the waiting catch event, receive task or boundary event,
besides the correlation keys (AND); a message start event is not narrowed by it,
and the instance it starts gets the business key. `correlate()` keeps its
answers: nobody matches → 404, several match → 409; `correlateAll()` ("all")
delivers to every matching instance with that key and starts what starts.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from config.celery import app
from engine.errors import FormInvalid
from engine.models import BufferedMessage, Case
from engine.services import message_deliver
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for


def _send(api, body):
    return api.post("/api/v1/messages/", body, format="json")


def _start(user, process, business_key, data) -> Case:
    """Start a case through the API, as a client would; return it."""
    started = api_for(user).post(
        "/api/v1/cases/",
        {"process": process, "data": data, "business_key": business_key},
        format="json",
    )
    assert started.status_code == 201, started.content
    return Case.objects.get(pk=started.json()["id"])


def _statuses(*cases: Case) -> list[str]:
    for case in cases:
        case.refresh_from_db()
    return [case.status for case in cases]


@pytest.fixture
def invoices(users):
    """Two cases waiting for `invoice_paid`, both for invoice 7, keyed INV-A / INV-B."""
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    return [
        _start(users["requester"], "notify_receiver", key, {"invoice": "7"})
        for key in ("INV-A", "INV-B")
    ]


@pytest.fixture
def sender(users):
    return api_for(users["padmin"])


@pytest.mark.django_db
def test_the_business_key_picks_the_case_among_equal_correlations(invoices, sender):
    case_a, case_b = invoices
    body = {"name": "invoice_paid", "correlation": {"invoice": "7"}}
    # Without it both match: correlate() refuses, as Camunda does.
    ambiguous = _send(sender, body)
    assert ambiguous.status_code == 409, ambiguous.content
    assert ambiguous.json()["code"] == "message_ambiguous"

    answer = _send(sender, {**body, "business_key": "INV-B", "data": {"paid": 1}})

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"delivered": [str(case_b.pk)], "started": []}
    assert _statuses(case_a, case_b) == ["running", "completed"]
    [delivered] = AuditEvent.objects.filter(action="message.delivered")
    assert delivered.case_id == case_b.pk
    assert delivered.payload["business_key"] == "INV-B"
    assert delivered.payload["correlation"] == {"invoice": "7"}


@pytest.mark.django_db
def test_the_business_key_and_correlation_must_both_match(invoices, sender):
    """The key narrows the correlation, it does not replace it (AND)."""
    case_a, case_b = invoices
    answer = _send(
        sender,
        {
            "name": "invoice_paid",
            "correlation": {"invoice": "8"},
            "business_key": "INV-A",
        },
    )
    assert answer.status_code == 404
    assert _statuses(case_a, case_b) == ["running", "running"]


@pytest.mark.django_db
def test_no_case_with_the_business_key_is_the_no_match_answer(invoices, sender):
    case_a, case_b = invoices
    unknown = {"name": "invoice_paid", "correlation": {"invoice": "8"}}
    no_match = _send(sender, unknown)
    assert no_match.status_code == 404

    answer = _send(
        sender,
        {
            "name": "invoice_paid",
            "correlation": {"invoice": "7"},
            "business_key": "INV-Z",
        },
    )

    assert answer.status_code == no_match.status_code == 404
    assert answer.json()["code"] == no_match.json()["code"] == "message_not_correlated"
    assert "INV-Z" in answer.json()["message"]
    assert answer.json()["details"]["business_key"] == "INV-Z"
    assert _statuses(case_a, case_b) == ["running", "running"]
    assert not AuditEvent.objects.filter(action="message.delivered").exists()


@pytest.mark.django_db
def test_a_message_start_gives_the_new_case_the_business_key(users, sender):
    deploy(BPMN_DIR / "payment_start.bpmn", users["analyst"])
    answer = _send(
        sender,
        {"name": "payment_received", "business_key": "PAY-9", "data": {"amount": 5}},
    )
    assert answer.status_code == 201, answer.content
    [started] = answer.json()["started"]
    shown = sender.get(f"/api/v1/cases/{started}/")
    assert shown.status_code == 200
    assert shown.json()["business_key"] == "PAY-9"
    assert shown.json()["process"] == "unmatched_payment"
    start_event = AuditEvent.objects.get(action="case.started", case_id=started)
    assert start_event.payload["business_key"] == "PAY-9"


def _payment_waiting(users, business_key: str) -> Case:
    """A payment_wait case for order A-1 past its first task, waiting for payment."""
    case = _start(users["requester"], "payment_wait", business_key, {"order_id": "A-1"})
    finance = api_for(users["finance"])
    [task] = finance.get(f"/api/v1/tasks/?case={case.pk}").json()["results"]
    done = finance.post(
        f"/api/v1/tasks/{task['id']}/complete/", {"data": {}}, format="json"
    )
    assert done.status_code == 200, done.content
    return case


@pytest.mark.django_db
def test_all_delivers_to_every_case_with_the_key_and_starts_with_it(users, sender):
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    deploy(BPMN_DIR / "payment_start.bpmn", users["analyst"])
    first, second = (_payment_waiting(users, "ORD-1") for _ in range(2))
    other = _payment_waiting(users, "ORD-2")

    answer = _send(
        sender,
        {
            "name": "payment_received",
            "correlation": {"order_id": "A-1"},
            "business_key": "ORD-1",
            "all": True,
        },
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["delivered"] == [str(first.pk), str(second.pk)]
    assert _statuses(first, second, other) == ["completed", "completed", "running"]
    [started] = body["started"]
    new = Case.objects.get(pk=started)
    assert (new.version.definition.key, new.business_key) == (
        "unmatched_payment",
        "ORD-1",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [42, 4.5, True, ["INV-B"], {"key": "INV-B"}, "x" * 256])
def test_a_bad_business_key_is_400_naming_it_and_changes_nothing(invoices, sender, bad):
    before = AuditEvent.objects.count()
    answer = _send(
        sender,
        {
            "name": "invoice_paid",
            "correlation": {"invoice": "7"},
            "business_key": bad,
            "all": True,
            "ttl_s": 60,
        },
    )
    assert answer.status_code == 400, answer.content
    assert "business_key" in answer.json()["details"]["fields"]
    assert _statuses(*invoices) == ["running", "running"]
    assert AuditEvent.objects.count() == before
    assert not BufferedMessage.objects.exists()


@pytest.mark.django_db
def test_the_longest_business_key_a_case_may_have_is_taken(users, sender):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    key = "k" * 255
    _start(users["requester"], "notify_receiver", "k" * 254, {})
    case = _start(users["requester"], "notify_receiver", key, {})
    answer = _send(sender, {"name": "invoice_paid", "business_key": key})
    assert answer.json() == {"delivered": [str(case.pk)], "started": []}


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [42, "x" * 256])
def test_the_service_refuses_a_bad_business_key_for_every_caller(users, bad):
    """A page or a command calling the service gets the same rule as the API."""
    with pytest.raises(FormInvalid) as refused:
        message_deliver(
            user=users["padmin"],
            name="invoice_paid",
            correlation={},
            data={},
            business_key=bad,
        )
    assert "business_key" in refused.value.details["fields"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_kept_message_with_a_business_key_waits_for_a_case_with_it(users, sender):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    kept = _send(
        sender,
        {
            "name": "invoice_paid",
            "correlation": {"invoice": "7"},
            "business_key": "INV-B",
            "ttl_s": 600,
        },
    )
    assert kept.status_code == 202, kept.content
    listed = sender.get("/api/v1/messages/kept/").json()["results"]
    assert [m["business_key"] for m in listed] == ["INV-B"]
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case_a = _start(
            users["requester"], "notify_receiver", "INV-A", {"invoice": "7"}
        )
        case_b = _start(
            users["requester"], "notify_receiver", "INV-B", {"invoice": "7"}
        )
        assert _wait_for(
            lambda: Case.objects.filter(pk=case_b.pk, status="completed").exists()
        )
    assert _statuses(case_a) == ["running"]
    assert not BufferedMessage.objects.exists()
    [delivered] = AuditEvent.objects.filter(action="message.delivered")
    assert delivered.case_id == case_b.pk
    assert delivered.payload["business_key"] == "INV-B"


@pytest.mark.django_db
def test_an_idempotency_key_reused_for_another_business_key_is_422(invoices, sender):
    body = {"name": "invoice_paid", "correlation": {"invoice": "7"}}
    headers = {"HTTP_IDEMPOTENCY_KEY": "pay-b"}
    first = sender.post(
        "/api/v1/messages/", {**body, "business_key": "INV-B"}, format="json", **headers
    )
    assert first.status_code == 200, first.content
    other = sender.post(
        "/api/v1/messages/", {**body, "business_key": "INV-A"}, format="json", **headers
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert _statuses(*invoices) == ["running", "completed"]


@pytest.mark.django_db
def test_several_cases_with_the_business_key_is_the_ambiguous_answer(users, sender):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    twins = [_start(users["requester"], "notify_receiver", "DUP", {}) for _ in "ab"]
    answer = _send(sender, {"name": "invoice_paid", "business_key": "DUP"})
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "message_ambiguous"
    assert answer.json()["details"]["matches"] == 2
    assert _statuses(*twins) == ["running", "running"]
    assert not AuditEvent.objects.filter(action="message.delivered").exists()
