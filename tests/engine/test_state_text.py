"""The hot path's JSON (common/json_text.py): orjson's text where it stores what
json.dumps stores, json.dumps' wherever it would not (NaN written as null, big
integers, keys that are not strings, datetimes), and a case's state and data
read back as they were written, through the service layer."""

import datetime
import json
import math

import pytest

from common import json_text
from engine.models import Case
from engine.services import case_start
from engine.services.advance import _state_text
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

ODD = 'é 😀 " \\ \u2028 \x1f </script>'


@pytest.mark.parametrize(
    "value",
    [
        {"x": math.nan},
        [math.inf],
        {"x": -math.inf},
        {"big": 2**70},
        {1: "a key that is no string"},
        {"when": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)},
        {"none": None},
    ],
)
def test_what_orjson_would_store_otherwise_goes_to_json_dumps(value):
    assert json_text.dumps(value) is None
    try:
        expected = json.dumps(value)
    except TypeError:  # json.dumps refuses a datetime: so does the field's dumps
        with pytest.raises(TypeError):
            json_text.jsonb_dumps(value)
    else:
        assert json_text.jsonb_dumps(value) == expected


def test_a_text_holds_only_the_nulls_the_caller_knows_of():
    assert json_text.dumps({"a": None, "b": [None]}, nulls=2) == '{"a":null,"b":[null]}'
    assert json_text.dumps({"a": None, "b": math.nan}, nulls=1) is None


@pytest.mark.parametrize(
    "value",
    [{"s": ODD, "n": [0, -1, 2**63 - 1, 0.1, 1e-05, 1e16, -0.0, 1.5e300]}, [], "x"],
)
def test_orjson_text_reads_back_as_json_dumps_text(value):
    text = json_text.dumps(value)
    assert text is not None
    assert json.loads(text) == json.loads(json.dumps(value))


def _started(users):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 120.5, "justification": ODD},
    )
    return case


def test_a_state_with_a_nan_is_written_by_json_dumps(users, purchase):
    state = Case.objects.get(pk=_started(users).pk).state.state
    assert json.loads(_state_text(state)) == state  # orjson's: no null but roots
    assert ", " not in _state_text(state)
    task = next(iter(state["tasks"].values()))
    task["data"]["nan"] = math.nan
    text = _state_text(state)
    assert '"nan": NaN' in text  # json.dumps': read back as NaN, not as None
    assert math.isnan(json.loads(text)["tasks"][task["id"]]["data"]["nan"])


def test_case_data_and_state_read_back_as_written_through_a_step(users, purchase):
    case = _started(users)
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})
    case = Case.objects.select_related("state").get(pk=case.pk)
    assert case.data["justification"] == ODD
    assert case.data["amount"] == 120.5 and case.data["approved"] is True
    state = case.state.state
    assert state == json.loads(case.state.state_json)
    assert "é 😀" in case.state.state_json  # UTF-8, not \\u escapes
    nxt = HumanTask.objects.get(case=case, status="open")
    assert nxt.name == "Finance approval"


@pytest.mark.parametrize(
    "text",
    [
        str(2**70),
        str(-(2**63) - 1),
        str(2**64 - 1),
        str(2**64),
        '{"big": 123456789012345678901234567890, "n": 1.5}',
        '{"account": "12345678901234567890123"}',
        "[NaN, Infinity, -Infinity]",
        "[1e400, -1e400, 1.7976931348623159e308]",
        '"\\ud800 lone"',
        '{"a": 1, "a": 2}',
        json.dumps({"s": ODD, "n": [0, -1, 2**63 - 1, 0.1, 1e-05, 1e16, -0.0]}),
    ],
)
def test_json_text_reads_every_text_as_json_loads(text):
    """json_text.loads (orjson's reader where it agrees) gives json.loads' value
    and types: an integer beyond 64 bits stays an integer, NaN stays NaN."""
    expected, read = json.loads(text), json_text.loads(text)
    assert json.dumps(read) == json.dumps(expected)  # NaN == NaN in its text
    assert repr(read) == repr(expected)  # int vs float, -0.0


def test_json_text_refuses_what_json_loads_refuses():
    with pytest.raises(json.JSONDecodeError):
        json_text.loads('{"a": ')


def test_an_integer_beyond_64_bits_in_case_data_stays_exact_through_a_step(users):
    """The step reads the case row's JSON columns and the state by json_text.loads:
    a variable beyond orjson's integers is read as json.loads reads it, and
    written back the same."""
    deploy(BPMN_DIR / "named_assignee.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="named_assignee", data={"ref": 2**70}
    )
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=users["requester2"], task_id=task.pk, data={})
    case = Case.objects.get(pk=case.pk)
    assert case.status == Case.Status.COMPLETED
    assert case.data["ref"] == 2**70 and type(case.data["ref"]) is int
