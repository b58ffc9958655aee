"""Which messages a workflow waits for, and which of its tasks would catch one.

Every catching task that is WAITING is registered with the top workflow's
`event_manager` (intermediate catch events, receive tasks, boundary events,
message start events, event-based gateways). `wf.waiting_events()` reports one
`PendingBpmnEvent` per such task, but an event-based gateway shows up there as
a nameless `MultipleEventDefinition`: its message definitions are read here
from the gateway's definition instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (
    MultipleEventDefinition,
)
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from .common import json_safe
from .event_names import event_name
from .types import JsonObject, WaitingMessage


def _message_definitions(definition: Any) -> Iterator[Any]:
    if isinstance(definition, MessageEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for child in definition.event_definitions:
            yield from _message_definitions(child)


def waiting_catchers(workflow: Any, name: str | None = None) -> list[tuple[Any, Any]]:
    """Return (task, message definition) for every WAITING task catching a message.

    With `name`, only catchers of that message name (a name with an
    expression: the one resolved when the task began to wait, event_names.py).
    """
    found = []
    for task in list(workflow.top_workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        for message in _message_definitions(definition):
            if name is None or event_name(message, task) == name:
                found.append((task, message))
    return found


def known_correlation(workflow: Any, message: Any) -> JsonObject:
    """Return the correlation properties of `message` the workflow already holds."""
    wanted = {prop.name for prop in message.correlation_properties}
    values: JsonObject = {}
    for props in workflow.top_workflow.correlations.values():
        for prop, value in props.items():
            if prop in wanted:
                values[prop] = json_safe(value)
    return values


def _process_start(task: Any) -> bool:
    workflow = task.workflow
    return workflow is workflow.top_workflow and task.task_spec in getattr(
        workflow.spec, "bpmn_start_events", ()
    )


def waiting_messages(workflow: Any) -> tuple[WaitingMessage, ...]:
    """Return the messages the workflow waits for, one per catching element.

    A message start event of the process itself is not a subscription: its
    message starts a new case (services_messages), never feeds a running one.
    """
    seen: dict[tuple[str, str], WaitingMessage] = {}
    for task, message in waiting_catchers(workflow):
        if _process_start(task):
            continue
        bpmn_id = task.task_spec.bpmn_id or ""
        name = event_name(message, task)
        seen.setdefault(
            (name, bpmn_id),
            WaitingMessage(
                name=name,
                bpmn_id=bpmn_id,
                correlation=known_correlation(workflow, message),
            ),
        )
    return tuple(sorted(seen.values(), key=lambda m: (m.name, m.bpmn_id)))
