"""Deliver a message to a case, or start a case with a message start event.

Routing a message to the right case is the engine's job (SpiffWorkflow has no
cross-instance routing); here the message is thrown at one workflow:

* The event is a `BpmnEvent` of SpiffWorkflow's *Spiff* `MessageEventDefinition`
  (the class must match the parser's, or nothing catches it).
* Payload: with `spiffworkflow:messageVariable` the payload lands in that
  variable (SpiffWorkflow). Without one (Camunda/Operaton diagrams),
  SpiffWorkflow's Spiff definition drops the payload, so it is merged into the
  catching task's data here, i.e. into the case variables.
* Correlation: for a message with SpiffWorkflow correlation properties
  (`correlationProperty` + `spiffworkflow:processVariableCorrelation`), each
  property's value is taken by name from `correlation`, else from `payload`;
  SpiffWorkflow rejects the message when a value differs from the one the case
  holds. The correlation values are also part of the payload, because
  SpiffWorkflow reads them from it with the retrieval expressions (SpiffArena).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .common import json_safe
from .compiled import CompiledProcess, no_initiator
from .conditional_events import note_written
from .errors import SpiffAdapterError
from .event_name_checks import name_fits
from .runtime import run_command
from .serialization import new_workflow, state_load
from .stepping import run_engine
from .timer_starts import hold_none_starts, hold_timer_starts
from .types import AdvanceOutcome, WaitingMessage
from .waiting import catcher_matches, waiting_catchers, waiting_messages

# What a catch can raise while evaluating a retrieval expression on the payload.
_CATCH_ERRORS = (SpiffWorkflowException, NameError, KeyError, TypeError, ValueError)


class MessageNotCaught(SpiffAdapterError):
    """No element of the workflow catches this message (or its correlation differs)."""


class MessageCatchersAmbiguous(SpiffAdapterError):
    """Several elements of the workflow wait for this message (not sent to all)."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__(f"{count} elements of the case wait for the message '{name}'.")
        self.count = count


def message_start_names(process: CompiledProcess) -> tuple[str, ...]:
    """Return the names of the process's message start events."""
    names = {
        spec.event_definition.name
        for spec in process.spec.bpmn_start_events  # type: ignore[attr-defined]
        if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
    }
    return tuple(sorted(names))


def message_catch_names(process: CompiledProcess) -> frozenset[str]:
    """Return the names of every message the process can catch or start with.

    Start events (of the process and of its event sub-processes), intermediate
    catch and boundary events and receive tasks, at any depth. A name with an
    expression is as drawn (`message_catches` matches it).
    """
    specs: Any = [process.spec, *(process.subprocess_specs or {}).values()]  # type: ignore[attr-defined]
    return frozenset(
        spec.event_definition.name
        for top in specs
        for spec in top.task_specs.values()
        if isinstance(spec, CatchingEvent)
        and isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
    )


def message_catches(process: CompiledProcess, name: str) -> bool:
    """Return whether the process can catch or start with the message `name`
    (a name drawn with an expression when it can resolve to it: name_fits;
    one drawn as expressions only, `${kind}`, claims none)."""
    return any(name_fits(drawn, name) for drawn in message_catch_names(process))


def workflow_waiting_messages(
    process: CompiledProcess, state: dict
) -> tuple[WaitingMessage, ...]:
    """Return the messages a stored case waits for (AdvanceOutcome has them too)."""
    return waiting_messages(state_load(state, process))


def _correlations(
    catchers: list[tuple[Any, Any]], values: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, message in catchers:
        for prop in message.correlation_properties:
            if prop.name in values:
                for key in prop.correlation_keys:
                    found.setdefault(key, {})[prop.name] = values[prop.name]
    return found


def _body(
    messages: list[Any], payload: Mapping[str, Any], correlation: Mapping[str, Any]
) -> dict[str, Any]:
    correlated = any(message.correlation_properties for message in messages)
    return {**correlation, **payload} if correlated else dict(payload)


def _send(
    workflow: Any,
    catchers: list[tuple[Any, Any]],
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
) -> None:
    body = _body([message for _, message in catchers], payload, correlation)
    variables = {m.message_var or "" for _, m in catchers} - {""}
    note_written(workflow, variables if variables else body)
    event = BpmnEvent(
        MessageEventDefinition(name),
        payload=body,
        correlations=_correlations(catchers, {**payload, **correlation}),
    )
    # SpiffWorkflow gives a message to every task waiting for it: the ones
    # the correlation did not select stay out of its reach meanwhile.
    manager = workflow.event_manager
    chosen = {task.id for task, _ in catchers}
    aside = {
        task.id: task
        for task, _ in waiting_catchers(workflow, name)
        if task.id not in chosen
    }
    for task_id in aside:
        manager.tasks.pop(task_id, None)
    try:
        workflow.send_event(event)
    except _CATCH_ERRORS as exc:
        raise MessageNotCaught(
            f"The case does not accept the message '{name}': {exc}"
        ) from None
    finally:
        for task_id, task in aside.items():
            if task.state == TaskState.WAITING:  # not cancelled by the catch
                manager.tasks[task_id] = task
    for task, message in catchers:
        if task.state == TaskState.READY and message.message_var is None:
            # SpiffWorkflow's Spiff definition keeps the payload only for a
            # messageVariable; without one, the variables are the case's.
            task.internal_data.pop(name, None)
            task.data.update(copy.deepcopy(body))


def workflow_deliver_message(
    process: CompiledProcess,
    state: dict,
    *,
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
    every: bool = False,
    business_key: str = "",
    case_business_key: str = "",
) -> AdvanceOutcome:
    """Throw the message `name` at a stored case and run the engine on.

    A message goes to one receiver: when several elements of the case wait for
    it (parallel branches, the instances of a multi-instance receive task),
    Camunda 7's correlate() refuses it; `every` gives it to all of them, as its
    correlateAll() (SpiffWorkflow would give one message to every waiting one).
    Only the elements whose process instance the correlation and
    `business_key` select wait for it (`catcher_matches`: a called process
    is an instance of its own, `case_business_key` is the case's).

    Raises:
        MessageNotCaught: nothing in the case waits for it, or SpiffWorkflow's
            correlation check rejects it.
        MessageCatchersAmbiguous: several elements wait for it and not `every`.
        StateCorrupt: when the stored state cannot be loaded.
    """
    workflow = state_load(state, process)
    catchers = [
        (task, message)
        for task, message in waiting_catchers(workflow, name)
        if catcher_matches(
            task,
            message,
            correlation=correlation,
            business_key=business_key,
            case_business_key=case_business_key,
        )
    ]
    if not catchers:
        raise MessageNotCaught(f"The case is not waiting for the message '{name}'.")
    if len(catchers) > 1 and not every:
        raise MessageCatchersAmbiguous(name, len(catchers))
    _send(workflow, catchers, name, json_safe(dict(payload)), dict(correlation))
    return run_command(workflow, process, lambda steps: None)


def workflow_start_by_message(
    process: CompiledProcess,
    *,
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
) -> AdvanceOutcome:
    """Create a workflow whose message start event catches `name`, and run it.

    Raises:
        MessageNotCaught: the process has no message start event for `name`.
    """
    workflow = new_workflow(process)
    workflow.task_tree.data.update(no_initiator(process))
    payload = json_safe(dict(payload))
    starts = [
        spec.event_definition
        for spec in process.spec.bpmn_start_events  # type: ignore[attr-defined]
        if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
        and spec.event_definition.name == name
    ]
    if starts and starts[0].message_var is None:
        # Its variables are the case's from the start (Camunda 7 sets them
        # before the scope starts), so an event sub-process that subscribes
        # when the process starts resolves its name with them.
        workflow.task_tree.data.update(_body(starts, payload, correlation))
    # The message starts this case: a timer start event of the process is the
    # schedule's (Camunda: start events are independent), never a wait here.
    hold_timer_starts(workflow, process)
    hold_none_starts(workflow, process)
    run_engine(workflow, lambda task: None, prune=False)
    catchers = [
        (task, message)
        for task, message in waiting_catchers(workflow, name)
        if task.task_spec in process.spec.bpmn_start_events  # type: ignore[attr-defined]
    ]
    if not catchers:
        raise MessageNotCaught(f"'{process.key}' has no start event for '{name}'.")
    _send(workflow, catchers, name, payload, dict(correlation))
    return run_command(workflow, process, lambda steps: None)
