"""A version page's Start button in headless Chromium: it follows the version the
start page starts (the current one), says which, and starts a case of it."""

import os

import pytest

from engine.models import Case
from processes.services import version_upload
from tests.conftest import BPMN_DIR, deploy
from tests.tasks_app.test_startable_in_tasklist import PURCHASE, _marked
from tests.web.test_browser import (
    Session,
    browser,  # noqa: F401 - the fixture
)

# Playwright's sync API runs an event loop in this thread (see test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser]

SCREENSHOTS = os.environ.get("LANEWAY_SCREENSHOTS", "")


def test_an_older_version_page_starts_the_current_version(
    live_server,
    users,
    browser,  # noqa: F811 - the fixture above
):
    for bpmn in (_marked("false"), PURCHASE):  # v1 not startable, v2 startable
        version_upload(user=users["analyst"], bpmn=bpmn, filename="purchase.bpmn")
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    page.goto("/processes/purchase_request/v1/")
    said = page.get_by_test_id("startable-in-tasklist").inner_text()
    assert "the start page starts the current version, v2" in said
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/version-start-older.png", full_page=True)
    page.get_by_role("link", name="Start a case of v2").click()
    page.get_by_label("Amount (EUR)").fill("120")
    page.get_by_label("Justification").fill("A new monitor")
    page.get_by_role("button", name="Start case").click()
    page.get_by_text("Purchase request started.").wait_for()
    requester.close()
    assert Case.objects.get().version.number == 2


def test_a_version_page_offers_start_only_to_its_starters_and_not_for_event_starts(
    live_server,
    users,
    browser,  # noqa: F811 - the fixture above
):
    version_upload(user=users["analyst"], bpmn=PURCHASE, filename="purchase.bpmn")
    deploy(BPMN_DIR / "message_start.bpmn", users["analyst"])
    outsider = Session(browser, live_server.url, "outsider")
    page = outsider.page
    page.goto("/processes/purchase_request/v1/")
    page.get_by_test_id("startable-in-tasklist").wait_for()
    assert page.get_by_test_id("start-case").count() == 0
    if SCREENSHOTS:
        page.screenshot(
            path=f"{SCREENSHOTS}/version-start-outsider.png", full_page=True
        )
    outsider.close()
    finance = Session(browser, live_server.url, "finance")
    page = finance.page
    page.goto("/processes/order_intake/v1/")
    said = page.get_by_test_id("starts-by-event")
    assert said.inner_text() == "Starts only by its message start event"
    assert said.is_visible()
    assert page.get_by_test_id("start-case").count() == 0
    if SCREENSHOTS:
        shot = f"{SCREENSHOTS}/version-start-message.png"
        page.screenshot(path=shot, full_page=True)
    finance.close()
