"""Built-in http_request and send_email on a real worker, against real local servers.

The HTTP server and the SMTP server (aiosmtpd) are started by the tests. The secret is
configured like the environment would (ENGINE_SECRETS / ENGINE_CONNECTIONS): it is on
the wire, and in no table and no log afterwards.
"""

import json
import logging
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.db import connection

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from config.celery import app
from engine.models import Case, ServiceCall
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "s3cr3t-erp-token-6f1c9a"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(
            {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
        )
        status = 404 if self.path.startswith("/orders/missing") else 201
        # Echo the Authorization header back: the answer must be redacted.
        answer = json.dumps({"id": 7, "auth": self.headers.get("Authorization")})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def erp(settings, http_server):
    url, seen = http_server
    settings.ENGINE_SECRETS = {"erp_token": SECRET}
    settings.ENGINE_CONNECTIONS = {
        "erp": {"url": url, "headers": {"Authorization": "Bearer {{secret:erp_token}}"}}
    }
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1
    return url, seen


def _every_row_as_text() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            rows.extend(r[0] for r in cursor.fetchall())
    return "\n".join(rows)


def _run(users, key, data, done):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(user=users["requester"], key=key, data=data)
        assert _wait_for(lambda: done(case))
    return Case.objects.get(pk=case.pk)


def test_http_request_from_a_spiffarena_diagram_uses_the_connection_secret(
    users, erp, caplog
):
    caplog.set_level(logging.DEBUG)
    deploy(BPMN_DIR / "http_spiff.bpmn", users["analyst"])
    case = _run(
        users,
        "http_spiff",
        {"amount": 12, "order_path": "/orders/"},
        lambda c: HumanTask.objects.filter(case=c, bpmn_id="check").exists(),
    )
    _, seen = erp
    assert len(seen) == 1  # exactly one request for one attempt
    request = seen[0]
    path, _, query = request["path"].partition("?")
    assert path == "/orders/"
    assert parse_qs(query) == {"source": ["laneway"], "sig": [SECRET]}
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert json.loads(request["body"]) == {"amount": 12}
    call = ServiceCall.objects.get(case=case)
    assert request["headers"]["Idempotency-Key"] == call.idempotency_key
    assert case.data["erp"]["status"] == 201
    assert case.data["erp"]["json"] == {"id": 7, "auth": "Bearer [redacted]"}
    assert SECRET not in _every_row_as_text()
    assert SECRET not in caplog.text


def test_a_mapped_status_is_a_bpmn_error_the_diagram_catches(users, erp):
    deploy(BPMN_DIR / "http_spiff.bpmn", users["analyst"])
    case = _run(
        users,
        "http_spiff",
        {"amount": 1, "order_path": "/orders/missing"},
        lambda c: HumanTask.objects.filter(case=c, bpmn_id="handle_missing").exists(),
    )
    assert ServiceCall.objects.get(case=case).status == "business_error"
    assert not case.has_incident
    assert SECRET not in _every_row_as_text()


def test_an_unmapped_failure_is_an_incident_without_the_secret(users, erp):
    deploy(BPMN_DIR / "http_camunda.bpmn", users["analyst"])
    case = _run(
        users,
        "http_camunda",
        {"erp_url": erp[0] + "/orders/missing?key={{secret:erp_token}}"},
        lambda c: c.incidents.exists(),
    )
    incident = case.incidents.get()
    # The message names the reference the diagram used, never the value.
    assert "HTTP 404 from POST" in incident.message
    assert "key={{secret:erp_token}}" in incident.message
    assert SECRET not in _every_row_as_text()


@pytest.mark.parametrize("key", ["http_camunda", "http_topic"])
def test_http_connector_and_topic_from_camunda_diagrams_deploy_and_call(
    users, erp, key
):
    url, seen = erp
    deploy(BPMN_DIR / f"{key}.bpmn", users["analyst"])
    case = _run(
        users,
        key,
        {"erp_url": url + "/orders/"},
        _completed,
    )
    assert len(seen) == 1
    assert seen[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert json.loads(seen[0]["body"]) == {"amount": 5}
    if key == "http_camunda":
        # Camunda's http-connector: the response reaches the case only through
        # the connector's output parameters (statusCode, response).
        assert case.data["erp_status"] == 201
        assert json.loads(case.data["erp_answer"])["id"] == 7
        assert "headers" not in case.data and "statusCode" not in case.data
    else:
        # An external task's result (a dict) is merged into the case variables.
        assert case.data["status"] == 201
        assert case.data["json"]["id"] == 7
    assert "call_erp_result" not in case.data
    assert SECRET not in _every_row_as_text()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox(settings):
    """A real SMTP server (aiosmtpd) that Django's SMTP backend sends to."""
    received = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(received, hostname="127.0.0.1", port=port)
    smtp.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield received.messages
    smtp.stop()


def _completed(case) -> bool:
    return Case.objects.get(pk=case.pk).status == "completed"


def test_send_email_reaches_a_real_smtp_server(users, inbox):
    deploy(BPMN_DIR / "mail_spiff.bpmn", users["analyst"])
    case = _run(
        users,
        "mail_spiff",
        {"requester_email": "ann@example.com", "order_id": "PO-3", "amount": 40},
        _completed,
    )
    assert len(inbox) == 1
    recipients, message = inbox[0]
    assert sorted(recipients) == ["ann@example.com", "finance@example.com"]
    assert message["Subject"] == "Order PO-3 approved"
    assert message.get_payload().strip() == "Your order of 40 EUR is approved."
    assert "".join(message["Message-ID"].split()) == case.data["mail"]["message_id"]


def test_mail_send_connector_from_a_camunda_diagram(users, inbox):
    deploy(BPMN_DIR / "mail_camunda.bpmn", users["analyst"])
    _run(users, "mail_camunda", {"requester_email": "bob@example.com"}, _completed)
    assert len(inbox) == 1
    recipients, message = inbox[0]
    assert recipients == ["bob@example.com"]
    assert (message["From"], message["Subject"]) == (
        "erp@example.com",
        "Order approved",
    )
    assert message.get_payload().strip() == "Your order is approved."
