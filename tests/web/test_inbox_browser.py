"""The inbox and the task page in headless Chromium, at desktop width and at 390 px.

Screenshots go to test-artifacts/inbox/ (git-ignored) for a person to look at; the
assertions check what must hold at both widths: nothing wider than the screen, the
search finds the task, the manage card's forms work, a conflict keeps the input.
"""

from pathlib import Path

import pytest

from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_claim
from tests.conftest import ROOT
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)

ARTIFACTS = ROOT / "test-artifacts" / "inbox"
WIDTHS = {
    "desktop": {"width": 1280, "height": 860},
    "phone": {"width": 390, "height": 844},
}
LONG_KEY = "PO-" + "long-reference-" * 16  # 243 characters, no spaces to break at

pytestmark = pytest.mark.browser


@pytest.fixture
def inbox_cases(users, purchase):
    for n, (item, key) in enumerate(
        [("Laptop", "PO-LAPTOP-7"), ("Desk", LONG_KEY), ("Ink", "")] * 2
    ):
        case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": 10 + n, "justification": item},
            business_key=f"{key}-{n}" if key else "",
        )
    return HumanTask.objects.filter(status="open").order_by("created_at")


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _fits(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
            if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX))
              return false; } return true; })
        .slice(0, 6).map(e => e.tagName + '.' + e.className)"""
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the screen: {wide}"


@pytest.mark.parametrize("width", WIDTHS)
def test_inbox_search_tabs_and_pages_fit(
    live_server,
    users,
    inbox_cases,
    browser,  # noqa: F811
    width,
):
    manager = Session(browser, live_server.url, "manager1")
    manager.page.set_viewport_size(WIDTHS[width])
    page = manager.page
    page.goto("/")
    _shot(page, f"inbox-{width}")
    _fits(page)
    page.get_by_label("Search", exact=True).fill("laptop")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**search=laptop**")
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert "Laptop" in page.content() or "PO-LAPTOP" in page.content()
    _fits(page)
    _shot(page, f"inbox-search-{width}")
    page.get_by_role("link", name="Unassigned").click()
    assert page.locator('[aria-current="true"] .count').inner_text() == "2"
    manager.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_task_page_manage_card_and_conflict(
    live_server,
    users,
    inbox_cases,
    browser,  # noqa: F811
    width,
):
    task = inbox_cases[1]  # the one with the long business key
    admin = Session(browser, live_server.url, "padmin")
    admin.page.set_viewport_size(WIDTHS[width])
    page = admin.page
    page.goto(f"/tasks/{task.pk}/")
    page.get_by_label("Priority").fill("85")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Due date and priority").wait_for()
    _fits(page)
    _shot(page, f"task-manage-{width}")
    task.refresh_from_db()
    assert task.priority == 85

    manager = Session(browser, live_server.url, "manager1")
    manager.page.set_viewport_size(WIDTHS[width])
    mpage = manager.page
    mpage.goto(f"/tasks/{task.pk}/")
    mpage.get_by_label("Comment").fill("Please get a second quote first.")
    task_claim(user=users["manager2"], task_id=task.pk)  # someone was quicker
    mpage.get_by_label("No").check()
    mpage.get_by_role("button", name="Complete task").click()
    mpage.get_by_text("Not saved: This task is already claimed by manager2.").wait_for()
    assert mpage.get_by_label("Comment").input_value() == (
        "Please get a second quote first."
    )
    _fits(mpage)
    _shot(mpage, f"task-conflict-{width}")
    manager.close()
    admin.close()
