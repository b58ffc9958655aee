"""A Camunda Form (form-js) on the task page, in headless Chromium.

The manager fills the travel review drawn in Camunda Modeler with form-js's own
viewer (served by Laneway, under its Content-Security-Policy), attaches a quote
and completes it (the form's FEEL conditions show and hide fields in the page
and on the server alike): the case continues with the variables by key. A page made to
send a value the form forbids is refused by the server, which names the field
and keeps what was typed. Screenshots (desktop and 390 px) go to
test-artifacts/camunda-forms/.
"""

import pytest

from engine.models import Case
from engine.services import case_start
from tasks_app.models import Attachment
from tests.conftest import EXAMPLES, ROOT, deploy_with_form
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_pages_browser import look

expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = ROOT / "test-artifacts" / "camunda-forms"
pytestmark = pytest.mark.browser
# A Camunda Form that is not handling a press (static/js/form_js.js)
IDLE = "form[data-form-js]:not([data-sending])"


@pytest.fixture
def trip(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    deploy_travel(users)
    case, _ = case_start(
        user=users["requester"],
        key="travel_request",
        data={"destination": "Lyon", "days": 3},
    )
    return case


def deploy_travel(users) -> None:
    """Deploy the travel request, whose review is a Camunda Form."""
    deploy_with_form(
        EXAMPLES / "travel_request.bpmn",
        EXAMPLES / "travel_review.form",
        users["analyst"],
    )


def page_problems(page) -> list[str]:
    """Collect the page's script errors and console errors from now on."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    return problems


def _open(browser, live_server):  # noqa: F811
    manager = Session(browser, live_server.url, "manager1")
    problems = page_problems(manager.page)
    manager.open_task("Review the trip")
    manager.page.locator("form[data-form-js][data-ready=true]").wait_for()
    return manager, problems


def tamper(page, changes: dict) -> None:
    """Change what the viewer submits after its own checks passed, as a tampered
    page would: `changes` by dotted key."""
    page.evaluate(
        """(changes) => {
          const viewer = document.querySelector("form[data-form-js]").formViewer;
          const submit = viewer.submit.bind(viewer);
          viewer.submit = () => {
            const result = submit();
            Object.entries(changes).forEach(([key, value]) => {
              const parts = key.split(".");
              const last = parts.pop();
              parts.reduce((data, part) => data[part], result.data)[last] = value;
            });
            return result;
          };
        }""",
        changes,
    )


def _tick(page, label: str) -> None:
    """Click a form-js radio or checkbox (it re-renders after the click)."""
    box = page.get_by_label(label, exact=True)
    box.click()
    expect(box).to_be_checked()


def _fill(page) -> None:
    _tick(page, "Approve")
    page.get_by_label("Approved budget (EUR)").fill("1250.50")
    page.get_by_label("Cost centre").fill("HR-0420")
    _tick(page, "Economy class only")
    page.get_by_label("Comment").fill("Take the train " + "where-possible-" * 30)


def test_a_manager_fills_the_camunda_form_and_the_case_continues(
    live_server,
    users,
    trip,
    tmp_path,
    browser,  # noqa: F811
):
    manager, problems = _open(browser, live_server)
    page = manager.page
    assert page.get_by_label("Destination").input_value() == "Lyon"  # case data
    # The form's FEEL conditions: rejecting asks why and hides the budget.
    _tick(page, "Reject")
    page.get_by_label("Why is it rejected?").wait_for()
    expect(page.get_by_label("Cost centre")).to_have_count(0)
    quote = tmp_path / "train-quote.pdf"
    quote.write_bytes(b"%PDF-1.4 two tickets")
    page.locator(".fjs-form-field-filepicker input[type=file]").set_input_files(
        str(quote)
    )
    _fill(page)
    look(page, "task-form", ARTIFACTS)
    # The viewer checks first: an empty required field never leaves the page.
    page.get_by_label("Cost centre").fill("")
    page.get_by_role("button", name="Complete task").click()
    page.get_by_text("Field is required.").wait_for()
    page.locator(f"{IDLE}[data-ready=true]").wait_for()  # the press was handled
    page.get_by_label("Cost centre").fill("HR-0420")
    page.get_by_role("button", name="Complete task").click()
    page.get_by_text("“Review the trip” completed.").wait_for()
    case = Case.objects.get(pk=trip.pk)
    assert case.status == "completed"
    assert case.data["decision"] == "approve"
    assert case.data["budget"] == {"amount": 1250.5, "code": "HR-0420"}
    assert case.data["conditions"] == ["economy"]
    assert case.data["comment"].startswith("Take the train where-possible-")
    (attachment,) = Attachment.objects.filter(case=case)
    assert case.data["quote"] == [
        {
            "id": str(attachment.pk),
            "name": "train-quote.pdf",
            "size": 20,
            "sha256": attachment.sha256,
        }
    ]
    assert problems == []


def test_the_server_refuses_a_value_the_page_was_made_to_send(
    live_server,
    users,
    trip,
    browser,  # noqa: F811
):
    manager, problems = _open(browser, live_server)
    page = manager.page
    _fill(page)
    tamper(page, {"budget.amount": 99999, "decision": "approve-twice"})
    page.get_by_role("button", name="Complete task").click()
    summary = page.locator("#form-js-errors")
    summary.get_by_text("Field must have maximum value of 10000.").wait_for()
    assert "Decision" in summary.inner_text()
    assert "Select one of the offered choices." in summary.inner_text()
    page.locator("form[data-form-js][data-ready=true]").wait_for()
    # What was typed is kept (the refused values too, to correct them), and the
    # case data the form displays is still shown.
    assert page.get_by_label("Cost centre").input_value() == "HR-0420"
    assert page.get_by_label("Destination").input_value() == "Lyon"
    assert page.get_by_label("Approved budget (EUR)").input_value() == "99999"
    look(page, "task-form-refused", ARTIFACTS)
    assert Case.objects.get(pk=trip.pk).status == "running"
    page.get_by_label("Approved budget (EUR)").fill("900")
    _tick(page, "Approve")
    page.get_by_role("button", name="Complete task").click()
    page.get_by_text("“Review the trip” completed.").wait_for()
    assert Case.objects.get(pk=trip.pk).data["budget"]["amount"] == 900
    # The refused submission answered 400 (the page with the errors); nothing else.
    assert [p for p in problems if "status of 400" not in p] == []
