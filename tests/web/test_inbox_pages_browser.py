"""The inbox's new pages in headless Chromium at desktop width and at 390 px.

Business-data columns and saved filters on the inbox, the profile (task e-mails),
the team page of a group manager, and the process and version pages with their
empty-lane warnings. Nothing may be wider than the screen; screenshots go to
test-artifacts/inbox-pages/.
"""

import pytest
from django.contrib.auth.models import Group

from engine.services import case_cancel, case_start
from processes.services import version_upload
from tasks_app.discussion import comment_add
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import ROOT
from tests.tasks_app.test_business_columns import _diagram
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_browser import WIDTHS, _fits

ARTIFACTS = ROOT / "test-artifacts" / "inbox-pages"
pytestmark = pytest.mark.browser


@pytest.fixture
def staffed(users):
    version_upload(user=users["analyst"], bpmn=_diagram(), filename="purchase.bpmn")
    for amount, why in [(1250, "Colour printer " + "x" * 180), (30, "Ink")]:
        case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": amount, "justification": why},
            business_key=f"PO-{amount}",
        )
    users["manager2"].groups.add(Group.objects.create(name="Manager-managers"))
    Group.objects.get(name="Finance").user_set.clear()


def look(page, name: str, folder=ARTIFACTS) -> None:
    """Screenshot the page at each width into `folder`; fail if it is too wide."""
    folder.mkdir(parents=True, exist_ok=True)
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        _fits(page)
    page.set_viewport_size(WIDTHS["desktop"])


def test_new_inbox_pages_fit_desktop_and_phone(
    live_server,
    users,
    staffed,
    browser,  # noqa: F811
):
    manager = Session(browser, live_server.url, "manager2")
    page = manager.page
    page.goto("/?process=purchase_request")
    page.get_by_role("columnheader", name="justification").wait_for()
    page.get_by_label("Search", exact=True).fill("printer")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**search=printer**")
    page.get_by_text("Save this view").click()
    page.get_by_label("Name").fill("Printers")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Filter “Printers” saved.").wait_for()
    page.get_by_role("link", name="Printers").wait_for()
    look(page, "inbox")
    page.get_by_role("link", name="Tasks of the groups you manage →").click()
    page.get_by_role("heading", name="Your teams’ tasks").wait_for()
    look(page, "team")
    page.goto("/profile/")
    page.get_by_label("E-mail me when a task").uncheck()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("You will get no more e-mails about tasks.").wait_for()
    assert not page.get_by_label("E-mail me when a task").is_checked()
    look(page, "profile")
    manager.close()

    analyst = Session(browser, live_server.url, "analyst")
    analyst.page.goto("/processes/purchase_request/")
    analyst.page.get_by_test_id("empty-lanes").wait_for()
    look(analyst.page, "process")
    analyst.page.goto("/processes/purchase_request/v1/")
    analyst.page.get_by_role("heading", name="Who does what").wait_for()
    look(analyst.page, "version")
    analyst.close()


def test_a_finished_case_reads_as_a_story_on_both_widths(
    live_server,
    users,
    purchase,
    browser,  # noqa: F811
):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 900, "justification": "Laptop"},
        business_key="PO-" + "long-reference-" * 16,
    )
    review = HumanTask.objects.get(case=case, status="open")
    comment_add(user=users["manager1"], task_id=review.pk, text="y" * 5000)
    task_complete(
        user=users["manager1"],
        task_id=review.pk,
        data={"approved": False, "comment": "too expensive " * 30},
    )
    case_cancel(user=users["requester"], case_id=case.pk, reason="not needed")
    requester = Session(browser, live_server.url, "requester")
    requester.page.goto(f"/cases/{case.pk}/")
    requester.page.get_by_test_id("case-outcome").wait_for()
    requester.page.get_by_text("manager1 rejected “Manager approval”").wait_for()
    look(requester.page, "case-story")
    requester.close()
