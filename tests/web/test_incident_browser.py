"""The incident page in headless Chromium: read what failed, then complete the step."""

import os

import pytest

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from engine.models import Case, Incident
from tasks_app.models import HumanTask
from tests.engine.test_incident_lifecycle import (
    failed_case,
    failing_service,  # noqa: F401 - the fixture
)
from tests.web.test_browser import (
    Session,
    browser,  # noqa: F401 - the fixture
)

# Playwright's sync API runs an event loop in this thread (see test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SCREENSHOTS = os.environ.get("LANEWAY_SCREENSHOTS", "")


def test_admin_reads_the_attempts_and_completes_the_step_with_data(
    live_server,
    users,
    failing_service,  # noqa: F811 - the fixture above
    browser,  # noqa: F811 - the fixture above
):
    case = failed_case(users)
    incident = Incident.objects.get(case=case)
    admin = Session(browser, live_server.url, "padmin")
    page = admin.page
    page.goto("/incidents/")
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/incident-list.png", full_page=True)
    page.get_by_role("link", name="Call echo").click()
    page.get_by_role("heading", name="Call echo").wait_for()
    summary = page.get_by_test_id("incident-summary").inner_text()
    assert summary == (
        "The service call of step “Call echo” failed after 2 attempts: ERP is down."
    )
    rows = page.get_by_test_id("incident-attempts").locator("tbody tr")
    assert rows.count() == 2
    assert "Attempt 2: ConnectionError: ERP is down" in rows.nth(1).inner_text()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/incident-open.png", full_page=True)

    page.get_by_label("Result (JSON object)").fill('{"po_number": "PO-9"}')
    page.get_by_role("button", name="Complete step with this data").click()
    page.get_by_text("completed with the data you entered").wait_for()
    assert (
        "Resolved by completing the step with data"
        in page.get_by_test_id("incident-status").inner_text()
    )
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/incident-skipped.png", full_page=True)
    admin.close()
    assert Incident.objects.get(pk=incident.pk).resolution == "skip"
    assert Case.objects.get(pk=case.pk).data["echo_result"] == {"po_number": "PO-9"}
    assert HumanTask.objects.filter(case=case, bpmn_id="check").exists()


def test_admin_takes_a_chosen_path_past_a_failed_gateway(
    live_server,
    users,
    browser,  # noqa: F811 - the fixture above
):
    from engine.services import case_start
    from tests.conftest import BPMN_DIR, deploy

    deploy(BPMN_DIR / "gateway_paths.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="gateway_paths", data={})
    incident = Incident.objects.get(case=case)
    admin = Session(browser, live_server.url, "padmin")
    page = admin.page
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/incidents/{incident.pk}/")
        if SCREENSHOTS:
            page.screenshot(
                path=f"{SCREENSHOTS}/incident-path-{width}.png", full_page=True
            )
    form = page.locator("#take-path")
    form.locator("select[name=flow]").select_option(label="Low → Low score review")
    form.locator("textarea[name=data]").fill('{"score": 2}')
    form.locator("input[name=reason]").fill("score agreed by phone")
    form.get_by_role("button", name="Take this path").click()
    page.get_by_text("Resolved by taking a chosen path").wait_for()
    assert page.get_by_text("The case took the chosen path").count() == 1
    assert list(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    ) == ["low_review"]
    assert Case.objects.get(pk=case.pk).data["score"] == 2


def test_admin_reads_an_undelivered_message_and_resends_it(
    live_server,
    users,
    browser,  # noqa: F811 - the fixture above
):
    from engine.services import case_start
    from tests.conftest import BPMN_DIR, deploy
    from tests.engine.test_message_incidents import _send

    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    sender = _send(users)
    incident = Incident.objects.get(case=sender)
    admin = Session(browser, live_server.url, "padmin")
    page = admin.page
    page.goto(f"/incidents/{incident.pk}/")
    summary = page.get_by_test_id("incident-summary").inner_text()
    assert summary == (
        "The message “invoice_paid” sent by step “Tell accounts” reached no case: "
        "no case waits for “invoice_paid” and no process starts with it; "
        "a message goes to exactly one case."
    )
    assert page.get_by_role("button", name="Cancel case").count() == 0  # completed
    page.get_by_role("button", name="Re-send message").click()
    page.get_by_text("Re-sent; still not delivered").wait_for()
    assert page.get_by_test_id("incident-attempts").locator("tbody tr").count() == 2
    page.set_viewport_size({"width": 390, "height": 844})
    if SCREENSHOTS:
        page.screenshot(
            path=f"{SCREENSHOTS}/incident-message-phone.png", full_page=True
        )
    page.set_viewport_size({"width": 1280, "height": 900})

    receiver, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    page.get_by_role("button", name="Re-send message").click()
    page.get_by_text("The message was re-sent and reached its case.").wait_for()
    status = page.get_by_test_id("incident-status").inner_text()
    assert "Resolved: message re-sent" in status
    if SCREENSHOTS:
        page.screenshot(
            path=f"{SCREENSHOTS}/incident-message-resent.png", full_page=True
        )
    receiver.refresh_from_db()
    assert receiver.status == Case.Status.COMPLETED
