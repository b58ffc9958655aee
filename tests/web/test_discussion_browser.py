"""The e-mail journey in headless Chromium, with a real worker and SMTP server.

The requester starts a purchase and adds a quote and a comment on the case page;
the manager, told by mail, finds the task by searching the inbox, reads the file
and the comment, answers and rejects with the Camunda Form (form-js) the analyst
uploaded with the diagram; the requester gets the revision's mail, follows its
link and revises; another manager approves with the same Camunda Form, finance
approves, and the case page shows the outcome. Screenshots of the case and task
pages (desktop and phone) go to test-artifacts/discussion/.
"""

import json
import re
from email.header import decode_header, make_header

import pytest
from celery.contrib.testing.worker import start_worker

import tasks_app.tasks  # noqa: F401  (registers the notify task)
from config.celery import app
from engine.models import Case
from tests.conftest import EXAMPLES, ROOT, deploy
from tests.engine.test_connectors import inbox  # noqa: F401 (the SMTP fixture)
from tests.engine.test_service_worker import _wait_for
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_pages_browser import look

ARTIFACTS = ROOT / "test-artifacts" / "discussion"
pytestmark = [pytest.mark.browser, pytest.mark.worker]
expect = pytest.importorskip("playwright.sync_api").expect

# The manager's decision as a Camunda Form drawn in Camunda Modeler (form-js JSON).
DECISION_FORM = {
    "id": "purchase-decision",
    "type": "default",
    "schemaVersion": 16,
    "components": [
        {
            "id": "Field_approved",
            "type": "checkbox",
            "key": "approved",
            "label": "Approve the request",
        },
        {
            "id": "Field_comment",
            "type": "textarea",
            "key": "comment",
            "label": "Comment",
            "validate": {"maxLength": 2000},
        },
    ],
}


@pytest.fixture
def purchase_with_form(users, tmp_path):
    """The purchase example with the manager's approval as a Camunda Form."""
    xml = (EXAMPLES / "purchase_request.bpmn").read_text()
    task = '<bpmn:userTask id="manager_review" name="Manager approval">'
    start = xml.index(task)
    form_data = xml.index("<camunda:formData>", start)
    end = xml.index("</camunda:formData>", form_data) + len("</camunda:formData>")
    xml = (
        xml[:start] + '<bpmn:userTask id="manager_review" name="Manager approval" '
        'camunda:formRef="purchase-decision" camunda:formRefBinding="deployment">'
        + xml[start + len(task) : form_data]
        + xml[end:]
    )
    path = tmp_path / "purchase_request.bpmn"
    path.write_text(xml)
    return deploy(
        path,
        users["analyst"],
        form_files=[("purchase-decision.form", json.dumps(DECISION_FORM).encode())],
    )


def _decide(session: Session, *, approve: bool, comment: str) -> None:
    """Fill the Camunda Form on the open task page and complete the task."""
    page = session.page
    page.locator("form[data-form-js][data-ready=true]").wait_for()
    box = page.get_by_label("Approve the request", exact=True)
    if approve:
        box.click()
        expect(box).to_be_checked()
    text = page.get_by_label("Comment", exact=True)
    text.fill(comment)
    text.blur()  # form-js writes a textarea's text on blur (or after a pause)
    page.get_by_role("button", name="Complete task").click()
    page.get_by_text("“Manager approval” completed.").wait_for()


def _link_for(inbox, to: str, subject_start: str) -> str:  # noqa: F811
    for recipients, message in inbox:
        subject = str(make_header(decode_header(message["Subject"]))).strip()
        if recipients == [to] and subject.startswith(subject_start):
            body = message.get_payload(decode=True).decode()
            return re.search(r"Open it: (\S+)", body).group(1)
    return ""


def test_mail_link_comment_attachment_journey(
    live_server,
    users,
    purchase_with_form,
    inbox,  # noqa: F811
    settings,
    tmp_path,
    browser,  # noqa: F811
):
    settings.TASKS_BASE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    quote = tmp_path / "quote-for-a-laptop-with-a-rather-long-file-name.pdf"
    quote.write_bytes(b"%PDF-1.4 three quotes")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        requester = Session(browser, live_server.url, "requester")
        page = requester.page
        page.goto("/processes/purchase_request/start/")
        page.get_by_label("Amount (EUR)").fill("1200")
        page.get_by_label("Justification").fill("A laptop for the new designer")
        page.get_by_label("Business key").fill("PO-" + "7" * 120)
        page.get_by_role("button", name="Start case").click()
        page.get_by_text("Purchase request started.").wait_for()
        page.get_by_label("Add a file").set_input_files(str(quote))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("was added to the case.").wait_for()
        page.get_by_label("Add to the discussion").fill(
            "Three quotes attached; " + "the-cheapest-is-" * 40 + "fine."
        )
        page.get_by_role("button", name="Post").click()
        page.get_by_text("Your comment was added.").wait_for()
        look(page, "case", ARTIFACTS)

        assert _wait_for(
            lambda: _link_for(inbox, "manager1@example.com", "New task: Manager")
        )
        link = _link_for(inbox, "manager1@example.com", "New task: Manager")
        assert link.startswith(live_server.url + "/tasks/")
        manager = Session(browser, live_server.url, "manager1")
        manager.page.get_by_label("Search", exact=True).fill("PO-7777")
        manager.page.get_by_role("button", name="Search").click()
        manager.page.wait_for_url("**search=PO-7777**")
        manager.page.get_by_role("link", name="Manager approval").first.click()
        manager.page.get_by_role("heading", name="Manager approval").wait_for()
        assert manager.page.url == link  # the mail's link is the task's page
        manager.page.get_by_role("link", name=quote.name).wait_for()
        manager.page.get_by_text("Three quotes attached").wait_for()
        with manager.page.expect_download() as download:
            manager.page.get_by_role("link", name=quote.name).click()
        assert download.value.suggested_filename == quote.name
        manager.page.get_by_label("Add to the discussion").fill("Too expensive.")
        manager.page.get_by_role("button", name="Post").click()
        manager.page.get_by_text("Your comment was added.").wait_for()
        look(manager.page, "task", ARTIFACTS)
        _decide(manager, approve=False, comment="Please find a cheaper model")
        manager.close()

        assert _wait_for(
            lambda: _link_for(inbox, "requester@example.com", "New task: Revise")
        )
        page.goto(_link_for(inbox, "requester@example.com", "New task: Revise"))
        page.get_by_role("heading", name="Revise request").wait_for()
        page.get_by_text("Too expensive.").wait_for()
        requester.complete(**{"Amount (EUR)": "900"})

        other = Session(browser, live_server.url, "manager2")
        other.open_task("Manager approval")
        assert other.page.get_by_label("Comment", exact=True).input_value() == (
            "Please find a cheaper model"  # the form shows the case's data
        )
        _decide(other, approve=True, comment="Fine at 900.")
        other.close()
        finance = Session(browser, live_server.url, "finance")
        finance.open_task("Finance approval")
        finance.page.get_by_label("Yes", exact=True).check()
        finance.complete(Comment="Paid from the IT budget.")
        finance.close()

        page.goto(f"/cases/{Case.objects.get().pk}/")
        expect(page.get_by_test_id("case-outcome")).to_contain_text("Purchase approved")
        page.get_by_text("manager2 approved “Manager approval”").wait_for()
        look(page, "case-outcome", ARTIFACTS)
        requester.close()
    case = Case.objects.get()
    assert case.status == "completed"
    assert case.data["amount"] == 900
    assert case.data["approved"] is True
    assert case.data["comment"] == "Fine at 900."
    assert case.data["finance_approved"] is True
