"""Messages a case sends to other cases (send tasks, message throw events).

SpiffWorkflow delivers a thrown message inside its own workflow when an
element there catches it, and otherwise keeps the event in the workflow's
`bpmn_events`, where nobody would ever look. The adapter takes those events
out at the end of every command (so they are neither stored nor sent twice)
and reports the messages among them; the engine delivers them to other cases
after the sending case commits, each with the outside parties the diagram's
message flows send it to (message_flows.py). Events of other kinds left there (a signal
nothing in the case caught) are dropped: signals are broadcast from the steps.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent

from .called import workflow_processes
from .compiled import CompiledProcess
from .types import JsonObject, SentMessage, StepRecord


def _json(value: Any) -> JsonObject:
    loaded = json.loads(json.dumps(value or {}, default=str))
    return loaded if isinstance(loaded, dict) else {"payload": loaded}


def _flat(correlations: Any) -> JsonObject:
    values: JsonObject = {}
    for props in (correlations or {}).values():
        values.update(_json(props))
    return values


def _senders(processes: list[CompiledProcess], steps: list[StepRecord]) -> list[tuple]:
    """Return (message name, step) for the steps of message throwers, in order."""
    specs: Any = [
        spec
        for process in processes
        for spec in (process.spec, *(process.subprocess_specs or {}).values())  # type: ignore[attr-defined]
    ]
    names = {
        spec.bpmn_id: spec.event_definition.name
        for top in specs
        for spec in top.task_specs.values()
        if isinstance(spec, ThrowingEvent)
        and isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
    }
    return [(names[s.bpmn_id], s) for s in steps if s.bpmn_id in names]


def sent_messages(
    workflow: Any, process: CompiledProcess, steps: list[StepRecord]
) -> tuple[SentMessage, ...]:
    """Take the events nothing in the workflow caught; return the messages.

    Each message names the element that sent it: the first step of this
    advance that threw a message of that name and is not yet matched.
    """
    sent: list[SentMessage] = []
    senders = None  # most advances send nothing: the specs are not scanned then
    outside: dict[str, str] = {}
    for event in workflow.top_workflow.get_events():
        if not isinstance(event.event_definition, MessageEventDefinition):
            continue
        if senders is None:
            processes = workflow_processes(workflow)
            senders = _senders(processes, steps)
            for each in reversed(processes):  # the case's own process wins
                outside.update(each.outside_senders)
        name = event.event_definition.name
        # A name with an expression was sent as resolved (event_names.py).
        drawn = getattr(event.event_definition, "drawn_name", name)
        step = next((s for n, s in senders if n == drawn), None)
        if step is not None:
            senders.remove((drawn, step))
        sent.append(
            SentMessage(
                name=name,
                payload=_json(event.payload),
                correlation=_flat(event.correlations),
                bpmn_id=step.bpmn_id if step else "",
                element_name=step.name if step else "",
                outside=outside.get(step.bpmn_id, "") if step else "",
            )
        )
    return tuple(sent)
