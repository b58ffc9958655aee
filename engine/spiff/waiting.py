"""Which messages a workflow waits for, and which of its tasks would catch one.

Every catching task that is WAITING is registered with the top workflow's
`event_manager` (intermediate catch events, receive tasks, boundary events,
message start events, event-based gateways). `wf.waiting_events()` reports one
`PendingBpmnEvent` per such task, but an event-based gateway shows up there as
a nameless `MultipleEventDefinition`: its message definitions are read here
from the gateway's definition instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (
    MultipleEventDefinition,
)
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from .call_data import BUSINESS_KEY, INHERIT
from .common import json_safe, typed_equal
from .event_names import event_name
from .types import JsonObject, WaitingMessage
from .variables import instance_scope, variables_of


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


@dataclass(frozen=True, slots=True)
class Instance:
    """The process instance a catching task waits in, as Camunda 7 sees it.

    A called process runs inside the case here, but in Camunda 7 it is an
    instance of its own: its variables, and its business key (none unless
    its call activity's `camunda:in businessKey` gives one).
    """

    called: bool
    variables: JsonObject
    business_key: str | None = None
    inherits_key: bool = True


def catcher_instance(task: Any, *, top_variables: bool = True) -> Instance:
    """Return the process instance `task` waits in (its variables and key).

    Without `top_variables`, the case's own variables are not copied (the
    subscriptions read them from the case).
    """
    scope, owner = instance_scope(task.workflow)
    if owner is None:
        variables = json_safe(dict(variables_of(scope) or {})) if top_variables else {}
        return Instance(called=False, variables=variables)
    variables = json_safe(dict(variables_of(scope) or {}))
    while owner is not None:
        rule = getattr(owner.task_spec, "business_key", (INHERIT, ""))
        if rule is None:
            return Instance(True, variables, None, inherits_key=False)
        if rule[0] != INHERIT:
            key = scope.task_tree.internal_data.get(BUSINESS_KEY)
            return Instance(True, variables, key, inherits_key=False)
        scope, owner = instance_scope(owner.workflow)
    return Instance(True, variables)


def catcher_matches(
    task: Any,
    message: Any,
    *,
    correlation: Mapping[str, Any],
    business_key: str,
    case_business_key: str,
) -> bool:
    """Return whether the correlation and business key select this catcher.

    As Camunda 7's DefaultCorrelationHandler selects executions: every
    correlation key equals a variable of the catcher's process instance
    (processVariableValueEquals), and a business key is that instance's.
    A key naming one of the message's SpiffWorkflow correlation properties
    is SpiffWorkflow's to check when the message is thrown.
    """
    if not correlation and not business_key:
        return True
    instance = catcher_instance(task)
    if business_key:
        own = case_business_key if instance.inherits_key else instance.business_key
        if own != business_key:
            return False
    properties = {prop.name for prop in message.correlation_properties}
    return all(
        name in properties
        or (name in instance.variables and typed_equal(instance.variables[name], value))
        for name, value in json_safe(dict(correlation)).items()
    )


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
    seen: dict[tuple[Any, ...], WaitingMessage] = {}
    for task, message in waiting_catchers(workflow):
        if _process_start(task):
            continue
        bpmn_id = task.task_spec.bpmn_id or ""
        name = event_name(message, task)
        instance = catcher_instance(task, top_variables=False)
        # The runs of a called process (a multi-instance call) each wait.
        run = (
            (json.dumps(instance.variables, sort_keys=True), instance.business_key)
            if instance.called
            else ("", None)
        )
        seen.setdefault(
            (name, bpmn_id, *run),
            WaitingMessage(
                name=name,
                bpmn_id=bpmn_id,
                correlation=known_correlation(workflow, message),
                called=instance.called,
                variables=instance.variables if instance.called else {},
                business_key=instance.business_key,
                inherits_key=instance.inherits_key,
            ),
        )
    return tuple(seen[key] for key in sorted(seen, key=str))
