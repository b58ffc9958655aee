"""Message and signal names that hold an expression, resolved as Camunda 7 does.

Camunda 7 reads a `bpmn:message` or `bpmn:signal` name as a JUEL expression
(EventSubscriptionDeclaration): a catching element (intermediate catch event,
receive task, boundary event, event after an event-based gateway, an event
sub-process's start event) resolves it against its scope's variables when its
subscription is created, that is when the element or scope is reached, and
waits for that name for as long as the subscription lives; a later change of
the variables does not move it. A throw (signal throw or end event, message
throw or end event, send task) resolves it when it throws. A process's own
message or signal start event resolves it once, at deployment, with no
variables (StartProcessVariableScope): Laneway refuses those (support.py).

`order-${orderId}` is composite text: each `${...}` part is coerced to a
String (EL 2.1 §1.18.1: null is "", sandbox/el.py `_el_text_`); a name that
is one `${...}` alone must be a String (Camunda casts it). A part that cannot
be resolved (a missing variable, a value with no text form), or a resolved
name that is not a non-empty String, fails the element: an incident there,
as Camunda 7 fails the command.

The resolved names live in the waiting task's internal data, keyed by the
name as drawn, so they are saved and reloaded with the case; the engine's
subscriptions (MessageSubscription, SignalSubscription) hold them, so a
message or signal is correlated by its resolved name through their index.
Specs get these classes once per parse (`adapt`); specs are never serialized.
"""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (
    MultipleEventDefinition,
)
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from .event_name_checks import name_expression
from .juel import JuelError
from .reached_failures import fail_when_reached
from .signal_payloads import MappedSignalEventDefinition

NAMES_KEY = "laneway_event_names"  # task internal data: {name as drawn: resolved}
# What the engine's subscriptions and outboxes hold of a name (as Camunda 7's
# EVENT_NAME_ column): a longer one is an incident, never a failed write.
NAME_MAX_LENGTH = 255


def _kind(definition: Any) -> str:
    signal = isinstance(definition, MappedSignalEventDefinition)
    return "signal" if signal else "message"


def _why(definition: Any, why: str) -> str:
    return (
        f"The {_kind(definition)} name '{definition.name}' cannot be resolved: "
        f"{why} (Camunda 7 fails here too; set the variables and retry)"
    )


def _error(task: Any, message: str) -> WorkflowTaskException:
    error = WorkflowTaskException(message, task=task)
    error.error_type = "EventNameNotResolved"
    return error


def _resolved(definition: Any, task: Any) -> tuple[str, str]:
    """Return the name resolved for `task`, or "" and why it cannot be."""
    try:
        value = task.workflow.script_engine.evaluate(task, definition.name_expression)
    except SpiffWorkflowException as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        return "", f"{type(cause).__name__}: {cause}"
    if not isinstance(value, str):
        shown = "null" if value is None else f"{value!r} ({type(value).__name__})"
        return "", f"it is {shown}, not text"
    if not value:
        return "", "it is empty"
    if len(value) > NAME_MAX_LENGTH:
        return "", f"it is {len(value)} characters long, over {NAME_MAX_LENGTH}"
    return value, ""


def _thrown_name(definition: Any, task: Any) -> str:
    """Resolve a throw's name; fail its run (an incident there) when it cannot."""
    name, why = _resolved(definition, task)
    if why:
        raise _error(task, _why(definition, why))
    return name


def _kept(task: Any) -> dict[str, str]:
    """The names a re-armed event sub-process keeps for its start event
    (events._rearm puts them on the event sub-process's task)."""
    workflow = task.workflow
    if workflow.parent_task_id is None or not isinstance(task.task_spec, StartEvent):
        return {}
    try:
        owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    except TaskNotFoundException:
        return {}
    return dict(owner.internal_data.get(NAMES_KEY) or {})


def resolve(definition: Any, task: Any) -> bool:
    """Resolve the name of `definition` for `task` now, unless it already is;
    return whether it is.

    A catch resolves it while its predecessor completes, so a name it cannot
    resolve must not stop that completion (the predecessor's other paths would
    never start): the task is left in ERROR, not waiting, and the adapter
    reports it when the engine has run (reached_failures).
    """
    if getattr(definition, "name_expression", None) is None:
        return True
    names = task.internal_data.setdefault(NAMES_KEY, {})
    if definition.name in names:
        return True
    name = _kept(task).get(definition.name)
    why = ""
    if not name:
        name, why = _resolved(definition, task)
    if why:
        task.internal_data.pop(NAMES_KEY, None)  # a retry resolves them all again
        fail_when_reached(task, _error(task, _why(definition, why)))
        return False
    names[definition.name] = name
    return True


def names_migrated(task: Any) -> str:
    """Resolve again what a waiting task waits for after its case moved to
    another version, as Camunda 7's updateSubscription does; return why a
    name cannot be resolved ("" when every one is)."""
    task.internal_data.pop(NAMES_KEY, None)
    definition = getattr(task.task_spec, "event_definition", None)
    items = (
        definition.event_definitions
        if isinstance(definition, MultipleEventDefinition)
        else [definition]
    )
    for item in items:
        if getattr(item, "name_expression", None) is None:
            continue
        name, why = _resolved(item, task)
        if why:
            return _why(item, why)
        task.internal_data.setdefault(NAMES_KEY, {})[item.name] = name
    return ""


def event_name(definition: Any, task: Any = None) -> str:
    """Return the name `task` waits for (or threw) at `definition`: the name as
    drawn, or, for a name with an expression, the one resolved for the task."""
    if task is None or getattr(definition, "name_expression", None) is None:
        return str(definition.name)
    return str(
        (task.internal_data.get(NAMES_KEY) or {}).get(definition.name, definition.name)
    )


def keep_names(source: Any, target: Any) -> None:
    """Give a re-armed catch (`target`) the names `source` waited for: a
    non-interrupting event's subscription outlives each occurrence."""
    names = source.internal_data.get(NAMES_KEY)
    if names:
        target.internal_data[NAMES_KEY] = dict(names)


def _same_name(definition: Any, task: Any, event: Any) -> bool:
    return event_name(definition, task) == event.event_definition.name


class NamedMessageEventDefinition(MessageEventDefinition):
    """A message whose name holds an expression (`name_expression`)."""

    name_expression: str

    def catches(self, my_task: Any, event: Any) -> bool:
        if not isinstance(event.event_definition, MessageEventDefinition):
            return False
        plain = self._plain(event_name(self, my_task))
        return bool(plain.catches(my_task, event))

    def update_task(self, my_task: Any) -> None:
        if resolve(self, my_task):
            super().update_task(my_task)

    def update_internal_data(self, my_task: Any, event: Any) -> None:
        my_task.internal_data[event_name(self, my_task)] = event.payload

    def update_task_data(self, my_task: Any) -> None:
        if self.message_var is not None:
            payload = my_task.internal_data.pop(event_name(self, my_task), None)
            my_task.data[self.message_var] = payload

    def throw(self, my_task: Any) -> None:
        plain = self._plain(_thrown_name(self, my_task))
        plain.drawn_name = self.name  # sent_messages finds the sender by it
        plain.throw(my_task)

    def _plain(self, name: str) -> MessageEventDefinition:
        return MessageEventDefinition(
            name,
            self.correlation_properties,
            expression=self.expression,
            message_var=self.message_var,
            process_correlations=self.process_correlations,
        )


class NamedSignalEventDefinition(MappedSignalEventDefinition):
    """A signal whose name holds an expression (`name_expression`)."""

    name_expression: str

    def catches(self, my_task: Any, event: Any) -> bool:
        return isinstance(
            event.event_definition, MappedSignalEventDefinition
        ) and _same_name(self, my_task, event)

    def update_task(self, my_task: Any) -> None:
        if resolve(self, my_task):
            super().update_task(my_task)

    def throw(self, my_task: Any) -> None:
        plain = MappedSignalEventDefinition(
            _thrown_name(self, my_task), ins=self.ins, expression=self.expression
        )
        plain.throw(my_task)


class NamedMultipleEventDefinition(MultipleEventDefinition):
    """An event-based gateway's events, some named by an expression.

    Each resolves when the gateway is reached. A caught event is kept as the
    gateway's own definition (with what it carries), which is how SpiffWorkflow
    finds the path it takes (`EventBasedGateway._run_hook`).
    """

    def update_task(self, my_task: Any) -> None:
        if all(resolve(item, my_task) for item in self.event_definitions):
            super().update_task(my_task)

    def catch(self, my_task: Any, event: Any = None) -> None:
        for item in self.event_definitions:
            if item.catches(my_task, event):
                seen = event
                if getattr(item, "name_expression", None) is not None:
                    seen = BpmnEvent(item, copy.copy(event.payload), event.correlations)
                seen_events = my_task.internal_data.get("seen_events", []) + [seen]
                my_task._set_internal_data(seen_events=seen_events)


_NAMED = {
    MessageEventDefinition: NamedMessageEventDefinition,
    MappedSignalEventDefinition: NamedSignalEventDefinition,
}


def _adapt_definition(definition: Any) -> bool:
    named = _NAMED.get(type(definition))
    if named is None:
        return False
    try:
        expression = name_expression(definition.name or "")
    except JuelError:
        return False  # refused at upload (event_name_checks.py)
    if expression is None:
        return False
    definition.__class__ = named
    definition.name_expression = expression
    return True


def adapt(task_spec: Any) -> None:
    """Give the definitions named by an expression their classes (idempotent)."""
    definition = getattr(task_spec, "event_definition", None)
    if type(definition) is MultipleEventDefinition:
        if any([_adapt_definition(d) for d in definition.event_definitions]):
            definition.__class__ = NamedMultipleEventDefinition
    elif definition is not None:
        _adapt_definition(definition)
