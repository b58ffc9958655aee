"""One purchase request through the web pages in headless Chromium (Playwright)."""

import os

import pytest
from django.db import connections

from engine.models import Case
from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in
# the test (fixtures, assertions) would otherwise be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


@pytest.fixture
def browser(transactional_db):
    """Headless Chromium; request it after the fixtures that write to the database.

    Playwright's sync API switches greenlets, and with them the context variables
    that hold Django's connections: a connection opened before it starts would be
    orphaned and block dropping the test database, so close them first.
    """
    playwright = pytest.importorskip("playwright.sync_api")
    connections.close_all()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
        connections.close_all()


class Session:
    """One signed-in person in their own browser context."""

    def __init__(self, browser, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto("/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(base_url + "/")

    def open_task(self, name: str) -> None:
        self.page.goto("/")
        self.page.get_by_role("link", name=name).first.click()
        self.page.get_by_role("heading", name=name).wait_for()

    def complete(self, **choices: str) -> None:
        for label, value in choices.items():
            self.page.get_by_label(label).fill(value)
        self.page.get_by_role("button", name="Complete task").click()
        self.page.wait_for_url(self.base_url + "/")

    def close(self) -> None:
        self.context.close()


def test_purchase_request_journey_in_the_browser(live_server, users, purchase, browser):
    base = live_server.url

    requester = Session(browser, base, "requester")
    page = requester.page
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Start a case").click()
    page.get_by_role("link", name="Start", exact=True).first.click()
    page.get_by_label("Amount (EUR)").fill("-3")
    page.get_by_label("Justification").fill("A second monitor for design reviews")
    page.get_by_role("button", name="Start case").click()
    page.locator(".field-error", has_text="Must be greater than 0.").wait_for()
    assert page.get_by_label("Justification").input_value() == (
        "A second monitor for design reviews"
    )
    page.get_by_label("Amount (EUR)").fill("450")
    page.get_by_role("button", name="Start case").click()
    page.get_by_text("Purchase request started.").wait_for()
    case_url = page.url
    assert "/cases/" in case_url

    manager1 = Session(browser, base, "manager1")
    manager1.open_task("Manager approval")
    manager1.page.get_by_label("No", exact=True).check()
    manager1.complete(Comment="Please find a cheaper model")
    manager1.page.get_by_text("“Manager approval” completed.").wait_for()
    manager1.close()

    requester.open_task("Revise request")
    assert page.get_by_label("Amount (EUR)").input_value() == "450"
    page.get_by_text("Please find a cheaper model").wait_for()
    requester.complete(**{"Amount (EUR)": "320"})

    manager2 = Session(browser, base, "manager2")
    manager2.open_task("Manager approval")
    manager2.page.get_by_label("Yes", exact=True).check()
    manager2.complete(Comment="")
    manager2.close()

    finance = Session(browser, base, "finance")
    finance.open_task("Finance approval")
    finance.page.get_by_label("Yes", exact=True).check()
    finance.complete()
    finance.close()

    page.goto(case_url)
    status = page.get_by_test_id("case-status")
    assert status.inner_text() == "Completed"
    page.get_by_text("case.completed").wait_for()
    requester.close()
    case = Case.objects.get()
    assert case.status == Case.Status.COMPLETED
    assert case.data["amount"] == 320
