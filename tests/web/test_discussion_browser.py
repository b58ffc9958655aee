"""The e-mail journey in headless Chromium, with a real worker and SMTP server.

The requester starts a purchase and adds a quote and a comment on the case page;
the manager gets the task's mail, follows its link, reads the file and the
comment, answers and rejects; the requester gets the revision's mail, follows its
link and revises. Screenshots of the case and task pages (desktop and phone) go to
test-artifacts/discussion/.
"""

import re
from email.header import decode_header, make_header

import pytest
from celery.contrib.testing.worker import start_worker

import tasks_app.tasks  # noqa: F401  (registers the notify task)
from config.celery import app
from engine.models import Case
from tests.conftest import ROOT
from tests.engine.test_connectors import inbox  # noqa: F401 (the SMTP fixture)
from tests.engine.test_service_worker import _wait_for
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_pages_browser import look

ARTIFACTS = ROOT / "test-artifacts" / "discussion"
pytestmark = [pytest.mark.browser, pytest.mark.worker]


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
    purchase,
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
        manager.page.goto(link)
        manager.page.get_by_role("heading", name="Manager approval").wait_for()
        manager.page.get_by_role("link", name=quote.name).wait_for()
        manager.page.get_by_text("Three quotes attached").wait_for()
        with manager.page.expect_download() as download:
            manager.page.get_by_role("link", name=quote.name).click()
        assert download.value.suggested_filename == quote.name
        manager.page.get_by_label("Add to the discussion").fill("Too expensive.")
        manager.page.get_by_role("button", name="Post").click()
        manager.page.get_by_text("Your comment was added.").wait_for()
        look(manager.page, "task", ARTIFACTS)
        manager.page.get_by_label("No", exact=True).check()
        manager.complete(Comment="Please find a cheaper model")
        manager.close()

        assert _wait_for(
            lambda: _link_for(inbox, "requester@example.com", "New task: Revise")
        )
        page.goto(_link_for(inbox, "requester@example.com", "New task: Revise"))
        page.get_by_role("heading", name="Revise request").wait_for()
        page.get_by_text("Too expensive.").wait_for()
        requester.complete(**{"Amount (EUR)": "900"})
        requester.close()
    case = Case.objects.get()
    assert case.data["amount"] == 900
    assert case.human_tasks.filter(bpmn_id="manager_review", status="open").exists()
