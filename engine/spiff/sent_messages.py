"""Messages a case sends to other cases (send tasks, message throw events).

SpiffWorkflow delivers a thrown message inside its own workflow when an
element there catches it, and otherwise keeps the event in the workflow's
`bpmn_events`, where nobody would ever look. The adapter takes those events
out at the end of every command (so they are neither stored nor sent twice)
and reports the messages among them; the engine delivers them to other cases
after the sending case commits. Events of other kinds left there (a signal
nothing in the case caught) are dropped: signals are broadcast from the steps.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition,
)

from .types import JsonObject, SentMessage


def _json(value: Any) -> JsonObject:
    loaded = json.loads(json.dumps(value or {}, default=str))
    return loaded if isinstance(loaded, dict) else {"payload": loaded}


def _flat(correlations: Any) -> JsonObject:
    values: JsonObject = {}
    for props in (correlations or {}).values():
        values.update(_json(props))
    return values


def sent_messages(workflow: Any) -> tuple[SentMessage, ...]:
    """Take the events nothing in the workflow caught; return the messages."""
    return tuple(
        SentMessage(
            name=event.event_definition.name,
            payload=_json(event.payload),
            correlation=_flat(event.correlations),
        )
        for event in workflow.top_workflow.get_events()
        if isinstance(event.event_definition, MessageEventDefinition)
    )
