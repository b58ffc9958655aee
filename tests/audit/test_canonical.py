"""Whatever JSON a user sends, the chain verifies after PostgreSQL hands it back."""

import json

import pytest
from django.db import connection

from audit.canonical import canonical_json
from audit.models import AuditEvent
from tests.audit.helpers import start_case, token_client

pytestmark = pytest.mark.django_db

FREE_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs"
    targetNamespace="http://laneway.test/free">
  <bpmn:process id="free_form" name="Free form" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look"/>
    <bpmn:userTask id="look" name="Look" camunda:candidateGroups="Manager"/>
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1.5}
    for level in range(depth):
        value = {"level": level, "inner": [value]}
    return value


VALUES = {
    "float_1e16": 1e16,
    "float_big": 1.7976931348623157e308,
    "float_small": 1e-300,
    "float_subnormal": 5e-324,
    "float_ugly": 0.1 + 0.2,
    "float_whole": 3.0,
    "negative_zero": -0.0,
    "int_beyond_int64": 2**64 + 1,
    "int_negative_huge": -(10**40),
    "unicode": 'é 中文 😀 𝄞 \u2028 " \\ /',
    "astral_key_😀": {"z": 1, "a": 2, "é": 3},
    "empty": [[], {}, "", None, True, False],
}


@pytest.fixture
def free_form(users):
    return deploy_bytes(users["analyst"])


def deploy_bytes(user):
    from processes.services import version_upload

    return version_upload(user=user, bpmn=FREE_FORM, filename="free_form.bpmn")[0]


def _verify(users) -> dict:
    response = token_client(users["auditor"]).get("/api/v1/audit/verify/")
    assert response.status_code == 200
    return response.json()


def test_purchase_of_1e16_verifies(users, purchase):
    client = token_client(users["requester"])
    start_case(client, "purchase_request", {"amount": 1e16, "justification": "A ship"})
    assert _verify(users)["ok"] is True


@pytest.mark.parametrize("name", sorted(VALUES))
def test_every_kind_of_json_value_round_trips_through_postgresql(
    users, free_form, name
):
    case_id = start_case(
        token_client(users["requester"]), "free_form", {name: VALUES[name]}
    )
    event = AuditEvent.objects.get(case_id=case_id, action="case.started")
    assert name in event.payload["data"]
    result = _verify(users)
    assert result["ok"] is True, result["broken"]


def test_deep_nesting_round_trips(users, free_form, settings):
    # _nested(n) is 2n + 1 levels; the body and "data" add two more.
    depth = (settings.API_JSON_MAX_DEPTH - 4) // 2
    start_case(token_client(users["requester"]), "free_form", {"deep": _nested(depth)})
    assert _verify(users)["ok"] is True


def test_all_values_at_once_and_raw_sql_shows_postgres_rewrote_the_numbers(
    users, free_form
):
    case_id = start_case(token_client(users["requester"]), "free_form", dict(VALUES))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload->'data'->>'float_1e16', payload->'data'->>'negative_zero'"
            " FROM audit_auditevent WHERE case_id = %s AND action = 'case.started'",
            [case_id],
        )
        assert cursor.fetchone() == ("10000000000000000", "0.0")
    assert _verify(users)["ok"] is True


def test_canonical_form_is_pythons_sorted_compact_json_for_plain_values():
    value = {"b": [1, 2.5, "x"], "a": {"é": None, "c": True}}
    assert canonical_json(value) == json.dumps(
        value, sort_keys=True, separators=(",", ":")
    )
    assert canonical_json({"n": 1e16, "z": -0.0}) == '{"n":10000000000000000,"z":0.0}'
    assert canonical_json(_nested(5000)).count("[") == 5000


def _post_raw(client, data_text: str):
    return client.post(
        "/api/v1/cases/",
        data='{"process": "free_form", "data": ' + data_text + "}",
        content_type="application/json",
    )


def test_deepest_accepted_nesting_verifies(users, free_form, settings):
    client = token_client(users["requester"])
    # the body is one level, "data" another: the arrays reach the limit exactly
    arrays = settings.API_JSON_MAX_DEPTH - 2
    response = _post_raw(client, '{"deep": ' + "[" * arrays + "]" * arrays + "}")
    assert response.status_code == 201, response.content
    assert _verify(users)["ok"] is True


@pytest.mark.parametrize(
    ("data_text", "message"),
    [
        ('{"deep": ' + "[" * 70 + "]" * 70 + "}", "deeper than 64"),
        ('{"deep": ' + "[" * 5000 + "]" * 5000 + "}", "deeper than 64"),
        ('{"x": "a\\u0000b"}', "data.x"),
        ('{"x\\u0000": 1}', "data"),
        ('{"x": ["\\ud800"]}', "data.x[0]"),
    ],
)
def test_json_postgresql_cannot_store_is_a_400(users, free_form, data_text, message):
    response = _post_raw(token_client(users["requester"]), data_text)
    assert response.status_code == 400
    assert message in str(response.json()), response.json()
    assert not AuditEvent.objects.filter(action="case.started").exists()


def test_plain_values_take_the_c_encoder_and_hash_as_before():
    """No float anywhere: json.dumps writes it; the same text as the walk's."""
    plain = {
        "": "",
        "z": ['é\U0001f600\n"\u2028', None, True, False, -(10**30)],
        "a": ({"y": [], "x": {}}, 0),
    }
    expected = (
        '{"":"","a":[{"x":{},"y":[]},0],'
        '"z":["\\u00e9\\ud83d\\ude00\\n\\"\\u2028",null,true,false,'
        "-1000000000000000000000000000000]}"
    )
    assert canonical_json(plain) == expected
    with_float = expected.replace(',"z":', ',"f":1.0,"z":')
    assert canonical_json({**plain, "f": 1.0}) == with_float


def test_floats_hash_the_same_whichever_encoder_writes_them():
    """Floats below 1e16 take the C encoder (float repr); the others the walk."""
    floats = {"a": 0.1, "b": 1e-300, "c": 9999999999999998.0, "d": -1.5}
    odd = {"e": -0.0, "f": 1e16, "g": 5e-324}
    assert canonical_json(floats) == (
        '{"a":0.1,"b":1e-300,"c":9999999999999998.0,"d":-1.5}'
    )
    assert canonical_json({**floats, **odd}) == (
        '{"a":0.1,"b":1e-300,"c":9999999999999998.0,"d":-1.5,'
        '"e":0.0,"f":10000000000000000,"g":5e-324}'
    )
    with pytest.raises(ValueError, match="JSON has no nan"):
        canonical_json({"n": [1.5, float("nan")]})


def test_values_without_floats_take_orjson_and_hash_as_before():
    """orjson writes a value with no float (its text only when every character
    is printable ASCII): the same text as json.dumps' for every ASCII character,
    DEL and integers beyond 64 bits included (those take json.dumps)."""
    from audit.canonical import _orjson_text

    every_ascii = {chr(code): [chr(code), code] for code in range(0x7F)}
    taken = {**every_ascii, "t": (True, None, {"b": 2**64 - 1, "a": [[["x"]]]})}
    refused = (
        {"big": [2**64, -(2**63) - 1]},
        {"del": "\x7f"},
        {"é": 1},
        {"deep": _nested(300)},
    )
    assert _orjson_text(taken) is not None
    assert all(_orjson_text(value) is None for value in refused)
    for value in (taken, *refused):
        assert canonical_json(value) == json.dumps(
            value, sort_keys=True, separators=(",", ":")
        )


def test_payload_reads_back_as_from_its_json():
    from django.core.serializers.json import DjangoJSONEncoder

    from audit.services import _read_back

    for payload in (
        {"t": (1, [2.5, -0.0, 1e16, 5e-324]), "s": "é\ud800", "n": None},
        {"big": 2**64, "ok": True, "a": {"b": ("c",)}},
    ):
        again = json.loads(DjangoJSONEncoder().encode(payload))
        assert _read_back(payload) == again
        assert json.dumps(_read_back(payload)) == json.dumps(again)
