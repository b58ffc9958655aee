"""Conditional events as Camunda 7 evaluates them.

Where they run: an intermediate catch event, a boundary event (interrupting or
not) and the start event of an event sub-process (interrupting or not); the
upload refuses them elsewhere (support.py).

When the condition is evaluated (Camunda 7's "Trigger Conditional Events"):

* **On scope instantiation**: when the event starts waiting (the catch is
  reached, the activity of a boundary event entered, the scope of an event
  sub-process started), without any variable filter; a true condition fires
  at once (`has_fired`, called by SpiffWorkflow when it arms the event).
* **On every variable event** afterwards: a variable of the event's scope
  created, updated or deleted (`changes`, between the variables the
  event saw last and those of now). `camunda:variableName` keeps only the
  events of that variable, `camunda:variableEvents` (a comma list of create,
  update, delete) only those kinds (ConditionalEventDefinition
  .shouldEvaluateForVariableEvent); each event left evaluates the condition.
  An intermediate catch or an interrupting event fires once; a
  non-interrupting boundary or event sub-process start fires once per event
  whose evaluation holds and stays armed (BoundaryConditionalEventTest,
  EventSubProcessStartConditionalEventTest.testNonInterruptingSetMultipleVariables:
  two variables set, two instances). A re-armed event is not evaluated when
  armed again (its subscription stays in Camunda 7).

The variable events are taken after each task the engine runs and after
each command (a task completed, a message or signal with variables, a
service result, the variables set in the cockpit, a resume), as the
difference of values, plus the variables a user task's completion, a service
result or the cockpit's edit wrote with the value they had (`note_written`).
An output mapping, a message's or signal's variables are written the same way
(an update even with the value the variable had, as Camunda 7's setVariable).
Departure, stated in docs/bpmn-coverage.md: a script (and a listener) that
sets a variable to the value it had is no event here, and a variable a script
changes twice is one event (Camunda 7 dispatches one update per setVariable).

A JUEL condition naming a variable that does not exist (or a property of a
value that has none) is false, as UelExpressionCondition.tryEvaluate reads a
PropertyNotFoundException; any other failure (a value that is not a Boolean)
is raised: an incident. A condition translated from JUEL is marked by its
`_el_condition_` wrapper (`juel.is_checked_condition`); a Python (SpiffArena)
condition turns every failure into an incident.

The specs are cached per version and never serialized with a case, so the
definition's class and filters are set once per parse (`adapt`, the parser
mixin); what an armed event saw (`SEEN`) and the firings it still owes
(`PENDING`) are in its task's internal data, serialized with the case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition,
)

from .juel import is_checked_condition
from .sandbox.el import PropertyNotFound
from .xml import vendor_attr

CREATE, UPDATE, DELETE = "create", "update", "delete"
VARIABLE_EVENTS = frozenset({CREATE, UPDATE, DELETE})
SEEN = "laneway_condition_seen"
# A process's conditional start event fires only when the condition
# evaluation (conditional_starts.py) starts its case by it.
START_FIRED = "laneway_condition_start"
PENDING = "laneway_condition_pending"
CARRY = "laneway_condition_carry"
_WRITTEN = "_laneway_written"


class LanewayConditionalEventDefinition(ConditionalEventDefinition):
    """A conditional event evaluated on scope instantiation and variable events."""

    tolerant = False  # a JUEL condition: an unresolvable name is false
    variable_name = ""
    variable_events: frozenset[str] = frozenset()
    process_start = False  # the start event of a process (not a sub-process)

    def has_fired(self, my_task: Any) -> bool:
        """Evaluate the condition when the event is armed, never again here.

        SpiffWorkflow calls this whenever it updates the waiting task; after
        the first time only `firings_owed` evaluates it, on variable events.
        A process's conditional start event is never evaluated in a case: it
        fires only when the condition evaluation starts the case by it (a
        case started otherwise, or called, does not start there).
        """
        if self.process_start:
            return bool(my_task._get_internal_data(START_FIRED, False))
        if my_task._get_internal_data(SEEN) is not None:
            return bool(my_task._get_internal_data("has_fired", False))
        carried = _carried(my_task)
        my_task.internal_data.pop(CARRY, None)
        my_task._set_internal_data(**{SEEN: digests(my_task.data)})
        if carried is not None:  # re-armed after a non-interrupting firing
            my_task._set_internal_data(**{PENDING: carried})
            return False
        return self.evaluate(my_task)

    def evaluate(self, my_task: Any) -> bool:
        """Evaluate the condition on the task's data (tryEvaluate for JUEL)."""
        try:
            return bool(super().has_fired(my_task))
        except WorkflowTaskException as exc:
            cause = exc.__cause__ or exc.__context__
            if not (self.tolerant and isinstance(cause, NameError | PropertyNotFound)):
                raise
        my_task._set_internal_data(has_fired=False)
        return False

    def passes(self, name: str, kind: str) -> bool:
        """Return whether a variable event is one this event listens to."""
        return (not self.variable_name or name == self.variable_name) and (
            not self.variable_events or kind in self.variable_events
        )


def _carried(my_task: Any) -> int | None:
    """Return what a re-armed event owes (None: armed for the first time).

    A re-armed boundary event holds it; the start event of a re-armed event
    sub-process finds it on the sub-process's task (it is created later).
    """
    carried = my_task._get_internal_data(CARRY)
    workflow = my_task.workflow
    if carried is not None or workflow.parent_task_id is None:
        return carried
    if not isinstance(my_task.task_spec, StartEvent):
        return None
    owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    carried = owner._get_internal_data(CARRY)
    owner.internal_data.pop(CARRY, None)
    return carried


class JuelConditionalEventDefinition(LanewayConditionalEventDefinition):
    """A conditional event whose unresolvable JUEL condition is false."""

    tolerant = True


def adapt(task_spec: Any) -> None:
    """Give a conditional event Laneway's definition class (idempotent)."""
    definition = getattr(task_spec, "event_definition", None)
    if not isinstance(definition, ConditionalEventDefinition):
        return
    juel = is_checked_condition(definition.expression or "")
    definition.__class__ = (
        JuelConditionalEventDefinition if juel else LanewayConditionalEventDefinition
    )


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def digests(data: Mapping[str, Any]) -> dict[str, str]:
    """Return a short digest of each variable's value (what an event saw)."""
    return {str(name): _digest(value) for name, value in data.items()}


def changes(
    seen: Mapping[str, str], now: Mapping[str, str]
) -> Iterator[tuple[str, str]]:
    """Yield (name, create | update | delete) from what was seen to what is now."""
    for name, digest in now.items():
        if name not in seen:
            yield name, CREATE
        elif seen[name] != digest:
            yield name, UPDATE
    for name in seen:
        if name not in now:
            yield name, DELETE


def note_written(workflow: Any, names: Iterable[str]) -> None:
    """Record the variables a command, or a task the engine runs, writes, for
    the conditional events waiting now: each write is a variable event in
    Camunda 7, its value changed or not (AbstractVariableScope.setVariableLocal
    invokes the update listeners whatever the value: a form submitted with an
    unchanged field, an output mapping or a message payload setting the value
    a variable had).

    Kept on the loaded workflow object only, added to what was recorded before
    it: the next `take_written` (the evaluation after the task or command)
    consumes it.
    """
    top = workflow.top_workflow
    waiting = frozenset(
        task.id
        for task in top.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, ConditionalEventDefinition)
    )
    noted = frozenset(names)
    if noted and waiting:
        earlier: list = getattr(top, _WRITTEN, None) or []
        setattr(top, _WRITTEN, [*earlier, (noted, waiting)])


def take_written(workflow: Any) -> dict[Any, frozenset[str]]:
    """Return and forget, per waiting event, the names `note_written` recorded
    while it waited."""
    top = workflow.top_workflow
    notes: list | None = getattr(top, _WRITTEN, None)
    setattr(top, _WRITTEN, None)
    written: dict[Any, frozenset[str]] = {}
    for names, waiting in notes or ():
        for task_id in waiting:
            written[task_id] = written.get(task_id, frozenset()) | names
    return written


def firings_owed(task: Any, written: frozenset[str] = frozenset()) -> int:
    """Return how often the waiting conditional event `task` fires now.

    What a re-armed event still owes, plus one per variable event since it
    last looked that passes its filters, when the condition holds; an event
    armed before variable events were tracked is evaluated once, as it was
    then. `written` are the variables the command wrote with the value they
    had (`note_written`): updates too. Its seen variables move on.
    """
    definition = task.task_spec.event_definition
    now = digests(task.data)
    seen = task._get_internal_data(SEEN)
    owed = int(task._get_internal_data(PENDING) or 0)
    task._set_internal_data(**{SEEN: now, PENDING: 0})
    if seen is None:
        return owed + int(definition.evaluate(task))
    found = list(changes(seen, now))
    changed = {name for name, _ in found}
    found += [
        (name, UPDATE)
        for name in sorted(written - changed)
        if name in seen and name in now
    ]
    events = [e for e in found if definition.passes(*e)]
    return owed + (len(events) if events and definition.evaluate(task) else 0)


def fire(task: Any, times: int, *, repeats: bool) -> None:
    """Fire `task` once and owe the rest to the event armed after it."""
    if repeats and times > 1:
        task._set_internal_data(**{PENDING: times - 1})
    task._ready()


def carry(fired: Any, armed: Any) -> None:
    """Hand what a fired non-interrupting event owes to its re-armed successor."""
    if not isinstance(fired.task_spec.event_definition, ConditionalEventDefinition):
        return
    armed._set_internal_data(**{CARRY: int(fired._get_internal_data(PENDING) or 0)})


def filters_of(definition: etree._Element) -> tuple[str, frozenset[str]]:
    """Return a conditionalEventDefinition's camunda:variableName and -Events."""
    name = vendor_attr(definition, "variableName")
    kinds = vendor_attr(definition, "variableEvents")
    return name, frozenset(k.strip() for k in kinds.split(",") if k.strip())


def conditional_filter_refusal(definition: etree._Element) -> str:
    """Return why a conditional event's variable filters cannot run ('' if fine)."""
    name, kinds = filters_of(definition)
    unknown = sorted(kinds - VARIABLE_EVENTS)
    if unknown:
        return (
            f"camunda:variableEvents names {', '.join(unknown)}: the variable "
            "events are create, update and delete, so the condition would "
            "never be evaluated on it"
        )
    if "${" in name or "#{" in name:
        return (
            "camunda:variableName is a variable's name, not an expression "
            "(Camunda 7 compares it as written)"
        )
    return ""


class ConditionalFilterParserMixin:
    """Give a conditional event definition its camunda:variableName/-Events."""

    def parse_conditional_event(self, event: Any) -> Any:
        definition = super().parse_conditional_event(event)  # type: ignore[misc]
        name, kinds = filters_of(event)
        definition.variable_name = name
        definition.variable_events = kinds
        start = event.getparent()
        definition.process_start = (
            etree.QName(start).localname == "startEvent"
            and etree.QName(start.getparent()).localname == "process"
        )
        return definition
