"""The OpenAPI schema tells a client generator the truth (issue 14, item 8).

Lists are pages {count, next, previous, results}; each POST documents its own input
(never another view's, such as the token endpoint's {username, password}); the query
parameters the views read are declared.
"""

import subprocess
import sys

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.audit.helpers import token_client
from tests.conftest import ROOT
from tests.test_deploy_settings import example_environment


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def json_body(operation: dict) -> dict:
    return operation["requestBody"]["content"]["application/json"]["schema"]


def parameters(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", [])}


def test_the_schema_validates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", "/dev/null"],
        cwd=ROOT, env=example_environment(), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr


@pytest.mark.parametrize(
    "path",
    ["/api/v1/cases/", "/api/v1/tasks/", "/api/v1/incidents/", "/api/v1/processes/",
     "/api/v1/processes/{key}/versions/"],
)  # fmt: skip
def test_lists_are_documented_as_pages(schema, path):
    response = schema["paths"][path]["get"]["responses"]["200"]
    page = component(schema, response["content"]["application/json"]["schema"]["$ref"])
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    assert page["properties"]["next"]["nullable"] is True


def test_message_and_complete_bodies_are_their_own_inputs(schema):
    message = component(
        schema, json_body(schema["paths"]["/api/v1/messages/"]["post"])["$ref"]
    )
    assert set(message["properties"]) == {
        "name", "correlation", "data", "all", "ttl_s", "business_key"
    }  # fmt: skip
    assert message["required"] == ["name"]
    business_key = message["properties"]["business_key"]
    assert (business_key["type"], business_key["maxLength"]) == ("string", 255)
    assert business_key["nullable"] is True
    complete = schema["paths"]["/api/v1/tasks/{task_id}/complete/"]["post"]
    assert set(component(schema, json_body(complete)["$ref"])["properties"]) == {"data"}
    start = schema["paths"]["/api/v1/cases/"]["post"]
    assert set(component(schema, json_body(start)["$ref"])["properties"]) == {
        "process", "data", "business_key"
    }  # fmt: skip
    assert "Idempotency-Key" in parameters(start)


def test_the_condition_evaluation_documents_its_body_and_started_cases(schema):
    operation = schema["paths"]["/api/v1/conditions/"]["post"]
    body = component(schema, json_body(operation)["$ref"])
    assert set(body["properties"]) == {"variables", "business_key", "process"}
    assert body.get("required", []) == []
    assert "Idempotency-Key" in parameters(operation)
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    started = component(schema, ok["$ref"])["properties"]["started"]
    assert started["type"] == "array"
    case = component(schema, started["items"]["$ref"])
    assert {"id", "process", "business_key", "data", "tasks"} <= set(case["properties"])
    # 404: nothing to evaluate (Camunda 7: no subscriptions); 403: may not start
    for code in ("400", "403", "404"):
        error = operation["responses"][code]["content"]["application/json"]
        assert error["schema"]["$ref"].endswith("/Error"), code


def test_case_responses_show_tasks_and_incidents(schema):
    detail = schema["paths"]["/api/v1/cases/{case_id}/"]["get"]["responses"]["200"]
    shape = component(schema, detail["content"]["application/json"]["schema"]["$ref"])
    assert {"data", "tasks", "incidents", "elements"} <= set(shape["properties"])


@pytest.mark.parametrize(
    "path",
    ["/api/v1/processes/{key}/start-form/",
     "/api/v1/processes/{key}/versions/{number}/start-form/"],
)  # fmt: skip
def test_the_start_form_documents_its_form_and_its_refusals(schema, path):
    responses = schema["paths"][path]["get"]["responses"]
    shape = component(
        schema, responses["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(shape["properties"]) == {
        "key", "name", "version", "documentation", "form", "form_js"
    }  # fmt: skip
    assert shape["properties"]["form_js"]["nullable"] is True
    # 403 may not start it, 404 unknown, 409 only its message (or timer) starts it
    for code in ("403", "404", "409"):
        error = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert error.endswith("/Error"), code


def test_query_parameters_are_declared(schema):
    paths = schema["paths"]
    assert {"search", "filter", "process", "group", "case", "sort"} <= parameters(
        paths["/api/v1/tasks/"]["get"]
    )
    assert {"status", "process"} <= parameters(paths["/api/v1/cases/"]["get"])
    assert {"status"} <= parameters(paths["/api/v1/incidents/"]["get"])
    assert {"format", "case", "process", "actor", "action", "since", "until"} <= (
        parameters(paths["/api/v1/audit/"]["get"])
    )


def test_every_operation_documents_the_errors_it_can_answer(schema):
    """A generated client gets a typed Error for each status, not only the 2xx."""
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            wanted = {"429"}
            if "{" in path:
                wanted |= {"400", "404"}
            if method in ("post", "put", "patch", "delete"):
                wanted |= {"400", "413"} | ({"409"} if "{" in path else set())
            if path not in ("/api/v1/auth/token/", "/api/schema/"):  # public
                wanted |= {"401", "403"}
            if wanted - codes:
                missing.append(f"{method} {path}: {sorted(wanted - codes)}")
    assert missing == []
    not_found = schema["paths"]["/api/v1/cases/{case_id}/"]["get"]["responses"]["404"]
    error = component(
        schema, not_found["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(error["properties"]) == {"code", "message", "details"}


@pytest.mark.django_db
def test_an_error_the_api_answers_has_the_documented_shape(users):
    api = token_client(users["outsider"])
    response = api.get("/api/v1/cases/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "details"}
