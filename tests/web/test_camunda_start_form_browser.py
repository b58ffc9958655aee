"""A Camunda Form (form-js) as the start form, in headless Chromium.

The requester starts a leave request whose start event is drawn with a Camunda
Form, as Camunda 7's Tasklist shows it ("Start process": the start form of the
process's none start event): form-js's own viewer, served by Laneway under its
Content-Security-Policy, renders it; the form's FEEL hides a field; submitting
starts the case with the variables by key. A page made to send a value the form
forbids is refused by the server, which names the field and keeps what was
typed; nothing starts. Screenshots (desktop and 390 px) go to
test-artifacts/camunda-forms/.
"""

import pytest

from engine.models import Case
from tests.conftest import BPMN_DIR, ROOT, deploy_with_form
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_camunda_forms_browser import IDLE, page_problems, tamper
from tests.web.test_inbox_pages_browser import look

expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = ROOT / "test-artifacts" / "camunda-forms"
pytestmark = pytest.mark.browser
REASON = (
    "Why you are asking for this leave, as you would explain it to your manager "
    "and to the colleagues who cover for you while you are away"
)
HANDOVER = "A colleague covers for me and has what they need to take over my open work"


@pytest.fixture
def leave(users):
    deploy_with_form(
        BPMN_DIR / "leave_request.bpmn",
        BPMN_DIR / "leave_request.form",
        users["analyst"],
    )


def _open(browser, live_server):  # noqa: F811
    requester = Session(browser, live_server.url, "requester")
    problems = page_problems(requester.page)
    requester.page.goto("/processes/leave_request/start/")
    requester.page.locator("form[data-form-js][data-ready=true]").wait_for()
    return requester.page, problems


def _choose(page, option: str) -> None:
    """Pick an option of form-js's select (a dropdown list, not a <select>)."""
    page.locator(".fjs-form-field-select .fjs-input-group").click()
    page.locator(".fjs-dropdownlist-item", has_text=option).click()
    expect(page.locator(".fjs-select-display")).to_have_text(option)


def _fill(page) -> None:
    _choose(page, "Annual leave")
    # No waits between fields: the viewer writes every key at once, and the
    # button waits for form-js's own late writes (test_form_js_typing_browser).
    page.get_by_label("Days").fill("5")
    page.get_by_label("First day away").fill("12/21/2026")
    page.get_by_label("First day away").press("Enter")
    reason = page.get_by_label(REASON)
    reason.fill("Family visit over the holidays, " + "far-away-relatives-" * 12)
    box = page.get_by_label(HANDOVER, exact=True)
    box.click()
    expect(box).to_be_checked()
    page.get_by_label("Phone").fill("+4930664040900")
    page.get_by_label("Business key").fill("LEAVE-42")


def test_the_requester_fills_the_start_form_and_the_case_starts(
    live_server,
    users,
    leave,
    browser,  # noqa: F811
):
    page, problems = _open(browser, live_server)
    # The viewer checks first: an empty required field never leaves the page.
    page.get_by_role("button", name="Start case").click()
    page.get_by_text("Field is required.").first.wait_for()
    page.locator(f"{IDLE}[data-ready=true]").wait_for()  # the press was handled
    assert not Case.objects.exists()
    _fill(page)
    # Long labels wrap inside the card (look() fails if anything is too wide).
    label = page.locator("label", has_text="Why you are asking")
    assert label.bounding_box()["height"] > 30
    look(page, "start-form", ARTIFACTS)
    page.get_by_role("button", name="Start case").click()
    started = page.get_by_text("Leave request started.")
    refused = page.locator(".fjs-has-errors")
    started.or_(refused).first.wait_for()
    assert refused.count() == 0, refused.all_inner_texts()  # what form-js missed
    started.wait_for()
    case = Case.objects.get()
    assert case.business_key == "LEAVE-42"
    assert case.data["kind"] == "annual"
    assert case.data["days"] == 5
    assert case.data["first_day"] == "2026-12-21"
    assert case.data["reason"].startswith("Family visit over the holidays")
    assert case.data["handover"] is True
    assert case.data["contact"] == {"phone": "+4930664040900"}
    assert problems == []


def test_the_server_refuses_a_start_the_page_was_made_to_send(
    live_server,
    users,
    leave,
    browser,  # noqa: F811
):
    page, problems = _open(browser, live_server)
    _fill(page)
    # The form's FEEL: sick leave hides the handover checkbox.
    _choose(page, "Sick leave")
    expect(page.get_by_label(HANDOVER, exact=True)).to_have_count(0)
    tamper(page, {"days": 45, "kind": "sabbatical"})
    page.get_by_role("button", name="Start case").click()
    summary = page.locator("#form-js-errors")
    summary.get_by_text("Field must have maximum value of 30.").wait_for()
    assert "Kind of leave: Select one of the offered choices." in summary.inner_text()
    page.locator("form[data-form-js][data-ready=true]").wait_for()
    # What was typed is kept (the refused values too, to correct them).
    assert page.get_by_label("Days").input_value() == "45"
    assert page.get_by_label("Phone").input_value() == "+4930664040900"
    assert page.get_by_label("Business key").input_value() == "LEAVE-42"
    look(page, "start-form-refused", ARTIFACTS)
    assert not Case.objects.exists()
    page.get_by_label("Days").fill("3")
    _choose(page, "Unpaid leave")
    page.get_by_role("button", name="Start case").click()
    page.get_by_text("Leave request started.").wait_for()
    case = Case.objects.get()
    assert (case.data["kind"], case.data["days"]) == ("unpaid", 3)
    # The refused submission answered 400 (the page with the errors); nothing else.
    assert [p for p in problems if "status of 400" not in p] == []
