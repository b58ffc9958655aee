"""Signals: broadcast events that leave their case.

SpiffWorkflow delivers a thrown signal only inside the throwing workflow (and
remembers it in `bpmn_events` when nothing there catches it). BPMN broadcasts
a signal to every catcher of every instance, and starts every process with a
signal start event. Routing across cases is the engine's job; here:

* `waiting_signals`: the signals a workflow waits for (catch events, boundary
  events, event sub-process starts), one per catching element;
* `signal_payloads.thrown_with_payloads`: the signals the throw events
  (intermediate or end) of one advance threw, with what they carry; the
  throwing case has already caught them itself, so the engine broadcasts
  them to the other cases only;
* `workflow_deliver_signal` / `workflow_start_by_signal`: catch a signal in a
  stored case, or start a workflow with its signal start event. The signal's
  data become variables of the catching path, or the value of the catching
  signal's `spiffworkflow:variableName` when it names one.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (
    MultipleEventDefinition,
)
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .common import json_safe
from .compiled import CompiledProcess, no_initiator
from .conditional_events import note_written
from .errors import SpiffAdapterError
from .event_names import event_name
from .receive_waits import ExecutionSignal
from .serialization import new_workflow, state_load
from .signal_payloads import MappedSignalEventDefinition
from .stepping import run_engine
from .timer_starts import hold_none_starts, hold_timer_starts
from .types import AdvanceOutcome


class SignalNotCaught(SpiffAdapterError):
    """No element of the workflow waits for this signal."""


def _signal_definitions(definition: Any) -> Iterator[Any]:
    if isinstance(definition, SignalEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for child in definition.event_definitions:
            yield from _signal_definitions(child)


def _catchers(workflow: Any, name: str | None = None) -> list[tuple[Any, Any]]:
    found = []
    for task in list(workflow.top_workflow.event_manager.tasks.values()):
        for signal in _signal_definitions(
            getattr(task.task_spec, "event_definition", None)
        ):
            if name is None or event_name(signal, task) == name:
                found.append((task, signal))
    return found


def _event_subprocess_starts(
    workflow: Any, name: str | None = None
) -> list[tuple[Any, Any]]:
    """Return (start event spec, signal) of the signal-started event sub-processes.

    SpiffWorkflow does not keep these start events waiting: catching the signal
    creates the event sub-process (`EventManager.update_collaboration`).
    """
    top = workflow.top_workflow
    if top.is_completed():
        return []
    found = []
    for spec_name in getattr(top.spec.start, "trigger_specs", ()):
        sub = top.subprocess_specs.get(spec_name)
        for start in getattr(sub, "bpmn_start_events", ()):
            for signal in _signal_definitions(getattr(start, "event_definition", None)):
                if name is None or signal.name == name:
                    found.append((start, signal))
    return found


def waiting_signals(workflow: Any) -> tuple[tuple[str, str], ...]:
    """Return (signal name, element id) for every element waiting for a signal."""
    waiting = {
        (event_name(s, t), t.task_spec.bpmn_id or "") for t, s in _catchers(workflow)
    }
    waiting |= {
        (s.name, spec.bpmn_id or "") for spec, s in _event_subprocess_starts(workflow)
    }
    return tuple(sorted(waiting))


def signal_start_names(process: CompiledProcess) -> tuple[str, ...]:
    """Return the names of the process's signal start events."""
    return tuple(
        sorted(
            {
                s.name
                for spec in process.spec.bpmn_start_events  # type: ignore[attr-defined]
                for s in _signal_definitions(getattr(spec, "event_definition", None))
            }
        )
    )


def _caught(workflow: Any, name: str) -> list[Any]:
    """Return the tasks that have just caught the signal `name` (now READY)."""
    return [
        task
        for task in workflow.top_workflow.get_tasks(state=TaskState.READY)
        for signal in _signal_definitions(
            getattr(task.task_spec, "event_definition", None)
        )
        if event_name(signal, task) == name
    ]


def _catch(workflow: Any, name: str, definition: Any, payload: Any) -> None:
    """Throw the signal `name` at the workflow's catchers (`definition`: the
    first one's, which says whether its payload goes into a variable)."""
    variable = getattr(definition, "variable", None)
    if variable is not None or isinstance(payload, dict):
        note_written(workflow, [variable] if variable is not None else payload)
    event = BpmnEvent(MappedSignalEventDefinition(name), payload=copy.deepcopy(payload))
    workflow.top_workflow.event_manager.catch(event, internal=False)
    if getattr(definition, "variable", None) is None and isinstance(payload, dict):
        for task in _caught(workflow, name):
            task.data.update(copy.deepcopy(payload))


def workflow_deliver_signal(
    process: CompiledProcess, state: dict, *, name: str, payload: Any
) -> AdvanceOutcome:
    """Catch the signal `name` in a stored case and run it on.

    Raises:
        SignalNotCaught: nothing in the case waits for the signal.
        StateCorrupt: when the stored state cannot be loaded.
    """
    from .runtime import run_command  # the runtime imports this module

    workflow = state_load(state, process)
    catchers = _catchers(workflow, name) + _event_subprocess_starts(workflow, name)
    if not catchers:
        raise SignalNotCaught(f"The case is not waiting for the signal '{name}'.")
    _catch(workflow, name, catchers[0][1], json_safe(payload))
    return run_command(workflow, process, lambda steps: None)


def workflow_start_by_signal(
    process: CompiledProcess, *, name: str, payload: Any
) -> AdvanceOutcome:
    """Create a workflow whose signal start event catches `name`, and run it.

    Raises:
        SignalNotCaught: the process has no signal start event for `name`.
    """
    from .runtime import run_command  # the runtime imports this module

    workflow = new_workflow(process)
    workflow.task_tree.data.update(no_initiator(process))
    starts = process.spec.bpmn_start_events  # type: ignore[attr-defined]
    definitions = [
        s
        for spec in starts
        for s in _signal_definitions(getattr(spec, "event_definition", None))
        if s.name == name
    ]
    if definitions and definitions[0].variable is None and isinstance(payload, Mapping):
        # The case's variables from the start (Camunda 7 sets them before the
        # scope starts): an event sub-process resolves its name with them.
        workflow.task_tree.data.update(json_safe(dict(payload)))
    hold_timer_starts(workflow, process)  # the signal starts this case
    hold_none_starts(workflow, process)
    run_engine(workflow, lambda task: None, prune=False)
    catchers = [(t, s) for t, s in _catchers(workflow, name) if t.task_spec in starts]
    if not catchers:
        raise SignalNotCaught(f"'{process.key}' has no start event for '{name}'.")
    _catch(workflow, name, catchers[0][1], json_safe(payload))
    return run_command(workflow, process, lambda steps: None)


_WAITS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _waiting_kind(definition: Any) -> bool:
    if isinstance(
        definition, SignalEventDefinition | MessageEventDefinition | ExecutionSignal
    ):
        return True
    return isinstance(definition, MultipleEventDefinition) and any(
        _waiting_kind(child) for child in definition.event_definitions
    )


def process_waits_for_events(process: CompiledProcess) -> bool:
    """Return whether a case of this process can ever wait for a message or signal
    (or at a receive task without a message, for a signal to its execution).

    False when no element of the process (nor of its sub-processes and called
    processes) has a message or signal event definition, throwing or catching:
    such a case never has a subscription, so the engine need not look for one.
    Computed once per parsed spec. The processes of other files its calls run
    are not in it (resolved when a call starts: called.py), and
    `AdvanceOutcome.called_may_wait` says whether those of a step may.
    """
    known = _WAITS.get(process.spec)
    if known is None:
        specs = [process.spec, *dict(process.subprocess_specs or {}).values()]  # type: ignore[call-overload]
        known = any(
            _waiting_kind(getattr(task_spec, "event_definition", None))
            for spec in specs
            for task_spec in spec.task_specs.values()
        )
        _WAITS[process.spec] = known
    return known
