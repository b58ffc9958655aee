"""The stored case state: Laneway's own task conversion writes and reads exactly
what SpiffWorkflow's TaskConverter does, so states stored before it load, and
loading never changes (nor shares) the state the caller holds."""

import copy
import json
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.spiff import processes_compile, workflow_complete_user_task, workflow_start
from engine.spiff.serialization import (
    _SERIALIZER,
    STATE_FORMAT,
    SpecFreeWorkflowConverter,
    _serializer,
    state_dump,
    state_load,
)
from tests.conftest import EXAMPLES

BPMN = Path(__file__).resolve().parents[1] / "conformance" / "bpmn"
FILES = [
    EXAMPLES / "purchase_request.bpmn",
    BPMN / "subprocess_embedded.bpmn",
    BPMN / "ev_boundary_message.bpmn",
    BPMN / "ev_esp_timer_non_interrupting.bpmn",
    BPMN / "mi_subprocess_join.bpmn",
]


class _RegistryConverter(SpecFreeWorkflowConverter):
    """Every task through SpiffWorkflow's registry (its TaskConverter)."""

    def _task_typename(self) -> None:
        return None


GENERIC = _serializer(_RegistryConverter)
SPIFF = _serializer(_RegistryConverter, escaping=False)  # SpiffWorkflow's own


def _generic_dump(wf, serializer=GENERIC):
    dct = serializer.to_dict(wf)
    dct["serializer_version"] = serializer.VERSION
    dct["format"] = STATE_FORMAT
    return dct


def _generic_load(state, process):
    dct = {k: v for k, v in copy.deepcopy(state).items() if k != "format"}
    dct.pop("serializer_version")
    return GENERIC.from_dict(dct, process=process)


def _states():
    """Stored states of cases started (and, where a person acts, advanced)."""
    for path in FILES:
        for process in processes_compile(path.read_bytes(), filename=path.name):
            outcome = workflow_start(process, data={"amount": 5, "items": [1, 2]})
            yield path.name, process, json.loads(json.dumps(outcome.state))
            if outcome.ready_user_tasks:
                outcome = workflow_complete_user_task(
                    process,
                    json.loads(json.dumps(outcome.state)),
                    task_id=outcome.ready_user_tasks[0].task_id,
                    data={"approved": True, "note": {"a": [1]}},
                )
                yield path.name, process, json.loads(json.dumps(outcome.state))


STATES = list(_states())


def test_the_tasks_are_converted_by_laneway():
    assert _SERIALIZER.registry.convert_from_dict  # configured
    converter = SpecFreeWorkflowConverter(object, _SERIALIZER.registry)
    assert converter._task_typename() == "Task"


@pytest.mark.parametrize(("name", "process", "state"), STATES)
def test_dump_is_byte_identical_to_spiffworkflows(name, process, state):
    wf = _generic_load(state, process)
    assert json.dumps(state_dump(wf)) == json.dumps(_generic_dump(wf))


@pytest.mark.parametrize(("name", "process", "state"), STATES)
def test_without_user_dicts_holding_typename_the_bytes_are_spiffworkflows(
    name, process, state
):
    wf = _generic_load(state, process)
    assert json.dumps(state_dump(wf)) == json.dumps(_generic_dump(wf, SPIFF))


# User data SpiffWorkflow's registry would read as a datetime, or fail on.
TYPED = {"typename": "datetime", "value": "2020-01-01T00:00:00"}
USER = {
    "typename": "top",
    "typed": TYPED,
    "listed": [1, [{"typename": "nope", "a": {"typename": "UUID", "value": "x"}}]],
    "lookalike": {"typename": "LanewayDict", "items": {"a": TYPED}},
}


@pytest.mark.parametrize(("name", "process", "state"), STATES)
def test_user_dicts_holding_typename_load_as_they_were(name, process, state):
    wf = state_load(state, process)
    scopes = (wf, *wf.subprocesses.values())
    for scope in scopes:
        scope.data.update(copy.deepcopy(USER))
        for task in scope.tasks.values():
            task.data.update(copy.deepcopy(USER))
            task.internal_data["mine"] = copy.deepcopy(USER)
    event = BpmnEvent(MessageEventDefinition("m"), copy.deepcopy(USER))
    wf.bpmn_events = [event]
    stored = json.loads(json.dumps(state_dump(wf)))
    assert json.dumps(stored) == json.dumps(_generic_dump(wf))
    for loaded in (
        state_load(stored, process),
        _generic_load(stored, process),
    ):
        assert loaded.bpmn_events[0].payload == USER
        for scope in (loaded, *loaded.subprocesses.values()):
            assert scope.data == {**scope.data, **USER}
            for task in scope.tasks.values():
                assert {k: task.data[k] for k in USER} == USER
                assert task.internal_data["mine"] == USER
                assert type(task.data["typed"]) is dict


@pytest.mark.parametrize(("name", "process", "state"), STATES)
def test_load_restores_what_spiffworkflow_restores(name, process, state):
    before = copy.deepcopy(state)
    wf = state_load(state, process)
    assert state == before
    generic = _generic_load(state, process)
    assert json.dumps(_generic_dump(wf)) == json.dumps(_generic_dump(generic))
    assert set(wf.event_manager.tasks) == set(generic.event_manager.tasks)


def _scribble(value):
    if isinstance(value, dict):
        for item in list(value.values()):
            _scribble(item)
        value["scribbled"] = True
    elif isinstance(value, list):
        for item in list(value):
            _scribble(item)
        value.append("scribbled")


@pytest.mark.parametrize(("name", "process", "state"), STATES)
def test_a_loaded_case_shares_nothing_with_the_callers_state(name, process, state):
    before = copy.deepcopy(state)
    wf = state_load(state, process)
    for scope in (wf, *wf.subprocesses.values()):
        _scribble(scope.data)
        _scribble(scope.correlations)
        for task in scope.tasks.values():
            _scribble(task.data)
            _scribble(task.internal_data)
    assert state == before
