"""Drive one case through two engines side by side, comparing after every step.

`Production` is `engine.spiff` as production runs it: every step loads the stored
state (JSON, as PostgreSQL returns it) onto a freshly compiled spec (as another
process would), runs, prunes and dumps it again (`workflow_complete_user_task`,
`workflow_apply_service_result`). It is compared with one of two references:

* `InMemory`: the same corrected specs (Laneway's `processes_compile`, script
  engine and event scoping), one workflow object kept in memory, never pruned,
  dumped nor reloaded. Any difference is a bug of the prune or of the reload:
  what production adds to a single in-memory run.
* `Plain`: SpiffWorkflow 3.2 with none of Laneway's code: its own
  `SpiffBpmnParser`, `BpmnWorkflow`, `PythonScriptEngine` and `do_engine_steps`.
  Where Laneway corrects SpiffWorkflow on purpose the two differ (the test lists
  those diagrams with the reason).

All read the same normalized XML (Laneway's upload translates Camunda dialect and
JUEL to the Python dialect SpiffWorkflow reads; that translation is input, not
execution).

A service call is answered the same way on both sides: `{"ok": true, **params}`.
Timers are moved far into the future on both sides so a slow step cannot let a
timer fire on one side and not yet on the other; messages are not sent.
"""

from __future__ import annotations

import ast
import contextlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.node_parser import NodeParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.spiff import (
    CalledProcess,
    CallNotResolved,
    CompiledProcess,
    processes_compile,
    workflow_apply_service_result,
    workflow_complete_user_task,
    workflow_start,
)
from engine.spiff.candidates import INITIATOR_VALUES, VARIABLE
from engine.spiff.conditional_events import note_written
from engine.spiff.reached_failures import reached_failure
from engine.spiff.sandbox.el import runtime as el_runtime
from engine.spiff.serialization import new_workflow
from engine.spiff.service_tasks import CALL_KEY, service_variables
from engine.spiff.stepping import run_engine
from engine.spiff.variables import human_task_locals, variables_of
from tests.juel_ast import plain_python

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


def _plain_compare(op: str, a: Any, b: Any) -> bool:
    return (a == b) if op == "==" else (a < b)


class PlainEngine(PythonScriptEngine):
    """SpiffWorkflow's own script engine, answering service calls synchronously.

    Its globals hold the EL operators translated JUEL calls (`sandbox.el`): they
    are part of the translation (input), like the Python it is translated to.
    """

    def __init__(self) -> None:
        super().__init__(environment=TaskDataEnvironment(el_runtime(_plain_compare)))

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


def in_memory_calls(diagram: Diagram) -> dict[str, Any]:
    """The resolve and load hooks of `calls_configured` for a diagram's called
    documents: a call of another file's process runs the one of those (what a
    deployment of them would give a call starting now), without a database."""
    compiled = {
        p.key: p
        for _, xml in diagram.called
        for p in processes_compile(far_timers(xml), validate=False)
    }

    def load(ref: Any) -> CompiledProcess:
        return compiled[ref["key"]]

    def resolve(key: str, version: int | None, tag: str | None) -> CalledProcess:
        if key not in compiled:
            raise CallNotResolved(f"'{key}' is not among the called documents")
        return CalledProcess(compiled[key], {"key": key})

    return {"resolve": resolve, "load": load}


class ParserLoopsForEver(RuntimeError):
    """SpiffWorkflow's parser would never return for this diagram."""


def _resolve_or_raise(self: Any, ref: Any) -> Any:
    """`NodeParser._resolve_data_object_ref` of SpiffWorkflow 3.2, raising where
    it loops for ever: it looks in the task's scope and its parent's, then sets
    the scope to the parent again (a data object two scopes up, or in no
    enclosing scope, from inside a sub-process)."""
    if ref is None:
        return None
    for scope in (self.process_parser, self.process_parser.parent):
        if scope is None:
            return None
        found = scope.spec.data_objects.get(ref.get("dataObjectRef"))
        if found is not None:
            return found
    raise ParserLoopsForEver(f"data object {ref.get('dataObjectRef')!r}")


@contextlib.contextmanager
def _parser_terminates() -> Iterator[None]:
    original = NodeParser._resolve_data_object_ref
    NodeParser._resolve_data_object_ref = _resolve_or_raise  # type: ignore[method-assign]
    try:
        yield
    finally:
        NodeParser._resolve_data_object_ref = original  # type: ignore[method-assign]


def plain_workflow(diagram: Diagram, normalized: bytes, key: str) -> BpmnWorkflow:
    """Build a workflow of `key` with SpiffWorkflow alone (where its parser
    would loop for ever, it raises ParserLoopsForEver instead)."""
    with _parser_terminates():
        return _plain_workflow(diagram, normalized, key)


def _plain_workflow(diagram: Diagram, normalized: bytes, key: str) -> BpmnWorkflow:
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


def _parsed(texts: list[str]) -> Iterator[ast.AST]:
    """Every node of every text that parses as a Python expression."""
    for text in texts:
        try:
            yield from ast.walk(plain_python(ast.parse(text.strip(), mode="eval")))
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


def _texts(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def people_values(
    process: CompiledProcess, values: dict[str, list[Any]]
) -> dict[str, list]:
    """Texts for every variable a human task's assignee or candidates name
    (`${approver}`): Laneway fails a task whose people are missing or not text,
    as Camunda 7 does (people.py), where SpiffWorkflow has no people at all;
    the walk gives them names, keeping the texts other pickers found."""
    found: dict[str, list] = {}
    for meta in process.task_meta.values():
        for value in (meta.assignee, *meta.candidate_users, *meta.candidate_groups):
            match = VARIABLE.match(value)
            if match is not None and value not in INITIATOR_VALUES:
                name = match.group(1)
                texts = [v for v in values.get(name, []) if _texts(v)]
                found[name] = texts or ["alice", "bob"]
    return found


def _around(value: Any) -> set:
    if isinstance(value, bool) or value is None:
        return {True, False}
    if isinstance(value, int | float):
        return {value - 1, value, value + 1}
    return {value, f"not {value}"}


Key = tuple[str, str]  # (BPMN id, the instance's local variables as JSON)


def _key(bpmn_id: str, local: dict) -> Key:
    return bpmn_id, json.dumps(_json(local), sort_keys=True)


class Side(Protocol):
    """One engine running one case."""

    failure: str | None

    def ready(self) -> list[Key]:
        """Return the READY human tasks, sorted (ties in the engine's own order)."""

    def complete(self, index: int, data: dict) -> None:
        """Complete `self.ready()[index]` with `data` and run on."""

    def data(self) -> dict:
        """Return the case data."""

    def completed(self) -> bool:
        """Return whether the case has completed."""


class Production:
    """Laneway as production runs it: stored state, fresh spec, pruned, reloaded."""

    def __init__(self, fresh: Callable[[], CompiledProcess], data: dict) -> None:
        self.fresh = fresh
        self.outcome = self._settle(workflow_start(fresh(), data=data))

    def _settle(self, outcome):
        for _ in range(MAX_SERVICE_ROUNDS):
            if not outcome.pending_service_calls or outcome.failure:
                break
            call = outcome.pending_service_calls[0]
            outcome = workflow_apply_service_result(
                self.fresh(),
                _json(outcome.state),
                task_id=call.task_id,
                result=_answer(call.params),
            )
        return outcome

    @property
    def failure(self) -> str | None:
        failure = self.outcome.failure
        return f"{failure.bpmn_id}: {failure.message}" if failure else None

    def _tasks(self) -> list:
        tasks = self.outcome.ready_user_tasks
        return sorted(tasks, key=lambda t: _key(t.bpmn_id, t.local_data))

    def ready(self) -> list[Key]:
        return [_key(t.bpmn_id, t.local_data) for t in self._tasks()]

    def complete(self, index: int, data: dict) -> None:
        task = self._tasks()[index]
        self.outcome = self._settle(
            workflow_complete_user_task(
                self.fresh(), _json(self.outcome.state), task_id=task.task_id, data=data
            )
        )

    def data(self) -> dict:
        return self.outcome.data

    def completed(self) -> bool:
        return self.outcome.completed


class _InMemoryWorkflow:
    """A side holding one workflow object for the whole walk (never reloaded)."""

    wf: BpmnWorkflow
    failure: str | None = None

    def _advance(self) -> None:
        raise NotImplementedError

    def _run(self, action: Callable[[], None]) -> None:
        try:
            action()
            self._advance()
        except Exception as exc:  # noqa: BLE001 - any failure of the engine
            self.failure = f"{type(exc).__name__}: {exc}"

    def _tasks(self) -> list:
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True)
        return sorted(tasks, key=lambda t: self._task_key(t))

    def _task_key(self, task) -> Key:
        return _key(task.task_spec.bpmn_id, {})

    def ready(self) -> list[Key]:
        return [self._task_key(t) for t in self._tasks()]

    def complete(self, index: int, data: dict) -> None:
        task = self._tasks()[index]

        def action() -> None:
            task.data.update(_json(data))
            task.run()

        self._run(action)

    def _begin(self, data: dict) -> None:
        def action() -> None:
            self.wf.task_tree.data.update(_json(data))
            for task in self.wf.get_tasks(state=TaskState.READY):
                task.data.update(_json(data))

        self._run(action)

    def completed(self) -> bool:
        return bool(self.wf.is_completed())


class InMemory(_InMemoryWorkflow):
    """Laneway's corrected specs in one workflow kept in memory: no prune, no reload."""

    def __init__(self, process: CompiledProcess, data: dict) -> None:
        self.wf = new_workflow(process)
        self._begin(data)

    def _run_engine(self) -> None:
        run_engine(self.wf, lambda task: None, prune=False)
        # A task that failed as it was reached (its inputs, the name it waits
        # for) is left in ERROR while the engine runs on; production reports
        # it (runtime.run).
        reached = reached_failure(self.wf)
        if reached is not None:
            raise reached

    def _advance(self) -> None:
        self._run_engine()
        for _ in range(MAX_SERVICE_ROUNDS):
            started = self.wf.get_tasks(state=TaskState.STARTED)
            calls = [t for t in started if CALL_KEY in t.internal_data]
            if not calls:
                return
            task = calls[0]
            variables = service_variables(
                task, _answer(task.internal_data[CALL_KEY]["params"])
            )
            task.internal_data.pop(CALL_KEY)
            note_written(self.wf, variables)  # as workflow_apply_service_result
            task.data.update(variables)
            task.complete()
            self._run_engine()

    def complete(self, index: int, data: dict) -> None:
        note_written(self.wf, data)  # as workflow_complete_user_task
        super().complete(index, data)

    def _task_key(self, task) -> Key:
        return _key(task.task_spec.bpmn_id, human_task_locals(task))

    def data(self) -> dict:
        # The case's shared variables (engine/spiff/variables.py), as production,
        # completed or not (engine/spiff/runtime.py _case_data).
        store = variables_of(self.wf) or {}
        if self.wf.is_completed():
            return _json({**self.wf.data, **store})
        return _json(store)


class Plain(_InMemoryWorkflow):
    """SpiffWorkflow 3.2 alone (its parser, workflow and script engine)."""

    def __init__(self, build: Callable[[], BpmnWorkflow], data: dict) -> None:
        try:
            self.wf = build()
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow refuses the diagram
            self.failure = f"{type(exc).__name__}: {exc}"
            return
        self._begin(data)

    def _advance(self) -> None:
        self.wf.do_engine_steps()
        self.wf.refresh_timers()
        self.wf.do_engine_steps()

    def data(self) -> dict:
        if self.wf.is_completed():
            return _json(self.wf.data)
        last = self.wf.last_task
        return _json(last.data) if last is not None else {}


@dataclass
class Walk:
    """One seeded random walk over both engines, with what each step saw."""

    seed: int
    steps: list[str] = field(default_factory=list)
    end: str = ""  # why the walk stopped


class Diverged(AssertionError):
    """The two engines disagree."""


def _compare(result: Walk, ours: Side, theirs: Side, *, with_locals: bool) -> bool:
    """Assert both sides agree; return whether the walk can go on."""
    where = f"seed {result.seed} after {result.steps}"
    if ours.failure or theirs.failure:
        if not (ours.failure and theirs.failure):
            raise Diverged(
                f"{where}: production failure {ours.failure}, "
                f"reference failure {theirs.failure}"
            )
        result.end = f"both failed: {ours.failure[:80]}"
        return False
    mine, other = ours.ready(), theirs.ready()
    if not with_locals:
        mine, other = [k[0] for k in mine], [k[0] for k in other]
    if mine != other:
        raise Diverged(f"{where}: ready tasks production {mine} reference {other}")
    if ours.data() != theirs.data():
        raise Diverged(
            f"{where}: data production {ours.data()} reference {theirs.data()}"
        )
    if ours.completed() != theirs.completed():
        raise Diverged(f"{where}: completed {ours.completed()} vs {theirs.completed()}")
    result.end = "completed" if ours.completed() else "waiting"
    return bool(mine)


def walk(
    ours: Callable[[dict], Side],
    theirs: Callable[[dict], Side],
    *,
    seed: int,
    values: dict[str, list[Any]],
    max_steps: int,
    with_locals: bool = True,
) -> Walk:
    """Complete random ready user tasks with random data on both sides, comparing.

    `ours` and `theirs` build each side from the start data. Each step picks a
    ready task by its place in the sorted list (so any instance of a
    multi-instance activity can go first); `with_locals` compares the instances'
    local variables too (plain SpiffWorkflow has none).
    """
    rng = random.Random(seed)
    result = Walk(seed)
    start = {k: rng.choice(v) for k, v in values.items()}
    production, reference = ours(start), theirs(start)
    go_on = _compare(result, production, reference, with_locals=with_locals)
    for _ in range(max_steps):
        if not go_on:
            break
        ready = production.ready()
        index = rng.randrange(len(ready))
        data = {k: rng.choice(v) for k, v in values.items() if rng.random() < 0.7}
        result.steps.append(ready[index][0])
        production.complete(index, data)
        reference.complete(index, data)
        go_on = _compare(result, production, reference, with_locals=with_locals)
    return result
