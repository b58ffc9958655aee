"""What a person types into a Camunda Form reaches the server, whatever the timing.

form-js writes a text field into its data 300 ms after the last key by default
(its `debounce`), and any re-render of the form before that sets the field back
to the old data: the text is gone (the start form's browser test lost the phone
or the reason under load). A date field writes what was typed only after the
next frame (a Preact effect), so a press of the button right after typing a date
found the required date empty. Laneway's viewer (static/js/form_js.js) writes
every key at once and reads the data only after form-js's pending writes.

Each test types field after field key by key, with no pause anywhere, and
presses the button right after the last key, in rounds that end on each kind of
field in turn (number, date, textarea, textfield), on the start page and on the
task page.
"""

import pytest

from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import ROOT
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_camunda_forms_browser import deploy_travel, page_problems
from tests.web.test_camunda_start_form_browser import REASON, _choose, leave  # noqa: F401
from tests.web.test_inbox_pages_browser import look

expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = ROOT / "test-artifacts" / "camunda-forms"
pytestmark = pytest.mark.browser
READY = "form[data-form-js][data-ready=true]"


def _type(page, fields: list[tuple[str, str]], last: int) -> None:
    """Type each (label, text) key by key, ending with fields[last]."""
    for label, text in fields[last + 1 :] + fields[: last + 1]:
        page.get_by_label(label).press_sequentially(text)


START_FIELDS = [
    ("Days", "5"),
    ("First day away", "12/21/2026"),
    (REASON, "Family visit over the holidays"),
    ("Phone", "+4930664040900"),
]


def test_what_is_typed_right_before_start_case_starts_the_case(
    live_server,
    users,
    leave,  # noqa: F811
    browser,  # noqa: F811
):
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    problems = page_problems(page)
    for last in range(len(START_FIELDS)):
        page.goto("/processes/leave_request/start/")
        page.locator(READY).wait_for()
        page.get_by_label("Business key").fill(f"LEAVE-{last}")
        _choose(page, "Annual leave")
        _type(page, START_FIELDS, last)
        page.get_by_role("button", name="Start case").click()  # no pause
        page.get_by_text("Leave request started.").wait_for()
        case = Case.objects.get(business_key=f"LEAVE-{last}")
        assert case.data == {
            "kind": "annual",
            "days": 5,
            "first_day": "2026-12-21",
            "reason": "Family visit over the holidays",
            "handover": False,
            "contact": {"phone": "+4930664040900"},
        }, START_FIELDS[last][0]
    assert problems == []


def test_a_re_render_while_typing_keeps_the_text(
    live_server,
    users,
    leave,  # noqa: F811
    browser,  # noqa: F811
):
    """Another field's write re-renders the form (as a date field's late one
    does) right after a key: the field keeps what was typed, and so does the
    data the case starts with."""
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    page.goto("/processes/leave_request/start/")
    page.locator(READY).wait_for()
    page.get_by_label(REASON).press_sequentially("Family visit over the holidays")
    page.evaluate(
        """() => {
          const viewer = document.querySelector("form[data-form-js]").formViewer;
          const data = viewer._getState().data;
          viewer._setState({ data: { ...data, handover: true } });
        }"""
    )
    expect(page.get_by_label(REASON)).to_have_value("Family visit over the holidays")
    _choose(page, "Annual leave")
    _type(page, START_FIELDS[:2], 1)
    page.get_by_role("button", name="Start case").click()
    page.get_by_text("Leave request started.").wait_for()
    data = Case.objects.get().data
    assert data["reason"] == "Family visit over the holidays"
    assert data["handover"] is True


@pytest.fixture
def trips(users):
    deploy_travel(users)
    return [
        case_start(
            user=users["requester"],
            key="travel_request",
            data={"destination": f"Lyon {n}", "days": 3},
        )[0]
        for n in range(4)
    ]


TASK_FIELDS = [
    ("Approved budget (EUR)", "1250.50"),
    ("Departure date", "03/02/2027"),
    ("Comment", "Take the train"),
    ("Cost centre", "HR-0420"),
]


def test_what_is_typed_right_before_complete_task_completes_it(
    live_server,
    users,
    trips,
    browser,  # noqa: F811
):
    manager = Session(browser, live_server.url, "manager1")
    page = manager.page
    problems = page_problems(page)
    for last, case in enumerate(trips):
        task = HumanTask.objects.get(case=case, status="open")
        page.goto(f"/tasks/{task.pk}/")
        page.locator(READY).wait_for()
        page.get_by_label("Approve", exact=True).click()
        _type(page, TASK_FIELDS, last)
        if last == 0:
            look(page, "task-form-typed", ARTIFACTS)
        page.get_by_role("button", name="Complete task").click()  # no pause
        page.get_by_text("“Review the trip” completed.").wait_for()
        case.refresh_from_db()
        assert case.status == "completed"
        assert (case.data["decision"], case.data["budget"]) == (
            "approve",
            {"amount": 1250.5, "code": "HR-0420"},
        ), TASK_FIELDS[last][0]
        assert (case.data["depart_on"], case.data["comment"]) == (
            "2027-03-02",
            "Take the train",
        ), TASK_FIELDS[last][0]
    assert problems == []
