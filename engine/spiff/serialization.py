"""Case state <-> JSON, without the spec (the parsed spec is cached per version).

Loading always builds the workflow with Laneway's restricted script engine:
SpiffWorkflow's own converter would create a default, unrestricted engine first.

The tasks of the top workflow are converted here rather than through the
registry (`_tasks_to_dict`, `_tasks_from_dict`): the same dicts as
SpiffWorkflow's `TaskConverter` (byte for byte once dumped, so stored states
load either way), without the registry's dispatch per task and value, with
each task id parsed once, and without copying the caller's state first: a
load reads it and keeps no container of it (what it keeps is rebuilt, and the
rare parts restored by SpiffWorkflow's converters, which pop keys and keep
references, are copied first).

Case data is the users' JSON, and SpiffWorkflow's registry reads any dict with
a "typename" key as a converted object (a datetime, or a crash when the name is
unknown). Such a dict is written escaped, `{"typename": "LanewayDict", "items":
{...}}`, and read back as the same dict: by the registry (`_UserDataRegistry`)
for what it converts, and by `_escaped` for the task data SpiffWorkflow writes
as it is (root data and delta updates: `_TaskConverter`, `_tasks_to_dict`).
States without such dicts are written exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import CallActivity
from SpiffWorkflow.spiff.specs.event_definitions import (
    MessageEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .call_data import MappedCallActivity
from .called import LanewaySubWorkflowConverter, LanewayWorkflow
from .compiled import CompiledProcess
from .errors import StateCorrupt
from .event_names import NamedMessageEventDefinition, NamedSignalEventDefinition
from .events import scoped_events
from .scripting import script_engine
from .service_tasks import AsyncServiceTask
from .signal_payloads import MappedSignalEventDefinition
from .timers import DueDateTimer, OnceCycleTimer
from .variables import variables_adopt

STATE_FORMAT = "laneway-1"


_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


_ESCAPED = "LanewayDict"  # the typename of an escaped user dict


def _escaped(value: Any) -> Any:
    """`value` with each dict holding a "typename" key escaped (the dicts and
    lists on the way rebuilt); `value` itself when it holds none."""
    if isinstance(value, dict):
        items = _escaped_items(value, value.items())
        if "typename" in value:
            return {"typename": _ESCAPED, "items": items}
        return items
    if isinstance(value, list):
        return _escaped_items(value, enumerate(value))
    return value


def _escaped_items(container: Any, pairs: Any) -> Any:
    """`container` (a dict or list), or a copy with the items `_escaped`
    changed."""
    out = None
    for key, item in pairs:
        if isinstance(item, (dict, list)):
            new = _escaped(item)
            if new is not item:
                if out is None:
                    out = (
                        dict(container)
                        if isinstance(container, dict)
                        else list(container)
                    )
                out[key] = new
    return container if out is None else out


class _UserDataRegistry(DefaultRegistry):
    """The registry, with user dicts holding a "typename" key escaped.

    `convert` is DefaultRegistry's (`clean` each dict, then DictionaryConverter's
    dispatch) in one call per value."""

    def convert(self, obj: Any, **kwargs: Any) -> Any:
        kind = obj.__class__
        if kind in _PRIMITIVES:
            return obj
        if self._encoder_mode:
            return self._convert_for_encoder(obj)
        if isinstance(obj, dict):
            items = {
                k: self.convert(v, **kwargs)
                for k, v in obj.items()
                if not callable(v) and not isinstance(v, ModuleType)
            }
            if "typename" in obj:
                return {"typename": _ESCAPED, "items": items}
            return items
        to_dict = self.convert_to_dict.get(self.typenames.get(kind))
        if to_dict is not None:
            return to_dict(obj, **kwargs)
        if isinstance(obj, (list, tuple, set)):
            return kind([self.convert(item, **kwargs) for item in obj])
        return obj

    def restore(self, val: Any, **kwargs: Any) -> Any:
        kind = type(val)
        if kind in _PRIMITIVES:
            return val
        if kind is list:
            return [self.restore(item, **kwargs) for item in val]
        if isinstance(val, dict):
            if "typename" not in val:
                return {k: self.restore(v, **kwargs) for k, v in val.items()}
            if val["typename"] == _ESCAPED:
                items = val["items"]
                return {k: self.restore(v, **kwargs) for k, v in items.items()}
        return super().restore(val, **kwargs)


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's TaskConverter, with the task data it writes as it is
    (root data, delta updates) escaped (`_escaped`)."""

    def to_dict(self, task: Any) -> dict:
        dct = super().to_dict(task)
        dct["data"] = _escaped(dct["data"])
        delta = dct["delta"]
        if delta:
            delta["updates"] = _escaped(delta["updates"])
        return dct


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow without its specs; restore it onto cached spec objects."""

    def _task_typename(self) -> str | None:
        """Return the typename of `Task` when SpiffWorkflow's own TaskConverter
        converts it (what `_tasks_to_dict`/`_tasks_from_dict` reproduce): None
        sends the tasks through the registry."""
        typename = self.registry.typenames.get(Task)
        to_dict = self.registry.convert_to_dict.get(typename)
        func = getattr(to_dict, "args", (None, None))[1]
        converter = getattr(func, "__self__", None)
        return typename if type(converter) is _TaskConverter else None

    def to_dict(self, workflow: Any) -> dict:
        typename = self._task_typename()
        if typename is None:
            dct = WorkflowConverter.to_dict(self, workflow)
        else:
            dct = {
                "data": self.registry.convert(self.registry.clean(workflow.data)),
                "correlations": workflow.correlations,
                "last_task": str(workflow.last_task.id)
                if workflow.last_task is not None
                else None,
                "success": workflow.success,
                "completed": workflow.completed,
                "tasks": _tasks_to_dict(
                    workflow.tasks, self.registry.convert, typename
                ),
                "root": str(workflow.task_tree.id),
            }
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, process: Any = None) -> Any:
        # `dct` is the registry's shallow copy of the caller's state: its nested
        # containers are the caller's, never changed nor kept here.
        workflow = LanewayWorkflow(
            process, script_engine=script_engine(), deserializing=True
        )
        typename = self._task_typename()
        if typename is None:
            workflow.tasks = self.mapping_from_dict(
                _deep_copy(dct["tasks"]), UUID, workflow=workflow
            )
        else:
            workflow.tasks = _tasks_from_dict(
                dct["tasks"], workflow, self._restore, typename, self.registry
            )
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        workflow.success = dct["success"]
        workflow.completed = dct.get("completed", False)
        workflow.correlations = _deep_copy(dct.get("correlations", {}))
        if isinstance(dct["last_task"], str):
            workflow.last_task = workflow.tasks.get(UUID(dct["last_task"]))
        workflow.data = self._restore(dct.get("data", {}))
        subprocesses = dct["subprocesses"]
        if subprocesses:
            self.subprocesses_from_dict(_deep_copy(subprocesses), workflow)
        events = dct.get("bpmn_events", [])
        workflow.bpmn_events = (
            self.registry.restore(_deep_copy(events)) if events else []
        )
        variables_adopt(workflow)  # a case saved before the shared variables
        return scoped_events(workflow)

    def _restore(self, value: Any) -> Any:
        """`registry.restore` on a fresh copy of `value` (plain JSON is rebuilt
        as it is restored; only objects the registry converts are copied)."""
        kind = type(value)
        if kind in _PRIMITIVES:
            return value
        if kind is dict and "typename" not in value:
            return {k: self._restore(v) for k, v in value.items()}
        if kind is list:
            return [self._restore(v) for v in value]
        return self.registry.restore(_deep_copy(value))


def _tasks_to_dict(
    tasks: dict, convert: Callable[[Any], Any], typename: str
) -> dict[str, Any]:
    """`mapping_to_dict(workflow.tasks)` with `_TaskConverter`."""
    names = {task_id: str(task_id) for task_id in tasks}
    out: dict[str, Any] = {}
    for task_id, task in tasks.items():
        if type(task) is not Task:
            out[names[task_id]] = convert(task)
            continue
        parent = tasks.get(task._parent)
        data = task.data
        if parent is None:
            delta: dict[str, Any] = {}
            data = _escaped(data)
        else:
            base = parent.data
            delta = {
                "updates": _escaped(
                    {k: data[k] for k in data if k not in base or data[k] != base[k]}
                ),
                "deletions": [k for k in base if k not in data],
            }
            data = {}
        out[names[task_id]] = {
            "id": names[task_id],
            "parent": names[task._parent] if parent is not None else None,
            "children": [names.get(c) or str(c) for c in task._children],
            "last_state_change": task.last_state_change,
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": convert(task.internal_data) if task.internal_data else {},
            "data": data,
            "delta": delta,
            "typename": typename,
        }
    return out


def _tasks_from_dict(
    mapping: dict,
    workflow: Any,
    restore: Callable[[Any], Any],
    typename: str,
    registry: Any,
) -> dict[UUID, Any]:
    """`mapping_from_dict(tasks, UUID, workflow=...)` with SpiffWorkflow's
    TaskConverter, each id parsed once, the input left as it is."""
    ids: dict[str, UUID] = {}

    def uuid(text: str) -> UUID:
        value = ids.get(text)
        if value is None:
            value = ids[text] = UUID(text)
        return value

    specs = workflow.spec.task_specs
    top = workflow.top_workflow
    tasks: dict[UUID, Any] = {}
    for key, dct in mapping.items():
        if type(dct) is not dict or dct.get("typename") != typename:
            tasks[uuid(key)] = registry.restore(_deep_copy(dct), workflow=workflow)
            continue
        task_spec = specs.get(dct["task_spec"])
        task = Task(workflow, task_spec, state=dct["state"], id=uuid(dct["id"]))
        parent_id = dct["parent"]
        task._parent = uuid(parent_id) if parent_id is not None else None
        task._children = [uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task._state & TaskState.WAITING:
            top.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = workflow.tasks.get(task._parent)
        if delta and parent is not None:
            data = DeepMerge.merge({}, parent.data)
            data.update(restore(delta.get("updates", {})))
            for name in delta.get("deletions", {}):
                if name in data:
                    del data[name]
        else:
            data = restore(dct["data"])
        task.data = data
        tasks[uuid(key)] = task
    return tasks


def _serializer(
    converter: type[SpecFreeWorkflowConverter] = SpecFreeWorkflowConverter,
    *,
    escaping: bool = True,
) -> BpmnWorkflowSerializer:
    """Laneway's serializer (`escaping=False`: SpiffWorkflow's own registry and
    TaskConverter, which write the same bytes for states without user dicts
    holding a "typename" key)."""
    config = dict(SPIFF_CONFIG)
    config[AsyncServiceTask] = ServiceTaskConverter
    config[MappedCallActivity] = config[CallActivity]
    # an event-based gateway keeps the signal it caught (internal_data seen_events)
    config[MappedSignalEventDefinition] = config[SignalEventDefinition]
    # or the message or signal named by an expression it caught (event_names.py)
    config[NamedSignalEventDefinition] = config[SignalEventDefinition]
    config[NamedMessageEventDefinition] = config[MessageEventDefinition]
    # and the cycle timer it fired on (timers.adapt_cycle_timers)
    config[OnceCycleTimer] = config[CycleTimerEventDefinition]
    config[DueDateTimer] = config[TimeDateEventDefinition]
    config[BpmnWorkflow] = converter
    config[BpmnSubWorkflow] = LanewaySubWorkflowConverter
    registry = _UserDataRegistry() if escaping else None
    if escaping:
        config[Task] = _TaskConverter
    registry = BpmnWorkflowSerializer.configure(config, registry)
    # A case is a LanewayWorkflow (called.py), stored as SpiffWorkflow's own.
    registry.typenames[LanewayWorkflow] = registry.typenames[BpmnWorkflow]
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _serializer()


def new_workflow(process: CompiledProcess) -> Any:
    """Create a workflow with the restricted engine attached from the start."""
    return scoped_events(LanewayWorkflow(process, script_engine=script_engine()))


def state_dump(workflow: Any) -> dict:
    """Return the workflow's state as a JSON-ready dict (no spec)."""
    dct = _SERIALIZER.to_dict(workflow)
    dct["serializer_version"] = _SERIALIZER.VERSION
    dct["format"] = STATE_FORMAT
    return dct


def state_load(state: dict, process: CompiledProcess) -> Any:
    """Rebuild a workflow from `state_dump` output onto cached specs.

    Raises:
        StateCorrupt: when the state cannot be restored.
    """
    if state.get("format") != STATE_FORMAT:
        raise StateCorrupt(f"unknown case state format {state.get('format')!r}")
    dct = {k: v for k, v in state.items() if k not in ("serializer_version", "format")}
    try:
        # The caller's state is neither changed nor shared (`from_dict`).
        return _SERIALIZER.from_dict(dct, process=process)
    except (KeyError, ValueError, TypeError) as exc:
        raise StateCorrupt(f"case state cannot be loaded: {exc}") from exc
