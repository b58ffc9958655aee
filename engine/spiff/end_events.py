"""Signal end events: SpiffWorkflow parses them as none end events (nothing thrown).

A signal end event is a throw event (BPMN 2.0 §10.5.6): the parser override
here gives it its signal definition, so it throws like an intermediate throw
event, and the engine broadcasts it (`signals.thrown_signals`).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.spiff.parser.event_parsers import SpiffEndEventParser

from .error_variables import error_message


class SignalEndEventParser(SpiffEndEventParser):
    """Parse signal end events as such (SpiffWorkflow makes them none end events)."""

    def create_task(self) -> Any:
        """Return the end event spec, with its signal (or other) definition."""
        definition = self.get_event_definition(
            [
                MESSAGE_EVENT_XPATH,
                CANCEL_EVENT_XPATH,
                ERROR_EVENT_XPATH,
                ESCALATION_EVENT_XPATH,
                TERMINATION_EVENT_XPATH,
                SIGNAL_EVENT_XPATH,
            ]
        )
        if getattr(definition, "code", None) is not None:
            definition.error_message = error_message(self.node)
        task = self._create_task(definition)
        task.connect(self.spec.end)
        return task


OVERRIDE_END_EVENTS = {full_tag("endEvent"): (SignalEndEventParser, EndEvent)}
