"""Call activities that call a process of another file, resolved when they start.

Camunda 7 resolves `calledElementBinding="latest"` (its default) when the call
activity starts: a callee version deployed while a case runs is used by the
calls that start after it, and a child already running stays on its version.

SpiffWorkflow keeps one namespace of sub-process specs per case
(`BpmnWorkflow.subprocess_specs`, keyed by process id). Here each (sub)workflow
knows the compiled process that owns it (`laneway_process`): a sub-process or
call of the same file takes its spec from the owner's; a call of a process of
another file asks the host (`calls_configure(resolve=...)`), which returns the
compiled version to run and a JSON reference to it. The reference is stored
with the child's state, and a load asks the host for that same version
(`load=...`), so a child runs one version to its end whatever is deployed
later. A call the host cannot resolve fails the call activity (an incident,
retried once the analyst has fixed the deployments).

A calledElement expression (`${key}`, translated from JUEL at parse) is
evaluated when the call activity is reached, against the variables it sees
(a multi-instance call's element variable too), as Camunda 7's
CallableElementUtil does; the key it gives is always resolved by the host
(its latest deployed version, or the number or tag the call binds), also when
it names a process of the caller's file, as Camunda 7 looks it up among the
deployed definitions. A value that is not a text, or a key the host cannot
resolve, fails the call activity like any other unresolved call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .compiled import CompiledProcess

CALLED_KEY = "laneway_called"  # the reference stored with a child's state


@dataclass(frozen=True, slots=True)
class CalledProcess:
    """The version a call activity runs: its compiled process and a reference.

    `ref` is JSON (the host's: e.g. key, version number, id, checksum); it is
    stored with the child's state and given back to `load`.
    """

    process: CompiledProcess
    ref: Mapping[str, Any]


def _named(called: CalledProcess) -> str:
    version = called.ref.get("version")
    key = called.process.key
    return f"'{key}' v{version}" if version else f"'{key}'"


class CallNotResolved(Exception):
    """The host cannot give the version a call activity should run (the reason)."""


# (key, version number, version tag): at most one of the last two is given.
Resolve = Callable[[str, int | None, str | None], CalledProcess]
Load = Callable[[Mapping[str, Any]], CompiledProcess]


def _not_configured(*args: Any) -> Any:
    raise CallNotResolved("no deployed processes are known to this engine")


_hooks: dict[str, Any] = {"resolve": _not_configured, "load": _not_configured}


def calls_configure(*, resolve: Resolve, load: Load) -> None:
    """Set how calls of other files' processes find the version to run.

    `resolve(key, version, tag)` returns the version a call starting now runs:
    version number `version`, else the one whose camunda:versionTag is `tag`,
    else the latest deployed one; it raises CallNotResolved with the reason.
    `load(ref)` returns the compiled process of a reference `resolve` gave (a
    child being loaded with its case).
    """
    _hooks["resolve"], _hooks["load"] = resolve, load


@contextmanager
def calls_configured(*, resolve: Resolve, load: Load) -> Iterator[None]:
    """Resolve calls with `resolve` and `load` inside the block (a host without
    a database of versions: a tool, a test), then as before."""
    before = dict(_hooks)
    calls_configure(resolve=resolve, load=load)
    try:
        yield
    finally:
        _hooks.update(before)


class _AnyName(dict):
    """The case's sub-process specs, as SpiffWorkflow sees them: any name is
    there (`SubWorkflowTask.start_workflow` checks membership first); which
    spec a name means is decided by `LanewayWorkflow.create_subprocess`."""

    def __contains__(self, name: object) -> bool:
        return True

    def __bool__(self) -> bool:  # BpmnWorkflow keeps it only when truthy
        return True


def _specs(process: CompiledProcess) -> dict[str, Any]:
    specs: dict[str, Any] = process.subprocess_specs  # type: ignore[assignment]
    return specs


def owner_of(workflow: Any) -> CompiledProcess:
    """Return the compiled process a (sub)workflow runs in."""
    process: CompiledProcess = workflow.laneway_process
    return process


def called_owner(workflow: Any) -> tuple[CompiledProcess, Mapping[str, Any] | None]:
    """Return the compiled process a (sub)workflow runs in and, when it is a
    version of another file's process (or runs inside one), its reference."""
    current = workflow
    while current is not None:
        ref = getattr(current, "laneway_called", None)
        if ref is not None:
            return owner_of(workflow), ref
        current = current.parent_workflow
    return owner_of(workflow), None


def workflow_rebase(workflow: Any, process: CompiledProcess) -> None:
    """Make `process` the case's own process (a case moved to another version)."""
    workflow.spec = process.spec
    workflow.subprocess_specs = _AnyName(_specs(process))
    workflow.laneway_process = process


def workflow_processes(workflow: Any) -> list[CompiledProcess]:
    """Return the case's own process and every called version its children run."""
    top = workflow.top_workflow
    called = getattr(top, "laneway_called_processes", {})
    return [owner_of(top), *called.values()]


def _calling_stack(workflow: Any) -> list[str]:
    """The processes (and sub-processes) a task runs in, innermost first."""
    names = []
    current = workflow
    while current is not None:
        names.append(current.spec.name)
        current = current.parent_workflow
    return names


def _has_none_start(spec: Any) -> bool:
    # With several start events the start's output is their split, not them.
    starts = getattr(spec, "bpmn_start_events", None) or spec.start.outputs
    return any(
        isinstance(getattr(task_spec, "event_definition", None), NoneEventDefinition)
        for task_spec in starts
    )


class LanewayWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose calls of other files' processes resolve on start."""

    laneway_process: CompiledProcess
    laneway_called: Mapping[str, Any] | None = None

    def __init__(self, process: CompiledProcess, **kwargs: Any) -> None:
        super().__init__(process.spec, _AnyName(_specs(process)), **kwargs)
        self.laneway_process = process
        # (calling task id, ref) of each call of another file started in this
        # command: the host records which version ran (outcome.called_versions).
        self.laneway_calls: list[tuple[Any, Mapping[str, Any]]] = []
        # Every version of another file's process a child of this case runs
        # (loaded or started), for what reads all the specs a case runs.
        self.laneway_called_processes: dict[int, CompiledProcess] = {}
        self.laneway_resolved: dict[
            tuple[str, int | None, str | None], CalledProcess
        ] = {}

    def laneway_adopt(self, process: CompiledProcess) -> None:
        """Remember a called version one of this case's children runs."""
        self.laneway_called_processes.setdefault(id(process), process)

    def create_subprocess(self, my_task: Any, spec_name: str) -> Any:
        owner = owner_of(my_task.workflow)
        own = _specs(owner).get(spec_name)
        ref = None
        if own is not None and spec_name not in owner.calls_outside:
            process, spec = owner, own
        else:
            process, ref = self._resolve(my_task, spec_name)
            spec = process.spec
        subprocess = BpmnSubWorkflow(spec, parent_task_id=my_task.id, top_workflow=self)
        subprocess.laneway_process = process
        subprocess.laneway_called = ref
        self.subprocesses[my_task.id] = subprocess
        if ref is not None:
            self.laneway_calls.append((my_task, ref))
            self.laneway_adopt(process)
        return subprocess

    def _resolve(
        self, my_task: Any, name: str
    ) -> tuple[CompiledProcess, Mapping[str, Any]]:
        version = getattr(my_task.task_spec, "called_version", None)
        tag = getattr(my_task.task_spec, "called_version_tag", None)
        key = ""
        try:
            key = _called_key(my_task, name)
            # One resolution per command and callee: the instances of a
            # multi-instance call activity started together run one version.
            called = self.laneway_resolved.get((key, version, tag))
            if called is None:
                called = _hooks["resolve"](key, version, tag)
                self.laneway_resolved[(key, version, tag)] = called
            _check_callable(my_task, called)
        except CallNotResolved as exc:
            my_task.error()
            shown = f"'{name}'"
            if key != name:  # an expression (and the key it gave, if any)
                shown = (
                    f"'{key}' (calledElement {name})"
                    if key
                    else f"(calledElement {name})"
                )
            raise WorkflowTaskException(
                f"The called process {shown} cannot be started: {exc}", task=my_task
            ) from None
        return called.process, called.ref


def _called_key(my_task: Any, name: str) -> str:
    """Return the key the call activity calls: its calledElement, or the value
    of its expression now (Camunda 7 evaluates it when the call activity is
    reached, against the variables the activity sees)."""
    expression = getattr(my_task.task_spec, "called_expression", "")
    if not expression:
        return name
    try:
        value = my_task.workflow.script_engine.evaluate(my_task, expression)
    except SpiffWorkflowException as exc:
        # SpiffWorkflow's message names the expression only; the error it wraps
        # says why (a variable that does not exist: NameError).
        inner = exc.__cause__ or exc.__context__
        why = f"{type(inner).__name__}: {inner}" if inner is not None else str(exc)
        raise CallNotResolved(f"the expression cannot be evaluated ({why})") from None
    if not isinstance(value, str):
        # Camunda 7 (BaseCallableElement.getDefinitionKey): "Cannot cast ... to
        # String"; a null key finds no deployed process.
        raise CallNotResolved(
            f"the expression gives {value!r} ({type(value).__name__}), not the "
            "key of a process (a text)"
        )
    if not value.strip():
        raise CallNotResolved("the expression gives an empty text, not a process key")
    return value


def _check_callable(my_task: Any, called: CalledProcess) -> None:
    """Refuse a call cycle across files and a callee without a none start event."""
    stack = _calling_stack(my_task.workflow)
    if called.process.key in stack:
        chain = " → ".join([*reversed(stack), called.process.key])
        raise CallNotResolved(
            f"a call cycle across files ({chain}) is not supported; "
            "deploy a version that does not call back"
        )
    if not _has_none_start(called.process.spec):
        raise CallNotResolved(
            f"{_named(called)} has no none start event: a called process "
            "starts there (BPMN 2.0.2 \u00a710.5.2; Camunda 7 fails the call)"
        )


class LanewaySubWorkflowConverter(BpmnSubWorkflowConverter):
    """A child's state with the reference of the version it runs (if another
    file's); loaded onto that version's spec."""

    def to_dict(self, workflow: Any) -> dict:
        dct: dict = super().to_dict(workflow)
        ref = getattr(workflow, "laneway_called", None)
        if ref is not None:
            dct[CALLED_KEY] = dict(ref)
        return dct

    def from_dict(self, dct: dict, task: Any, top_workflow: Any) -> Any:
        ref = dct.get(CALLED_KEY)
        owner = owner_of(task.workflow)
        if ref is not None:
            process = _hooks["load"](ref)
            spec = process.spec
            top_workflow.laneway_adopt(process)
        else:  # a process of the owner's file (or bound at deploy, before)
            process = owner
            spec = _specs(owner).get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        subprocess.laneway_process = process
        subprocess.laneway_called = ref
        subprocess.tasks = self.mapping_from_dict(
            dct["tasks"], UUID, workflow=subprocess
        )
        subprocess.task_tree = subprocess.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess
