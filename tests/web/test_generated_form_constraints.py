"""camunda:formData constraints through the paths a user takes: task page and API.

Camunda 7 FormFieldHandler.handleSubmit and its validators (FormFieldValidatorTest,
FormServiceTest): required, min / max, maxlength (Java's String.length()), readonly
(only a submitted value is refused; the defaultValue is set when the field is left
out), long read with Long.parseLong, boolean true / false, enum one of its values.
"""

import re
from pathlib import Path

import pytest
from django.test import Client

from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.clients import signed_in_api
from tests.conftest import PASSWORD, deploy

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).parents[1] / "conformance" / "bpmn" / "p14_form_constraints.bpmn"
ALL_WRONG = {
    "qty": "0",
    "urgent": "yes",
    "code": "abc",
    "account": "12.5",
    "kind": "other",
}
RIGHT = {
    "qty": "3",
    "urgent": "true",
    "code": "ab",
    "account": "9007199254740993",
    "kind": "goods",
}


@pytest.fixture
def task(users, tmp_path):
    path = tmp_path / BPMN.name
    path.write_text(BPMN.read_text().replace(' camunda:assignee="alice"', ""))
    version = deploy(path, users["analyst"])
    case, _ = case_start(user=users["padmin"], key=version.definition.key, data={})
    return HumanTask.objects.get(case=case, bpmn_id="Task_Fill", status="open")


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_refuses_each_broken_constraint_naming_the_field(users, task):
    api = signed_in_api(users["manager1"], PASSWORD)
    url = f"/api/v1/tasks/{task.pk}/complete/"
    wrong = api.post(url, {"data": {**ALL_WRONG, "reference": "X"}}, format="json")
    assert wrong.status_code == 400, wrong.content
    body = wrong.json()
    assert body["code"] == "invalid"
    assert set(body["details"]["fields"]) == {*ALL_WRONG, "reference"}
    missing = api.post(url, {"data": {"code": "ab"}}, format="json")
    assert set(missing.json()["details"]["fields"]) == {"qty"}
    task.refresh_from_db()
    assert task.status == "open"

    done = api.post(url, {"data": RIGHT}, format="json")
    assert done.status_code == 200, done.content
    data = Case.objects.get(pk=task.case_id).data
    assert data["reference"] == "R-1"  # the readonly field's defaultValue
    assert data["account"] == 9007199254740993  # every digit
    assert (data["urgent"], data["qty"], data["kind"]) == (True, 3, "goods")


def test_the_page_shows_each_error_keeps_what_was_typed_then_completes(users, task):
    client = _page(users["manager1"])
    shown = client.get(f"/tasks/{task.pk}/").content.decode()
    assert re.search(r'name="f-reference" value="R-1"[^>]*disabled', shown)
    posted = {f"f-{k}": v for k, v in ALL_WRONG.items() if k != "urgent"}
    refused = client.post(f"/tasks/{task.pk}/", {**posted, "f-urgent": "true"})
    assert refused.status_code == 400
    page = refused.content.decode()
    errors = [
        "Must be at least 1.",
        "Enter at most 2 characters (it has 3).",
        "Enter a whole number.",
        "Select one of the offered choices.",
    ]
    assert [e for e in errors if e not in page] == []
    kept = [('f-code" value="abc"'), ('f-qty" value="0"')]  # what was typed
    assert [k for k in kept if k not in page] == []
    task.refresh_from_db()
    assert task.status == "open"

    posted = {f"f-{k}": v for k, v in RIGHT.items()}
    assert client.post(f"/tasks/{task.pk}/", posted).status_code == 302
    data = Case.objects.get(pk=task.case_id).data
    assert (data["reference"], data["account"]) == ("R-1", 9007199254740993)


def test_an_enum_takes_one_of_its_values_or_null_never_empty_text(users, task):
    """EnumFormType.convertValue / validateValue: a String among the values, or
    null when the field is not required; "" and a number are refused (400 naming
    the field), changing nothing."""
    api = signed_in_api(users["manager1"], PASSWORD)
    url = f"/api/v1/tasks/{task.pk}/complete/"
    for wrong in ("", 1, ["goods"]):
        refused = api.post(url, {"data": {**RIGHT, "kind": wrong}}, format="json")
        assert refused.status_code == 400, refused.content
        assert refused.json()["details"]["fields"] == {
            "kind": ["Select one of the offered choices."]
        }
    task.refresh_from_db()
    assert task.status == "open"
    done = api.post(url, {"data": {**RIGHT, "kind": None}}, format="json")
    assert done.status_code == 200, done.content
    data = Case.objects.get(pk=task.case_id).data
    assert "kind" in data and data["kind"] is None


def test_the_page_takes_choose_as_no_value_and_refuses_an_unknown_one(users, task):
    client = _page(users["manager1"])
    posted = {f"f-{k}": v for k, v in RIGHT.items()}
    refused = client.post(f"/tasks/{task.pk}/", {**posted, "f-kind": "bulk"})
    assert refused.status_code == 400
    page = refused.content.decode()
    block = re.search(
        r'<div class="field has-error" data-field="kind">.*?</div>\s*</div>', page, re.S
    )
    assert block is not None, page
    assert "Select one of the offered choices." in block.group(0)  # on the field
    assert 'f-code" value="ab"' in page  # what was typed is kept
    task.refresh_from_db()
    assert task.status == "open"

    chosen_nothing = client.post(f"/tasks/{task.pk}/", {**posted, "f-kind": ""})
    assert chosen_nothing.status_code == 302
    data = Case.objects.get(pk=task.case_id).data
    assert "kind" in data and data["kind"] is None
