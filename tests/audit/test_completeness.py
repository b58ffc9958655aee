"""Every transition of a case lands in its chain, in order, with who did it."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.tasks import timers_fire_due_task
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.audit.helpers import start_case, token_client
from tests.conftest import BPMN_DIR, EXAMPLES, deploy, deploy_timer_escalation
from tests.engine.test_hardening_e2e import _diagram

pytestmark = pytest.mark.django_db


def _trail(case_id: str) -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.actor_repr, e.on_behalf_of, e.task_ref)
        for e in AuditEvent.objects.filter(case_id=case_id).order_by("chain_seq")
    ]


def _open_task(case_id: str) -> str:
    return str(HumanTask.objects.get(case_id=case_id, status="open").pk)


def test_purchase_journey_task_actions_in_exact_order(users, purchase):
    names = ("requester", "manager1", "manager2", "padmin")
    api = {name: token_client(users[name]) for name in names}
    case_id = start_case(
        api["requester"],
        "purchase_request",
        {"amount": 1500, "justification": "Laptop"},
    )
    review = _open_task(case_id)
    assert api["manager1"].post(f"/api/v1/tasks/{review}/claim/").status_code == 200
    assert api["manager1"].post(f"/api/v1/tasks/{review}/unclaim/").status_code == 200
    assign = api["padmin"].post(
        f"/api/v1/tasks/{review}/assign/", {"user": "manager2"}, format="json"
    )
    assert assign.status_code == 200
    delegate = api["manager2"].post(
        f"/api/v1/tasks/{review}/delegate/", {"user": "manager1"}, format="json"
    )
    assert delegate.status_code == 200
    answer = {"approved": True, "comment": "ok"}
    resolved = api["manager1"].post(
        f"/api/v1/tasks/{review}/complete/", {"data": answer}, format="json"
    )
    assert resolved.status_code == 200
    done = api["manager2"].post(
        f"/api/v1/tasks/{review}/complete/", {"data": answer}, format="json"
    )
    assert done.status_code == 200
    review_ref = f"manager_review:{review}"
    finance_ref = f"finance_review:{_open_task(case_id)}"
    assert _trail(case_id) == [
        ("case.started", "requester", "", ""),
        ("element.completed", "system", "", "start"),
        ("task.created", "system", "", review_ref),
        ("task.claimed", "manager1", "", review_ref),
        ("task.unclaimed", "manager1", "", review_ref),
        ("task.assigned", "padmin", "", review_ref),
        ("task.delegated", "manager2", "", review_ref),
        # Camunda's delegation: the delegate resolves for the owner, who completes
        ("task.resolved", "manager1", "manager2", review_ref),
        ("task.completed", "manager2", "", review_ref),
        ("element.completed", "system", "", "gw_manager"),
        ("task.created", "system", "", finance_ref),
    ]
    cancel = api["requester"].post(
        f"/api/v1/cases/{case_id}/cancel/",
        {"reason": "bought elsewhere"},
        format="json",
    )
    assert cancel.status_code == 200, cancel.content
    assert _trail(case_id)[11:] == [
        ("case.cancelled", "requester", "", ""),
        ("task.cancelled", "requester", "", finance_ref),  # her cancel closed it
    ]


def test_exports_and_group_changes_are_audited_on_the_system_chain(users, purchase):
    start = AuditEvent.objects.filter(chain="system").count()
    auditor = token_client(users["auditor"])
    assert auditor.get("/api/v1/audit/?format=csv").status_code == 200
    assert auditor.get("/api/v1/audit/?case=nope").status_code == 400
    users["finance"].groups.add(Group.objects.get(name="Manager"))
    system = AuditEvent.objects.filter(chain="system").order_by("chain_seq")[start:]
    assert [(e.action, e.actor_repr, e.payload.get("outcome")) for e in system] == [
        ("audit.exported", "auditor", "started"),
        ("audit.exported", "auditor", "rejected"),
        ("group.member_added", "system", None),
    ]


def test_message_delivery_in_exact_order(users):
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    erp = get_user_model().objects.create_user("erp", "erp@example.com", "pw-erp")
    erp.groups.add(Group.objects.get(name="integrations"))
    case_id = start_case(
        token_client(users["requester"]), "payment_wait", {"order_id": "A-7"}
    )
    prepare = _open_task(case_id)
    finance = token_client(users["finance"])
    done = finance.post(
        f"/api/v1/tasks/{prepare}/complete/",
        {"data": {"invoice": "INV"}},
        format="json",
    )
    assert done.status_code == 200, done.content
    sender = APIClient()
    sender.force_authenticate(erp)
    body = {"name": "payment_received", "correlation": {"order_id": "A-7"}, "data": {}}
    assert sender.post("/api/v1/messages/", body, format="json").status_code == 200
    ref = f"prepare:{prepare}"
    assert _trail(case_id) == [
        ("case.started", "requester", "", ""),
        ("element.completed", "system", "", "start"),
        ("task.created", "system", "", ref),
        ("task.claimed", "finance", "", ref),  # completing an unclaimed task claims it
        ("task.completed", "finance", "", ref),
        ("message.delivered", "erp", "", ""),
        ("element.completed", "system", "", "wait_payment"),
        ("element.completed", "system", "", "end"),
        ("case.completed", "system", "", ""),
    ]


def test_incident_and_its_retry_in_exact_order(users):
    failing = _diagram("x = 1", "10**10**8 > 0")  # the gateway's condition fails
    version_upload(user=users["analyst"], bpmn=failing, filename="h.bpmn")
    requester, padmin = token_client(users["requester"]), token_client(users["padmin"])
    case_id = start_case(requester, "hostile_gateway", {"amount": 5})
    [incident] = padmin.get("/api/v1/incidents/").json()["results"]
    retry = padmin.post(f"/api/v1/incidents/{incident['id']}/retry/")
    assert retry.status_code == 200
    assert _trail(case_id) == [
        ("case.started", "requester", "", ""),
        ("element.completed", "system", "", "start"),
        ("element.completed", "system", "", "prepare"),
        ("incident.opened", "system", "", "gw"),
        # A retry that fails again keeps the one incident and adds the attempt to it
        # (issue 11): no resolved-then-identical-new pair.
        ("incident.retry_requested", "padmin", "", "gw"),
        ("incident.retry_failed", "system", "", "gw"),
    ]


def test_timer_escalation_in_exact_order(users, tmp_path):
    deploy_timer_escalation(tmp_path, users["analyst"], "PT1S")
    case_id = start_case(token_client(users["requester"]), "timer_escalation", {})
    review = _open_task(case_id)
    time.sleep(1.2)
    assert timers_fire_due_task() == 1  # the periodic Celery task
    escalated = f"escalated_review:{_open_task(case_id)}"
    assert _trail(case_id) == [
        ("case.started", "requester", "", ""),
        ("element.completed", "system", "", "start"),
        ("task.created", "system", "", f"review:{review}"),
        ("timer.fired", "system", "", ""),
        ("element.completed", "system", "", "too_late"),  # interrupting boundary
        ("task.cancelled", "system", "", f"review:{review}"),
        ("task.created", "system", "", escalated),
    ]


def test_repairs_and_a_migration_in_exact_order(users, purchase, tmp_path):
    """Suspend, resume, a data change and a migration: each with who and why."""
    from cockpit.models import CaseMigration
    from cockpit.tasks import migration_run_task

    admin = token_client(users["padmin"])
    case_id = start_case(
        token_client(users["requester"]),
        "purchase_request",
        {"amount": 50, "justification": "Desk"},
    )
    url = f"/api/v1/cases/{case_id}/"
    assert admin.post(url + "suspend/", {"reason": "audit"}).status_code == 200
    assert admin.post(url + "resume/", {"reason": "done"}).status_code == 200
    change = {"set": {"amount": 60}, "unset": [], "reason": "typo"}
    assert admin.patch(url + "data/", change, format="json").status_code == 200
    newer = (EXAMPLES / "purchase_request.bpmn").read_text()
    path = tmp_path / "purchase_request.bpmn"
    path.write_text(newer.replace('name="Purchase request"', 'name="Purchase v2"', 1))
    assert deploy(path, users["analyst"]).number == 2
    plan = {"from_version": 1, "to_version": 2, "reason": "new name"}
    answer = admin.post(
        "/api/v1/processes/purchase_request/migrations/", plan, format="json"
    )
    assert answer.status_code == 202, answer.content
    migration_run_task.apply(args=[answer.json()["id"]])  # what the worker runs
    assert CaseMigration.objects.get().migrated == [case_id]
    trail = [(a, who, why) for a, who, _, why in _trail_with_reason(case_id)]
    assert trail[-4:] == [
        ("case.suspended", "padmin", "audit"),
        ("case.resumed", "padmin", "done"),
        ("case.data_changed", "padmin", "typo"),
        ("case.migrated", "padmin", "new name"),
    ]


def _trail_with_reason(case_id: str) -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.actor_repr, e.on_behalf_of, e.payload.get("reason", ""))
        for e in AuditEvent.objects.filter(case_id=case_id).order_by("chain_seq")
    ]


def test_comments_attachments_service_attempts_and_signals_in_exact_order(
    users, purchase, settings, tmp_path
):
    """The rest of #12's kinds: each lands in its case's chain with who did it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from engine.models import ServiceCall
    from engine.services import case_start
    from engine.tasks import service_call_run_task

    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_SERVICE_OPERATIONS = {"test.flaky": "tests.operations.always_fails"}
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 2
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 0
    # Comments and attachments on a purchase.
    case_id = start_case(
        token_client(users["requester"]),
        "purchase_request",
        {"amount": 50, "justification": "Desk"},
    )
    review = _open_task(case_id)
    manager = token_client(users["manager1"])
    said = manager.post(
        f"/api/v1/tasks/{review}/comments/", {"text": "Which desk?"}, format="json"
    )
    assert said.status_code == 201, said.content
    upload = token_client(users["requester"]).post(
        f"/api/v1/cases/{case_id}/attachments/",
        {"file": SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    tail = [(a, who) for a, who, _, _ in _trail(case_id)][-2:]
    assert tail == [("comment.added", "manager1"), ("attachment.added", "requester")]
    # A service call failing on both allowed attempts.
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="service_flaky", data={"amount": 1}
    )
    for _ in range(2):
        call = ServiceCall.objects.get(case=case)
        service_call_run_task(call.pk)  # what the worker runs
    attempts = [
        (e.action, e.actor_repr, e.payload.get("attempt"))
        for e in AuditEvent.objects.filter(case_id=case.pk).order_by("chain_seq")
        if e.action.startswith(("service.", "incident."))
    ]
    assert attempts == [
        ("service.queued", "system", None),
        ("service.started", "system", 1),
        ("service.retry_scheduled", "system", 1),
        ("service.started", "system", 2),
        ("service.failed", "system", None),  # after the last attempt
        ("incident.opened", "system", None),
    ]
    # A signal from the API reaches a waiting case.
    deploy(BPMN_DIR / "signal_catchers.bpmn", users["analyst"])
    waiting, _ = case_start(user=users["requester"], key="signal_wait", data={})
    admin = token_client(users["padmin"])
    sent = admin.post("/api/v1/signals/", {"name": "go", "data": {}}, format="json")
    assert sent.status_code == 200, sent.content
    assert str(waiting.pk) in sent.json()["delivered"]
    signal_events = [
        (a, who) for a, who, _, _ in _trail(str(waiting.pk)) if a.startswith("signal.")
    ]
    assert signal_events == [("signal.delivered", "padmin")]
