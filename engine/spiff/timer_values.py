"""A timer whose expression yields no ISO 8601 value stops at a readable incident.

Camunda 7 (Reference, Timer Events, "Expressions") evaluates a `${...}` timer
when the timer is created; a value that is not an ISO 8601 date, duration or
cycle (a number, `"5"`, null) fails that step. SpiffWorkflow's parsers leak
plain exceptions there: `Exception("Invalid duration")`, which no caller
expects (it escaped the adapter: a server error when the case started), or
`'int' object has no attribute 'lower'` as the incident text.

The parsers are wrapped so every unreadable value raises `TimerValueInvalid`
(a ValueError, which the adapter turns into an incident of the case), saying
what was expected and what came. Literal timers are checked at upload; these
are the values only known when the case runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


class TimerValueInvalid(ValueError):
    """A timer's value cannot be read as the ISO 8601 value its kind needs."""


def _shown(value: Any) -> str:
    return (
        repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    )


def _guarded(
    plain: Callable[[Any], Any], what: str, example: str
) -> Callable[[Any], Any]:
    def read(expression: Any) -> Any:
        if isinstance(expression, str):
            try:
                return plain(expression)
            except TimerValueInvalid:
                raise
            except Exception:  # noqa: BLE001, S110 - SpiffWorkflow raises several kinds
                pass  # raised below, without SpiffWorkflow's bare "Invalid duration"
        raise TimerValueInvalid(
            f"The timer's value {_shown(expression)} is not an ISO 8601 {what}"
            f" (such as {example})."
        )

    return read


TimerEventDefinition.parse_iso_duration = staticmethod(
    _guarded(TimerEventDefinition.parse_iso_duration, "duration", "PT1H or P2D")
)
TimerEventDefinition.get_datetime = staticmethod(
    _guarded(TimerEventDefinition.get_datetime, "date-time", "2030-01-01T09:00:00Z")
)
TimerEventDefinition.parse_iso_recurring_interval = staticmethod(
    _guarded(
        TimerEventDefinition.parse_iso_recurring_interval,
        "cycle",
        "R3/PT1H or R/2030-01-01T09:00:00Z/P1D",
    )
)
