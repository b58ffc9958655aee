"""When a case's next timer is due, and what a timer cycle on an event means.

SpiffWorkflow keeps a waiting timer's due moment in the task's internal data
(`event_value`: an ISO string, or for cycles a dict with `next`), computed from the
wall clock when the timer starts waiting. The earliest one is returned as a UTC
ISO-8601 string for the engine's indexed `Case.next_timer_at`.

`OnceCycleTimer` / `RepeatingCycleTimer` replace SpiffWorkflow's cycle timer on
intermediate catch and boundary events (`adapt_cycle_timers`), as Camunda 7 runs
a `timeCycle` there:

* an intermediate catch event and an interrupting boundary event fire once, at
  the cycle's first occurrence (SpiffWorkflow ran the outgoing path once per
  repetition and never interrupted the activity);
* a non-interrupting boundary event fires at every occurrence while its
  activity is open; a missed occurrence (the sweep was down) is skipped, not
  fired in a burst;
* a cycle with a start (`R3/2030-01-01T09:00:00Z/PT1H`) has the start and
  the n steps after it as occurrences, and is first due at the first one
  still ahead: a start in the past does not fire at once, unless every
  occurrence has passed (then once, at once), as Camunda's
  `DurationHelper.getDateAfterRepeat` (timer_starts.cycle_first);
* the cycle is ISO 8601 (`R3/PT1H`) or a Quartz cron as Camunda Modeler writes
  it (`0 0 9 * * ?`, UTC), read by the timer start events' parser
  (`timer_starts.cron_next`).

`DueDateTimer` replaces SpiffWorkflow's timeDate on every event (also after
an event-based gateway): a value starting with P is a period from when the
timer starts waiting, as Camunda 7's due-date calendar reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState

from .common import CYCLE_HANDOVER
from .timer_starts import (
    CYCLE_WITH_END,
    cron_next,
    cycle_first,
    cycle_has_end,
    cycle_occurrence,
    is_cron,
)
from .timer_values import TimerValueInvalid


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


def _now() -> datetime:
    return datetime.now(UTC)


class _CycleValue:
    """The due moment of a cycle, ISO 8601 or cron, in SpiffWorkflow's dict form."""

    expression: str

    def _event_value(self, my_task: Any) -> dict[str, Any]:
        value = my_task._get_internal_data("event_value")
        if value is None:
            text = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(text, str) and is_cron(text):
                first = cron_next(text, _now())
                value = {
                    "cycles": -1 if first is not None else 0,
                    "next": first.isoformat() if first is not None else None,
                    "duration": 0.0,
                    "cron": text,
                }
            else:
                if isinstance(text, str) and cycle_has_end(text):
                    raise TimerValueInvalid(
                        f"The timer's value {text!r} {CYCLE_WITH_END}."
                    )
                cycles, start, duration = (
                    TimerEventDefinition.parse_iso_recurring_interval(text)
                )
                due, left = cycle_first(
                    start if len(text.split("/")) == 3 else None,  # R/start/step
                    duration,
                    None if cycles < 0 else cycles,
                    now=_now(),
                )
                value = {
                    "cycles": -1 if left is None else left,
                    "next": due.isoformat(),
                    "duration": duration.total_seconds(),
                }
            my_task._set_internal_data(event_value=value)
        return value

    @staticmethod
    def _due(value: dict[str, Any]) -> datetime | None:
        if value.get("cycles") == 0 or not value.get("next"):
            return None
        return datetime.fromisoformat(value["next"])


class OnceCycleTimer(_CycleValue, TimerEventDefinition):
    """A cycle on an intermediate catch or interrupting boundary event: it fires
    once, at the cycle's first occurrence."""

    def has_fired(self, my_task: Any) -> bool:
        due = self._due(self._event_value(my_task))
        if due is not None and due < _now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))

    def details(self, my_task: Any) -> Any:
        value = my_task._get_internal_data("event_value") or {}
        return PendingBpmnEvent(self.name, type(self).__name__, value.get("next"))


class RepeatingCycleTimer(_CycleValue, CycleTimerEventDefinition):
    """A cycle on a non-interrupting boundary event: it fires at every occurrence."""

    def cycle_complete(self, my_task: Any) -> bool:
        value = self._event_value(my_task)
        due = self._due(value)
        now = _now()
        if due is None or due >= now:
            return False
        # The next occurrence after now: missed ones are skipped, not fired.
        if "cron" in value:
            following = cron_next(value["cron"], max(due, now))
        else:
            step = timedelta(seconds=value["duration"])
            left = None if value["cycles"] < 0 else value["cycles"] - 1
            following, left = (
                cycle_occurrence(due + step, step, left, now=now)
                if left != 0
                else (None, 0)
            )
            value["cycles"] = -1 if left is None else left
        if following is None or value["cycles"] == 0:
            following, value["cycles"] = None, 0  # the last occurrence fired
        value["next"] = following.isoformat() if following is not None else None
        my_task._set_internal_data(event_value=value)
        return True

    def update_task(self, my_task: Any) -> None:
        """Start each occurrence's path from a fired copy beside the waiting event.

        SpiffWorkflow hangs the path under the waiting boundary task, so the
        activity ending (its boundary join cancels the waiting task) cancelled
        every path already started: a reminder task vanished and the case
        could complete. A non-interrupting boundary path lives on by itself
        (BPMN 2.0.2 \u00a710.5.4), as each message or signal occurrence's does
        (events.RepeatingBoundaryEvent).
        """
        if self.cycle_complete(my_task):
            occurrence_fired(my_task)


def occurrence_fired(waiting: Any) -> None:
    """Add a fired copy of the waiting boundary event to its split; it runs next."""
    fired = waiting.parent._add_child(waiting.task_spec, TaskState.MAYBE)
    fired._set_internal_data(event_fired=True)
    # Its path, which a cycle timer's event does not predict (event_types.py).
    fired._sync_children(waiting.task_spec.outputs, TaskState.MAYBE)
    fired.task_spec._update(fired)


class EventSubprocessCycleTimer(OnceCycleTimer):
    """A cycle on a non-interrupting event sub-process's start event.

    Each occurrence starts one instance of the event sub-process, which runs
    and ends like one a message starts, and arms the next instance with the
    cycle's following occurrence (`following`, handed over through the new
    event sub-process task: `CYCLE_HANDOVER`). The occurrences are those of
    the same cycle on a boundary event: the first still ahead, missed ones
    skipped, or once at once when all have passed (Camunda 7's
    DurationHelper.getDateAfterRepeat). SpiffWorkflow's own cycle counted from
    the start written in the cycle, so a start in the past fired at every sweep
    until it caught up (R/2020-01-01T00:00:00Z/PT1H: an instance every few
    seconds, for ever), and its instances hung under a start event that never
    ended, so its scope ended without waiting for them.
    """

    def _event_value(self, my_task: Any) -> dict[str, Any]:
        if my_task._get_internal_data("event_value") is None:
            workflow = my_task.workflow
            if workflow.parent_task_id is not None:
                esp = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
                handed = esp.internal_data.get(CYCLE_HANDOVER)
                if handed is not None:
                    my_task._set_internal_data(event_value=dict(handed))
        return super()._event_value(my_task)

    def following(self, my_task: Any) -> dict[str, Any] | None:
        """Return the cycle's value for the occurrence after the one that fired."""
        value = dict(self._event_value(my_task))
        due = self._due(value)
        if due is None:
            return None
        now = _now()
        if "cron" in value:
            nxt = cron_next(value["cron"], max(due, now))
            return None if nxt is None else {**value, "next": nxt.isoformat()}
        left = None if value["cycles"] < 0 else value["cycles"] - 1
        if left == 0:
            return None
        step = timedelta(seconds=value["duration"])
        nxt, left = cycle_occurrence(due + step, step, left, now=now)
        if nxt is None:
            return None
        return {
            "cycles": -1 if left is None else left,
            "next": nxt.isoformat(),
            "duration": value["duration"],
        }


class DueDateTimer(TimeDateEventDefinition):
    """A timeDate as Camunda 7 reads it: a date-time, or a duration from now.

    Camunda 7 resolves a timeDate with its DueDateBusinessCalendar: a value
    starting with P is a period added to the moment the timer is created
    (`<timeDate>P1D</timeDate>`, or `${...}` holding "P1D", waits a day),
    anything else an ISO 8601 date-time. SpiffWorkflow compared the parsed
    duration (a dict) with the clock: a TypeError as the incident. The due
    moment is computed once, when the timer starts waiting, and kept.
    """

    def has_fired(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(value, str) and value.strip().upper().startswith("P"):
                period = TimerEventDefinition.parse_iso_duration(value.strip())
                now = _now()
                due = now + TimerEventDefinition.get_timedelta_from_start(period, now)
                value = due.isoformat()
            my_task._set_internal_data(event_value=value)
        return bool(super().has_fired(my_task))


def adapt_cycle_timers(task_spec: Any, *, event_subprocess: bool = False) -> None:
    """Give a cycle timer on an intermediate catch or boundary event, or on the start
    event of an event sub-process (`event_subprocess`), Camunda's meaning.

    An interrupting event sub-process fires once, at the first occurrence, and
    interrupts its scope (Camunda 7: it is triggered once per activation of its
    scope); SpiffWorkflow started its path at every occurrence beside the main
    flow, never interrupting.
    """
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(task_spec, EventBasedGateway):
        # The gateway holds its events' definitions (SpiffWorkflow moves them
        # there); a cycle among them never fired, so the case waited for ever
        # for the other events. It is an intermediate timer: it fires once.
        for inner in getattr(definition, "event_definitions", ()):
            if type(inner) is CycleTimerEventDefinition:
                inner.__class__ = OnceCycleTimer
            elif type(inner) is TimeDateEventDefinition:
                inner.__class__ = DueDateTimer
        return
    if type(definition) is TimeDateEventDefinition:
        definition.__class__ = DueDateTimer
        return
    if type(definition) is not CycleTimerEventDefinition:
        return
    if isinstance(task_spec, BoundaryEvent) and not task_spec.cancel_activity:
        definition.__class__ = RepeatingCycleTimer
    elif isinstance(task_spec, IntermediateCatchEvent | BoundaryEvent):
        definition.__class__ = OnceCycleTimer
    elif event_subprocess and isinstance(task_spec, StartEvent):
        interrupting = getattr(task_spec, "interrupting", True)
        definition.__class__ = (
            OnceCycleTimer if interrupting else EventSubprocessCycleTimer
        )
