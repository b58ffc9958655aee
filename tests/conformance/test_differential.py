"""Differential test: Laneway's adapter against plain SpiffWorkflow 3.2, step by step.

For every deployable conformance diagram (tests/conformance/bpmn) and corpus
diagram (shared/corpus), seeded random walks complete ready user tasks with
random data on both engines (see differential.py): values around the constants
its conditions compare with, of the right type for its form fields, and the
values its scenarios use. After every step the ready user tasks (by BPMN id),
the case data and completion must agree. Laneway prunes and reloads its state
after every step; plain SpiffWorkflow keeps one unpruned workflow in memory. A
disagreement is a bug of the adapter, unless SpiffWorkflow itself departs from
BPMN there and Laneway corrects it (DEPARTURES, each with its reason).

Files the upload refuses are not walked (there is nothing to run).
"""

import functools
from pathlib import Path

import pytest
from lxml import etree

from engine.spiff import (
    BpmnParseError,
    bundle_compile,
    called_elements,
    service_operations,
)
from tests.processes.test_corpus import CORPUS, _dmn_for

from .differential import (
    NS,
    Diagram,
    adapter_process,
    condition_values,
    form_values,
    plain_workflow,
    referenced_values,
    walk,
)
from .scenario import DIAGRAMS, ScenarioError, scenario_files, scenario_load

SEEDS = (0, 1, 2)
MAX_STEPS = 15
# Diagrams where SpiffWorkflow departs from BPMN and Laneway deliberately differs.
# The entries marked (issue 7) are fixed on other branches of issue 7: once merged,
# Laneway deliberately differs there (remove an entry that no longer differs).
DEPARTURES: dict[str, str] = {
    # Walked since user tasks without candidates deploy (issue 9).
    "camunda/TaskServiceTest.handleUserTaskEscalation.bpmn": (
        "escalation event sub-processes wait for their escalation (events.py); "
        "SpiffWorkflow starts them at once"
    ),
    "spiff/arena-prioritize-boundary-event.bpmn": (
        "the boundary naming the escalation code wins over the catch-all one, as "
        "BPMN says (events.py); SpiffWorkflow takes the catch-all"
    ),
    "xor_conditions.bpmn": (
        "(issue 7) SpiffWorkflow tries a gateway's conditions in the order of the "
        "targets' y coordinates in the drawing; BPMN and Laneway in model order"
    ),
    "implicit_split.bpmn": (
        "(issue 7) SpiffWorkflow refuses several plain outgoing flows of a task; "
        "BPMN (and Laneway) split implicitly"
    ),
    "caller_mapped.bpmn": (
        "(issue 7) SpiffWorkflow copies every variable into and out of a called "
        "process; Laneway maps camunda:in/out as Camunda does"
    ),
    **dict.fromkeys(
        ("error_end_subprocess.bpmn", "call_error.bpmn", "escalation.bpmn"),
        "(issue 7) SpiffWorkflow gives a firing boundary event the variables of the "
        "moment it was armed; Laneway the scope's current ones",
    ),
    "operaton/multi-instance--document-review.bpmn": (
        "Camunda's completion condition reads nrOfCompletedInstances and "
        "nrOfInstances, which plain SpiffWorkflow does not define (it fails on the "
        "first completion); Laneway provides them as Camunda 7 does "
        "(engine/spiff/scripting.py _instance_counters)"
    ),
}
# Known Laneway bugs the differential shows (strict xfail: fixing one fails the
# test until its line is removed).
KNOWN_BUGS: dict[str, str] = {
    "loop_task_signatures.bpmn": (
        "issue 7 found 2: a loop task's next iteration is hooked onto the in-memory "
        "spec, not the stored state, so a step on a freshly compiled spec (another "
        "process) never creates it"
    ),
}
# A floor, so a change that makes every diagram undeployable cannot pass unseen.
MIN_DIAGRAMS = 40


def _label(path: Path) -> str:
    return path.name if path.parent == DIAGRAMS else str(path.relative_to(CORPUS))


def _normalized(path: Path, called=()) -> bytes:
    xml = path.read_bytes()
    return bundle_compile(
        xml,
        filename=path.name,
        dmn_files=_dmn_for(path),
        known_operations=set(service_operations(xml)),
        extra_bpmn=called,
    ).normalized_xml


def _executable_keys(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [
        p.get("id")
        for p in root.iterfind("bpmn:process", NS)
        if p.get("isExecutable") == "true"
    ]


@functools.cache
def _conformance_index() -> dict[str, Path]:
    index = {}
    for path in sorted(DIAGRAMS.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            if process.get("isExecutable") == "true":
                index.setdefault(process.get("id"), path)
    return index


def _called(path: Path) -> tuple[tuple[str, bytes], ...]:
    """The normalized XML of the conformance files defining the processes called."""
    if path.parent != DIAGRAMS:
        return ()
    index = _conformance_index()
    return tuple(
        (index[key].name, _normalized(index[key]))
        for key in called_elements(path.read_bytes())
        if key in index
    )


@functools.cache
def _diagram(path: Path) -> tuple[Diagram, bytes] | None:
    """Return the diagram and its normalized XML, or None when the upload refuses it."""
    try:
        called = _called(path)
        diagram = Diagram(
            _label(path), path.read_bytes(), tuple(_dmn_for(path)), called
        )
        return diagram, _normalized(path, called)
    except BpmnParseError:
        return None


def _scenario_values(path: Path) -> dict[str, list]:
    """The start and step data the scenarios of a conformance diagram use."""
    values: dict[str, list] = {}
    if path.parent != DIAGRAMS:
        return values
    for file in scenario_files():
        try:
            scenario = scenario_load(file)[0]
        except ScenarioError:
            continue
        if scenario.bpmn != path.name:
            continue
        steps = [a.data for s in scenario.steps for a in s.actions]
        for data in [scenario.start, *steps]:
            for key, value in data.items():
                if value not in values.setdefault(key, []):
                    values[key].append(value)
    return values


def _deployable() -> list[Path]:
    paths = [*sorted(DIAGRAMS.glob("*.bpmn")), *sorted(CORPUS.rglob("*.bpmn"))]
    return [p for p in paths if _diagram(p) is not None]


def _params() -> list:
    return [
        pytest.param(
            p,
            id=_label(p),
            marks=[pytest.mark.xfail(reason=KNOWN_BUGS[_label(p)], strict=True)]
            if _label(p) in KNOWN_BUGS
            else [],
        )
        for p in _deployable()
    ]


@pytest.mark.parametrize("path", _params())
def test_adapter_agrees_with_plain_spiffworkflow(path: Path):
    if _label(path) in DEPARTURES:
        pytest.skip(DEPARTURES[_label(path)])
    diagram, normalized = _diagram(path)
    values = {
        **referenced_values(normalized, diagram.dmn),
        **condition_values(normalized),
        **_scenario_values(path),
    }
    for key in _executable_keys(normalized):
        process = adapter_process(diagram, normalized, key)
        for seed in SEEDS:
            walk(
                functools.partial(adapter_process, diagram, normalized, key),
                plain_workflow(diagram, normalized, key),
                seed=seed,
                values={**form_values(process), **values},
                max_steps=MAX_STEPS,
            )


def test_enough_diagrams_are_walked():
    assert len(_deployable()) >= MIN_DIAGRAMS
