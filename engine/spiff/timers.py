"""When a case's next timer is due, and firing due timers.

SpiffWorkflow keeps a waiting timer's due moment in the task's internal data
(`event_value`: an ISO string, or for cycles a dict with `next`), computed from the
wall clock when the timer starts waiting. The earliest one is returned as a UTC
ISO-8601 string for the engine's indexed `Case.next_timer_at`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


def _is_timer(task: Any) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        return True
    return isinstance(definition, MultipleEventDefinition) and any(
        isinstance(d, TimerEventDefinition) for d in definition.event_definitions
    )


def _moment(value: Any) -> datetime | None:
    if isinstance(value, dict):
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        moment = TimerEventDefinition.get_datetime(value)
    except (ValueError, TypeError):
        try:
            moment = TimerEventDefinition.parse_time_or_duration(value)
        except Exception:  # noqa: BLE001 - an unparseable value has no due moment
            return None
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def next_due(workflow: Any) -> str | None:
    """Return the earliest due moment of the workflow's waiting timers (UTC ISO)."""
    dues = [
        moment
        for task in workflow.top_workflow.event_manager.tasks.values()
        if _is_timer(task)
        and (moment := _moment(task.internal_data.get("event_value"))) is not None
    ]
    return min(dues).astimezone(UTC).isoformat() if dues else None
