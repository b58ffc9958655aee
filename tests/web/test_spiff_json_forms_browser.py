"""A SpiffArena JSON-schema form on the task page, in headless Chromium.

The diagram and its schema (with its UI schema) are uploaded together; the
manager sees the schema's fields in the UI schema's order, fills them and
completes the task. A value the schema refuses (an email format the viewer
does not check) comes back from the server at its field, what was typed kept.
Screenshots (desktop and 390 px) go to test-artifacts/spiff-json-forms/.
"""

import json

import pytest

from engine.models import Case
from engine.services import case_start
from processes.services import version_upload
from tests.conftest import ROOT
from tests.tasks_app.test_spiff_json_forms import BPMN, SCHEMA, UI
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_pages_browser import look

pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "test-artifacts" / "spiff-json-forms"
pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_manager_fills_the_json_schema_form(
    live_server,
    users,
    browser,  # noqa: F811
):
    version_upload(
        user=users["analyst"],
        bpmn=BPMN,
        filename="expense.bpmn",
        form_files=[
            ("claim-schema.json", json.dumps(SCHEMA).encode()),
            ("claim-uischema.json", json.dumps(UI).encode()),
        ],
    )
    case, _ = case_start(user=users["requester"], key="expense", data={})
    manager = Session(browser, live_server.url, "manager1")
    problems: list[str] = []
    manager.page.on("pageerror", lambda exc: problems.append(str(exc)))
    manager.open_task("Claim expenses")
    page = manager.page
    page.locator("form[data-form-js][data-ready=true]").wait_for()
    labels = page.locator(".fjs-form-field label").all_inner_texts()
    assert [t.strip(" *\n") for t in labels][:3] == ["Category", "Amount", "Your email"]
    page.locator(".fjs-form-field-select .fjs-input-group").click()  # form-js select
    page.locator(".fjs-dropdownlist-item", has_text="travel").click()
    page.get_by_label("Amount").fill("1500")
    page.get_by_label("Your email").fill("ann-at-example")
    page.get_by_label("Note").fill("Train to Lyon")
    page.get_by_label("Note").blur()
    look(page, "task-form", ARTIFACTS)
    page.get_by_role("button", name="Complete task").click()
    page.locator("#form-js-errors").get_by_text("is not a 'email'").wait_for()
    page.locator("form[data-form-js][data-ready=true]").wait_for()
    assert page.get_by_label("Amount").input_value() == "1500"  # kept
    # The server's message shows at its field too, although form-js, checking
    # the text field again once shown, finds nothing wrong: it stays until edited.
    email = page.locator(".fjs-form-field", has=page.get_by_label("Your email"))
    expect(email).to_contain_text("is not a 'email'")
    page.wait_for_timeout(600)  # past form-js's debounced check of text fields
    expect(email).to_contain_text("is not a 'email'")
    look(page, "task-form-refused", ARTIFACTS)
    page.get_by_label("Your email").fill("ann@example.com")
    page.get_by_label("Note").fill("Train to Lyon")
    page.get_by_label("Note").blur()
    page.get_by_role("button", name="Complete task").click()
    page.get_by_text("“Claim expenses” completed.").wait_for()
    assert Case.objects.get(pk=case.pk).data == {
        "category": "travel",
        "amount": 1500,
        "email": "ann@example.com",
        "note": "Train to Lyon",
        "receipt": {},  # a group's object, as react-jsonschema-form keeps it
    }
    assert problems == []
