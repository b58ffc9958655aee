"""Drive one case through Laneway's adapter and plain SpiffWorkflow, side by side.

The adapter side is `engine.spiff` as production runs it: every step loads the
stored state, runs, prunes and dumps it again (`workflow_complete_user_task`,
`workflow_apply_service_result`). The plain side is SpiffWorkflow 3.2 with none
of Laneway's code: its own `SpiffBpmnParser`, `BpmnWorkflow`, `PythonScriptEngine`
and `do_engine_steps`, one workflow object kept in memory, never pruned. Both read
the same normalized XML (Laneway's upload translates Camunda dialect and JUEL to
the Python dialect SpiffWorkflow reads; that translation is input, not execution).

A service call is answered the same way on both sides: `{"ok": true, **params}`.
Timers are moved far into the future on both sides so a slow step cannot let a
timer fire on one side and not yet on the other; messages are not sent.
"""

from __future__ import annotations

import ast
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.spiff import (
    CompiledProcess,
    processes_compile,
    workflow_apply_service_result,
    workflow_complete_user_task,
    workflow_start,
)

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FAR_TIMERS = {
    "timeDuration": "'P30D'",
    "timeCycle": "'R1/P30D'",
    "timeDate": "'2999-01-01T00:00:00+00:00'",
}
MAX_SERVICE_ROUNDS = 20


def _answer(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({"ok": True, **params}, default=str))


class PlainEngine(PythonScriptEngine):
    """SpiffWorkflow's own script engine, answering service calls synchronously."""

    def call_service(self, task, operation_name, operation_params):  # noqa: D102
        params = {name: p["value"] for name, p in operation_params.items()}
        return json.dumps(_answer(params))


@dataclass(frozen=True)
class Diagram:
    """A deployable diagram: its normalized XML, DMN files and called documents."""

    name: str
    xml: bytes
    dmn: tuple[tuple[str, bytes], ...] = ()
    called: tuple[tuple[str, bytes], ...] = ()  # normalized XML of other files


def far_timers(xml: bytes) -> bytes:
    """Return the normalized XML with every timer moved a month or more ahead."""
    root = etree.fromstring(xml)
    for tag, value in FAR_TIMERS.items():
        for node in root.iterfind(f".//bpmn:timerEventDefinition/bpmn:{tag}", NS):
            node.text = value
    return etree.tostring(root)


def adapter_process(diagram: Diagram, normalized: bytes, key: str) -> CompiledProcess:
    """Compile process `key` afresh from the stored (normalized) XML, with far timers.

    A new spec each call is what another web worker or a restarted process has:
    nothing may carry over between steps except the stored state.
    """
    processes = processes_compile(
        far_timers(normalized),
        dmn_files=diagram.dmn,
        validate=False,
        extra_bpmn=diagram.called,
    )
    return next(p for p in processes if p.key == key)


def plain_workflow(diagram: Diagram, normalized: bytes, key: str) -> BpmnWorkflow:
    """Build a workflow of `key` with SpiffWorkflow alone."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(far_timers(normalized)), diagram.name)
    for name, xml in diagram.called:
        parser.add_bpmn_xml(etree.fromstring(far_timers(xml)), name)
    for name, xml in diagram.dmn:
        parser.add_dmn_xml(etree.fromstring(xml), name)
    return BpmnWorkflow(
        parser.get_spec(key),
        parser.get_subprocess_specs(key),
        script_engine=PlainEngine(),
    )


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def plain_data(wf: BpmnWorkflow) -> dict:
    """The case data as the adapter reports it (workflow data once completed)."""
    if wf.is_completed():
        return _json(wf.data)
    return _json(wf.last_task.data) if wf.last_task is not None else {}


def plain_ready(wf: BpmnWorkflow) -> list[str]:
    """Return the spec names of the READY human tasks, sorted."""
    return sorted(
        t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True)
    )


def _parsed(texts: list[str]) -> Iterator[ast.AST]:
    """Every node of every text that parses as a Python expression."""
    for text in texts:
        try:
            yield from ast.walk(ast.parse(text.strip(), mode="eval"))
        except SyntaxError:
            continue


def _constant_compared(node: ast.AST) -> tuple[str, Any] | None:
    """Return (name, constant) for `name <op> constant`, else None."""
    if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)):
        return None
    right = node.comparators[0]
    return (node.left.id, right.value) if isinstance(right, ast.Constant) else None


def condition_values(xml: bytes) -> dict[str, list[Any]]:
    """Candidate values for each variable the conditions read (true and false ones)."""
    root = etree.fromstring(xml)
    texts = [c.text or "" for c in root.iterfind(".//bpmn:conditionExpression", NS)]
    values: dict[str, set] = {}
    for node in _parsed(texts):
        compared = _constant_compared(node)
        if compared:
            values.setdefault(compared[0], set()).update(_around(compared[1]))
        elif isinstance(node, ast.Name) and node.id not in ("True", "False", "None"):
            values.setdefault(node.id, set()).update({True, False})
    return {k: sorted(v, key=repr) for k, v in values.items()}


_GENERIC = (1, 5, "a")
_BY_TYPE = {
    "boolean": [True, False],
    "long": [0, 1, 50, 5000],
    "double": [0.5, 50.0],
    "date": ["2030-01-01"],
}


def referenced_values(
    xml: bytes, dmn: tuple[tuple[str, bytes], ...]
) -> dict[str, list]:
    """Generic values for names that parameters and DMN inputs read."""
    root = etree.fromstring(xml)
    texts = [
        p.get("value") or "" for p in root.iterfind(".//spiffworkflow:parameter", NS)
    ]
    for _, data in dmn:
        texts += etree.fromstring(data).xpath(
            "//*[local-name()='inputExpression']/*[local-name()='text']/text()"
        )
    names: dict[str, list] = {
        (ref.text or "").strip(): [["first", "second"]]
        for ref in root.iterfind(".//bpmn:loopDataInputRef", NS)
    }
    for node in _parsed(texts):
        if isinstance(node, ast.Name) and node.id not in dir(__builtins__):
            names.setdefault(node.id, list(_GENERIC))
    return names


def form_values(process: CompiledProcess) -> dict[str, list]:
    """Values of the right type for every form field of the process."""
    metas = list(process.task_meta.values())
    if process.meta.start is not None:
        metas.append(process.meta.start)
    values: dict[str, list] = {}
    for meta in metas:
        for f in meta.form:
            if f.options:
                values[f.id] = [o[0] for o in f.options]
            else:
                values[f.id] = _BY_TYPE.get(f.type, ["a", "b"])
    return values


def _around(value: Any) -> set:
    if isinstance(value, bool) or value is None:
        return {True, False}
    if isinstance(value, int | float):
        return {value - 1, value, value + 1}
    return {value, f"not {value}"}


@dataclass
class Walk:
    """One seeded random walk over both engines, with what each step saw."""

    seed: int
    steps: list[str] = field(default_factory=list)
    end: str = ""  # why the walk stopped


class Diverged(AssertionError):
    """The two engines disagree."""


def _settle_adapter(fresh: Callable[[], CompiledProcess], outcome):
    for _ in range(MAX_SERVICE_ROUNDS):
        if not outcome.pending_service_calls or outcome.failure:
            return outcome
        call = outcome.pending_service_calls[0]
        outcome = workflow_apply_service_result(
            fresh(), outcome.state, task_id=call.task_id, result=_answer(call.params)
        )
    return outcome


def _plain_step(wf: BpmnWorkflow, action) -> str | None:
    """Run `action` on the plain workflow; return the error text, if it failed."""
    try:
        action()
        wf.do_engine_steps()
        wf.refresh_timers()
        wf.do_engine_steps()
    except Exception as exc:  # noqa: BLE001 - any failure of plain SpiffWorkflow
        return f"{type(exc).__name__}: {exc}"
    return None


def _compare(walk: Walk, outcome, wf: BpmnWorkflow, plain_error: str | None) -> bool:
    """Assert both sides agree; return whether the walk can go on."""
    where = f"seed {walk.seed} after {walk.steps}"
    if outcome.failure or plain_error:
        if not (outcome.failure and plain_error):
            raise Diverged(
                f"{where}: adapter failure {outcome.failure}, "
                f"plain failure {plain_error}"
            )
        walk.end = f"both failed: {outcome.failure.message[:80]}"
        return False
    ours = sorted(t.bpmn_id for t in outcome.ready_user_tasks)
    theirs = plain_ready(wf)
    if ours != theirs:
        raise Diverged(f"{where}: ready tasks adapter {ours} plain {theirs}")
    if outcome.data != plain_data(wf):
        raise Diverged(f"{where}: data adapter {outcome.data} plain {plain_data(wf)}")
    if outcome.completed != wf.is_completed():
        raise Diverged(f"{where}: completed {outcome.completed} vs {wf.is_completed()}")
    walk.end = "completed" if outcome.completed else "waiting"
    return bool(ours)


def walk(
    fresh: Callable[[], CompiledProcess],
    wf: BpmnWorkflow,
    *,
    seed: int,
    values: dict[str, list[Any]],
    max_steps: int,
) -> Walk:
    """Complete random ready user tasks with random data on both sides, comparing.

    Every adapter command runs on a freshly compiled spec (`fresh`), as if each
    step came from another process.
    """
    rng = random.Random(seed)
    result = Walk(seed)
    start = {k: rng.choice(v) for k, v in values.items()}
    outcome = _settle_adapter(fresh, workflow_start(fresh(), data=start))

    def begin() -> None:
        wf.task_tree.data.update(start)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(start)

    go_on = _compare(result, outcome, wf, _plain_step(wf, begin))
    for _ in range(max_steps):
        if not go_on:
            break
        names = sorted(Counter(t.bpmn_id for t in outcome.ready_user_tasks))
        name = rng.choice(names)
        data = {k: rng.choice(v) for k, v in values.items() if rng.random() < 0.7}
        result.steps.append(name)
        ours = next(t for t in outcome.ready_user_tasks if t.bpmn_id == name)
        outcome = _settle_adapter(
            fresh,
            workflow_complete_user_task(
                fresh(), outcome.state, task_id=ours.task_id, data=data
            ),
        )
        theirs = next(
            t
            for t in wf.get_tasks(state=TaskState.READY, manual=True)
            if t.task_spec.bpmn_id == name
        )

        def complete(task=theirs, data=data) -> None:
            task.data.update(data)
            task.run()

        go_on = _compare(result, outcome, wf, _plain_step(wf, complete))
    return result
