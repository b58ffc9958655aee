"""Generated task forms (camunda:formData) keep what Camunda 7 keeps.

- StringFormType.convertValue stores text as typed (no trimming).
- RequiredValidator.validate: a required field submitted as null is satisfied
  by a value its variable already has (FormFieldHandler.handleSubmit then sets
  the variable to the submitted null); "" is refused; "  " is text.
"""

import pytest

from tests.clients import signed_in_api
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _complete(client, task_id, data):
    return client.post(
        f"/api/v1/tasks/{task_id}/complete/", {"data": data}, format="json"
    )


def test_text_is_kept_as_typed_and_required_null_keeps_to_camunda(users, purchase):
    requester = signed_in_api(users["requester"], PASSWORD)
    manager = signed_in_api(users["manager1"], PASSWORD)
    refused = requester.post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": {"amount": 5, "justification": None}},
        format="json",
    )
    assert refused.status_code == 400
    assert set(refused.json()["details"]["fields"]) == {"justification"}

    body = {"amount": 5, "justification": "  Desk  "}
    case = requester.post(
        "/api/v1/cases/", {"process": "purchase_request", "data": body}, format="json"
    ).json()
    assert case["data"]["justification"] == "  Desk  "

    review = case["tasks"][0]["id"]
    done = _complete(manager, review, {"approved": False, "comment": " why? "})
    assert done.status_code == 200, done.json()
    revise = requester.get(f"/api/v1/cases/{case['id']}/").json()["tasks"][0]
    assert revise["bpmn_id"] == "revise_request"

    empty = _complete(requester, revise["id"], {"amount": 7, "justification": ""})
    assert empty.status_code == 400
    assert set(empty.json()["details"]["fields"]) == {"justification"}
    done = _complete(requester, revise["id"], {"amount": 7, "justification": None})
    assert done.status_code == 200, done.json()
    data = requester.get(f"/api/v1/cases/{case['id']}/").json()["data"]
    assert data["comment"] == " why? "
    assert data["justification"] is None and data["amount"] == 7
