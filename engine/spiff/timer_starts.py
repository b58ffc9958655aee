"""Timer start events: when a deployed process starts a case by itself.

SpiffWorkflow has no notion of a process starting itself: a timer start event
is just a start event that waits, so a case started by hand would sit in it
like in a delay. Laneway owns the schedule instead (the engine's beat sweep
starts a case when a schedule is due) and the adapter provides:

* `timer_starts_in`: the timer start events of a process in the stored XML,
  with their kind: `date` (once, at that moment), `duration` (once, that long
  after deployment), `cycle` (`R[n]/[start/]duration`: n times one duration
  after deployment, or for ever without n; with a start, the start and n
  steps after it, from the first still ahead, `cycle_first`) and
  `cron` (Quartz, as Camunda writes it: `sec min hour day month weekday
  [year]`, evaluated in UTC; `cron_next` also schedules the crons of
  intermediate and boundary timers, timers.py);
* `timer_schedule_first` / `timer_schedule_next`: when a schedule is due;
* `workflow_start_by_timer`: a workflow whose timer start event has fired
  (every other start event cancelled), and `hold_timer_starts`, which keeps
  the timer start events of a case started another way from being evaluated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .common import json_safe
from .compiled import CompiledProcess, no_initiator
from .limits import check_timer_value
from .timer_values import TimerValueInvalid
from .types import AdvanceOutcome, Problem
from .xml import NSMAP, parse_xml

_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
_NEVER = {"cycles": -1, "next": "9999-12-31T00:00:00+00:00", "duration": 0.0}
_FIRED_ONCE = {"cycles": 1, "next": "2000-01-01T00:00:00+00:00", "duration": 0.0}
_MONTHS = tuple("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())
_DAYS = tuple("SUN MON TUE WED THU FRI SAT".split())
_CRON_SHAPE = re.compile(r"^\S+(\s+\S+){5,6}$")
_SEARCH_DAYS = 366 * 5


class TimerStartInvalid(ValueError):
    """A timer start value Laneway cannot schedule (message says why)."""


@dataclass(frozen=True, slots=True)
class TimerStart:
    """One timer start event of a process: its element, kind and literal value."""

    bpmn_id: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class TimerSchedule:
    """When a timer start is due next (None: never again) and cycles left."""

    next_at: datetime | None
    remaining: int | None


def is_cron(text: str) -> bool:
    """Return whether a timer text has the shape of a Quartz cron expression."""
    text = text.strip()
    # Not R... (an ISO cycle), nor a quoted literal (normalized already).
    return bool(_CRON_SHAPE.match(text)) and text[:1] not in ("R", "'", '"')


# Cron ------------------------------------------------------------------------


def _number(text: str, names: tuple[str, ...], offset: int) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + offset
    if not text.isdigit():
        raise TimerStartInvalid(f"{text!r} is not a number")
    return int(text)


def _field(
    text: str, low: int, high: int, names: tuple[str, ...] = ()
) -> frozenset[int]:
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit() or step < 1:
            raise TimerStartInvalid(f"bad step in {part!r}")
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, b = body.split("-", 1)
            first, last = _number(a, names, low), _number(b, names, low)
        else:
            first = _number(body, names, low)
            last = high if step_text else first
        if not low <= first <= last <= high:
            raise TimerStartInvalid(f"{part!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class _Cron:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: any day of the month
    months: frozenset[int]
    weekdays: frozenset[int] | None  # Quartz numbering: 1 = Sunday

    def day_matches(self, day: date) -> bool:
        quartz_weekday = (day.weekday() + 1) % 7 + 1
        return (
            day.month in self.months
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or quartz_weekday in self.weekdays)
        )


def _cron(text: str) -> _Cron:
    fields = text.split()
    if len(fields) not in (6, 7) or (len(fields) == 7 and fields[6] not in ("*", "?")):
        raise TimerStartInvalid(
            "a cron needs 6 fields (seconds minutes hours day-of-month month "
            "day-of-week); a year field must be '*'"
        )
    sec, minute, hour, day, month, weekday = fields[:6]
    if any(c in f for f in (day, weekday) for c in "LW#"):
        raise TimerStartInvalid("'L', 'W' and '#' are not supported")
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise TimerStartInvalid("one of day-of-month and day-of-week must be '?'")
    return _Cron(
        _field(sec, 0, 59),
        _field(minute, 0, 59),
        _field(hour, 0, 23),
        None if day in ("*", "?") else _field(day, 1, 31),
        _field(month, 1, 12, _MONTHS),
        None if weekday in ("*", "?") else _field(weekday, 1, 7, _DAYS),
    )


def _day_moments(cron: _Cron, day: date, after: datetime) -> Iterator[datetime]:
    """The cron's moments on `day`, from the minute of `after` on (a cron firing
    every second has 86,400 a day: the earlier hours and minutes are skipped)."""
    same_day = day == after.date()
    for hour in sorted(cron.hours):
        if same_day and hour < after.hour:
            continue
        for minute in sorted(cron.minutes):
            if same_day and (hour, minute) < (after.hour, after.minute):
                continue
            for second in sorted(cron.seconds):
                yield datetime(
                    day.year, day.month, day.day, hour, minute, second, tzinfo=UTC
                )


def cron_next(text: str, after: datetime) -> datetime | None:
    """Return the first moment after `after` that the cron matches (UTC)."""
    cron = _cron(text)
    start = after.astimezone(UTC)
    for offset in range(_SEARCH_DAYS):
        day = start.date() + timedelta(days=offset)
        if cron.day_matches(day):
            for moment in _day_moments(cron, day, start):
                if moment > start:
                    return moment
    return None


# ISO 8601 ----------------------------------------------------------------------


def _moment(text: str) -> datetime:
    try:
        return TimerEventDefinition.get_datetime(text)
    except ValueError:
        raise TimerStartInvalid(f"{text!r} is not an ISO 8601 date-time") from None


def _plus(text: str, start: datetime) -> datetime:
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises several kinds
        raise TimerStartInvalid(f"{text!r} is not an ISO 8601 duration") from None
    delta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    if delta <= timedelta(0):
        raise TimerStartInvalid(f"{text!r} is not a positive duration")
    return start + delta


def _cycle(text: str) -> tuple[int | None, datetime | None, str]:
    parts = text.split("/")
    count = parts[0][1:]
    if not parts[0].startswith("R") or (count and not count.isdigit()):
        raise TimerStartInvalid(f"{text!r} is not a cycle R[n]/[start/]duration")
    if len(parts) == 2:
        return (int(count) if count else None), None, parts[1]
    if len(parts) == 3 and not parts[1].startswith("P"):
        return (int(count) if count else None), _moment(parts[1]), parts[2]
    raise TimerStartInvalid(f"{text!r} is not a cycle R[n]/[start/]duration")


def cycle_occurrence(
    due: datetime,
    step: timedelta | Callable[[datetime], datetime],
    left: int | None,
    *,
    now: datetime,
) -> tuple[datetime | None, int | None]:
    """Return a cycle's first occurrence after `now`, from `due` on, and how many
    occurrences are left counting it (None: for ever); (None, 0) when all are past.

    Camunda 7's `DurationHelper.getDateAfterRepeat`: occurrences that passed
    (a start in the past, a sweep that was down) are skipped and counted, never
    fired in a burst. `step` is a fixed length, or one in calendar months or
    years (counted from each occurrence).
    """
    if due > now:
        return due, left
    if isinstance(step, timedelta):
        if step <= timedelta(0):
            return None, 0
        missed = (now - due) // step + 1
        if left is not None and missed >= left:
            return None, 0
        return due + missed * step, None if left is None else left - missed
    while due <= now:
        if left is not None:
            left -= 1
            if left <= 0:
                return None, 0
        due = step(due)
    return due, left


def cycle_first(
    start: datetime | None,
    step: timedelta | Callable[[datetime], datetime],
    count: int | None,
    *,
    now: datetime,
) -> tuple[datetime, int | None]:
    """Return when a cycle `R[count]/[start/]step` is first due, and how many left.

    As Camunda 7: with a start, the occurrences are the start and `count` steps
    after it (the start itself counts; `count` None: for ever); without one,
    the `count` steps after `now`. The first is the first occurrence after now.
    When every one has passed, the timer is due at once, once (Camunda's timer
    job without a due date).
    """
    if start is None:
        first = step(now) if callable(step) else now + step
        return first, count
    due, left = cycle_occurrence(
        start, step, None if count is None else count + 1, now=now
    )
    return (now, 1) if due is None else (due, left)


def _step(duration: str) -> timedelta | Callable[[datetime], datetime]:
    """Return an ISO duration's length, or how to add it when it counts months."""
    date_part = duration.upper().split("T")[0]
    if "Y" in date_part or "M" in date_part:
        return lambda moment: _plus(duration, moment)
    return _plus(duration, datetime(2000, 1, 1, tzinfo=UTC)) - datetime(
        2000, 1, 1, tzinfo=UTC
    )


def timer_schedule_first(start: TimerStart, *, now: datetime) -> TimerSchedule:
    """Return when a timer start is first due, counted from deployment (`now`).

    Raises:
        TimerStartInvalid: when the value cannot be scheduled.
    """
    if start.kind == "date":
        return TimerSchedule(_moment(start.value), 1)
    if start.kind == "duration":
        return TimerSchedule(_plus(start.value, now), 1)
    if start.kind == "cron":
        return TimerSchedule(cron_next(start.value, now), None)
    count, first, duration = _cycle(start.value)
    if count == 0:
        return TimerSchedule(None, 0)
    due, left = cycle_first(first, _step(duration), count, now=now)
    return TimerSchedule(due, left)


def timer_schedule_next(
    start: TimerStart, *, previous: datetime, remaining: int | None, now: datetime
) -> TimerSchedule:
    """Return the schedule after the start due at `previous` has fired.

    Missed repetitions (the sweep was down) are skipped and counted, not fired
    in a burst (`cycle_occurrence`).
    """
    left = None if remaining is None else remaining - 1
    if left == 0 or start.kind in ("date", "duration"):
        return TimerSchedule(None, 0)
    if start.kind == "cron":
        return TimerSchedule(cron_next(start.value, max(previous, now)), None)
    step = _step(_cycle(start.value)[2])
    following = step(previous) if callable(step) else previous + step
    due, left = cycle_occurrence(following, step, left, now=now)
    return TimerSchedule(due, left)


# Reading the diagram -----------------------------------------------------------


def _literal(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        value = ast.literal_eval(text)
        return value if isinstance(value, str) else text
    return text


def _timer_start(event: etree._Element) -> TimerStart | None:
    definition = event.find("bpmn:timerEventDefinition", NSMAP)
    if definition is None:
        return None
    for child in definition:
        kind = (
            _KINDS.get(etree.QName(child).localname)
            if isinstance(child.tag, str)
            else None
        )
        if kind is not None:
            value = _literal(child.text or "")
            if kind == "cycle" and is_cron(value):
                kind = "cron"
            return TimerStart(event.get("id", ""), kind, value)
    return TimerStart(event.get("id", ""), "date", "")


def timer_starts_in(xml: bytes, key: str) -> tuple[TimerStart, ...]:
    """Return the timer start events of process `key` in a stored diagram."""
    root = parse_xml(xml, what="BPMN")
    process = root.xpath("bpmn:process[@id=$key]", namespaces=NSMAP, key=key)
    if not process:
        return ()
    found = (_timer_start(e) for e in process[0].iterfind("bpmn:startEvent", NSMAP))
    return tuple(s for s in found if s is not None)


_CRON_EVENTS = ("intermediateCatchEvent", "boundaryEvent")


def _cron_problem(event: etree._Element, cycle: etree._Element, why: str) -> Problem:
    return Problem(
        f"The timer of '{event.get('id')}' ({_literal(cycle.text or '')!r}) {why}.",
        cycle.sourceline,
        event.get("id"),
    )


def _cron_elsewhere(root: etree._Element) -> Iterator[Problem]:
    """Crons on intermediate catch and boundary events must be readable (they run,
    timers.CycleTimer); elsewhere (an event sub-process's start) they are refused."""
    now = datetime.now(UTC)
    for cycle in root.iterfind(".//bpmn:timerEventDefinition/bpmn:timeCycle", NSMAP):
        event = cycle.getparent().getparent()
        value = _literal(cycle.text or "")
        if not is_cron(value):
            continue
        kind = etree.QName(event).localname
        top_start = kind == "startEvent" and (
            etree.QName(event.getparent()).localname == "process"
        )
        if top_start:
            continue  # checked with the other timer starts
        if kind not in _CRON_EVENTS:
            yield _cron_problem(
                event,
                cycle,
                "is a cron expression, which runs on timer start events, "
                "intermediate timer events and boundary timers only; use an ISO "
                "8601 cycle (R/PT1H)",
            )
            continue
        try:
            first = cron_next(value, now)
        except TimerStartInvalid as exc:
            yield _cron_problem(event, cycle, f"cannot be read as a cron: {exc}")
            continue
        if first is None:
            yield _cron_problem(
                event, cycle, "never matches a moment: it would never fire"
            )


CYCLE_WITH_END = (
    "is a cycle with an end (R[n]/duration/end or R[n]/start/end), which Laneway "
    "does not run: Camunda 7 counts such a cycle back from its end "
    "(DurationHelper.getDateAfterRepeat), SpiffWorkflow from end minus one step; "
    "write it as R[n]/start/duration or R[n]/duration"
)


def cycle_has_end(value: str) -> bool:
    """Whether an ISO 8601 cycle has an end: R[n]/duration/end or R[n]/start/end."""
    parts = value.strip().upper().split("/")
    return len(parts) == 3 and (
        parts[1].startswith("P") or not parts[2].startswith("P")
    )


def _cycle_end_elsewhere(root: etree._Element) -> Iterator[Problem]:
    """Refuse a literal cycle with an end on an intermediate, boundary or event
    sub-process timer (timer start events refuse it when scheduled)."""
    for cycle in root.iterfind(".//bpmn:timerEventDefinition/bpmn:timeCycle", NSMAP):
        event = cycle.getparent().getparent()
        text = (cycle.text or "").strip()
        top_start = etree.QName(event).localname == "startEvent" and (
            etree.QName(event.getparent()).localname == "process"
        )
        if top_start or not text or text[0] not in "'\"":
            continue  # a timer start event, or an expression (checked when it runs)
        value = _literal(text)
        if not is_cron(value) and cycle_has_end(value):
            yield _cron_problem(event, cycle, CYCLE_WITH_END)


def _unreadable(kind: str, value: str) -> str | None:
    """Why a literal timer value cannot be read as its kind (None: it can).

    As the timers read them when reached: a timeDuration is a period; a
    timeCycle a repeating interval (or a cron, checked elsewhere); a timeDate a
    date-time, or a period from now (timers.DueDateTimer).
    """
    try:
        check_timer_value(value)
    except ValueError:
        return None  # beyond the engine's bounds: limits.upload_problems says so
    if kind == "timeDuration":
        read: Callable[[str], Any] = TimerEventDefinition.parse_iso_duration
    elif kind == "timeCycle":
        read = TimerEventDefinition.parse_iso_recurring_interval
    elif value.upper().startswith("P"):
        read = TimerEventDefinition.parse_iso_duration
    else:
        read = TimerEventDefinition.get_datetime
    try:
        read(value)
    except TimerValueInvalid as exc:
        return str(exc)
    return None


def _unreadable_elsewhere(root: etree._Element) -> Iterator[Problem]:
    """Refuse a timer value written in the diagram that its kind cannot read
    (a timeDuration holding a date, a timeCycle holding a period, a timeDate
    holding a cycle): reaching the timer could only stop the case at an
    incident, where Camunda 7 fails it too. Expressions are read when the case
    runs; a process's timer start events are checked when scheduled."""
    for definition in root.iterfind(".//bpmn:timerEventDefinition", NSMAP):
        event = definition.getparent()
        top_start = etree.QName(event).localname == "startEvent" and (
            etree.QName(event.getparent()).localname == "process"
        )
        for child in definition:
            if top_start or not isinstance(child.tag, str):
                continue
            text = (child.text or "").strip()
            if not text or text[0] not in "'\"":
                continue  # an expression (normalize quotes a literal)
            value = _literal(text)
            kind = etree.QName(child).localname
            if kind == "timeCycle" and (is_cron(value) or cycle_has_end(value)):
                continue  # _cron_elsewhere, _cycle_end_elsewhere
            why = _unreadable(kind, value)
            if why is not None:
                yield Problem(
                    f"The timer of '{event.get('id')}' is refused ({kind}): {why} "
                    "Reaching it could only stop the case at an incident (Camunda "
                    "7 fails such a timer too).",
                    child.sourceline,
                    event.get("id"),
                )


def timer_start_problems(root: etree._Element) -> list[Problem]:
    """Return every timer start event whose value cannot be scheduled, located,
    and the cycles other timers cannot run."""
    problems = [
        *_cron_elsewhere(root),
        *_cycle_end_elsewhere(root),
        *_unreadable_elsewhere(root),
    ]
    now = datetime.now(UTC)
    for process in root.iterfind("bpmn:process", NSMAP):
        for event in process.iterfind("bpmn:startEvent", NSMAP):
            start = _timer_start(event)
            if start is None:
                continue
            try:
                timer_schedule_first(start, now=now)
            except TimerStartInvalid as exc:
                problems.append(
                    Problem(
                        f"The timer start event '{start.bpmn_id}' ({start.value!r}) "
                        f"cannot be scheduled: {exc}.",
                        event.sourceline,
                        start.bpmn_id,
                    )
                )
    return problems


# Running -------------------------------------------------------------------------


def _timer_start_specs(process: CompiledProcess) -> list[Any]:
    return [
        spec
        for spec in process.spec.bpmn_start_events  # type: ignore[attr-defined]
        if isinstance(getattr(spec, "event_definition", None), TimerEventDefinition)
    ]


def event_starts_only(process: CompiledProcess) -> tuple[str, ...]:
    """Return the kinds ("conditional", "message", "signal", "timer") when every
    start waits for one.

    Such a process cannot be started by hand: the case would idle at its start
    event, and a message start would swallow the next message meant to start a
    new case. Empty when some start event is a none start.
    """
    kinds = []
    for spec in process.spec.bpmn_start_events:  # type: ignore[attr-defined]
        definition = getattr(spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            kinds.append("timer")
        elif isinstance(definition, SignalEventDefinition):
            kinds.append("signal")
        elif isinstance(definition, MessageEventDefinition):
            kinds.append("message")
        elif isinstance(definition, ConditionalEventDefinition):
            kinds.append("conditional")
        else:
            return ()
    return tuple(sorted(set(kinds)))


def hold_timer_starts(workflow: Any, process: CompiledProcess) -> None:
    """Keep the timer start events of a new workflow from ever firing by themselves.

    Cases are started by the schedule (`workflow_start_by_timer`) or another
    start event, which then wins; a cycle (or cron) text is never evaluated.
    """
    names = {spec.name for spec in _timer_start_specs(process)}
    for task in workflow.get_tasks(state=TaskState.MAYBE | TaskState.FUTURE):
        if task.task_spec.name in names:
            if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
                task._set_internal_data(event_value=dict(_NEVER))
            else:
                task._set_internal_data(event_value=_NEVER["next"])


def hold_none_starts(workflow: Any, process: CompiledProcess) -> None:
    """Keep the none start events of a new workflow from running: an event starts it.

    BPMN 2.0.2 §10.4.2: the start events of a process are alternative triggers;
    SpiffWorkflow would run a none start event at once (and its start join
    would cancel the message or signal start that should start this case).
    """
    for _ in range(2):  # the workflow's start, then the split into start events
        for task in workflow.get_tasks(state=TaskState.READY):
            task.run()
    starts = process.spec.bpmn_start_events  # type: ignore[attr-defined]
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if task.task_spec in starts and not isinstance(
            getattr(task.task_spec, "event_definition", None),
            MessageEventDefinition | SignalEventDefinition | TimerEventDefinition,
        ):
            task.cancel()


def workflow_start_by_timer(
    process: CompiledProcess, *, bpmn_id: str, data: dict[str, Any]
) -> AdvanceOutcome:
    """Create a workflow started by its timer start event `bpmn_id`, and run it.

    Raises:
        TimerStartInvalid: the process has no timer start event `bpmn_id`.
    """
    from .runtime import run_command  # the runtime imports this module
    from .serialization import new_workflow  # it imports timers, which import this

    if bpmn_id not in {spec.name for spec in _timer_start_specs(process)}:
        raise TimerStartInvalid(f"'{process.key}' has no timer start event '{bpmn_id}'")
    workflow = new_workflow(process)
    workflow.task_tree.data.update({**no_initiator(process), **json_safe(data)})
    hold_timer_starts(workflow, process)
    for _ in range(2):  # the workflow's start, then the split into start events
        for task in workflow.get_tasks(state=TaskState.READY):
            task.run()
    starts = {spec.name for spec in process.spec.bpmn_start_events}  # type: ignore[attr-defined]
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if task.task_spec.name == bpmn_id:
            if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
                task._set_internal_data(event_value=dict(_FIRED_ONCE))
            else:
                task._set_internal_data(event_value=_FIRED_ONCE["next"])
        elif task.task_spec.name in starts:
            task.cancel()

    def fire(steps: list[Any]) -> None:
        workflow.refresh_timers()  # fires (a cycle: its one repetition)
        # A cycle: the second update finds no repetition left (event_fired), the
        # third sees it fired, so the start event completes instead of waiting.
        workflow.refresh_timers()
        workflow.refresh_timers()

    return run_command(workflow, process, fire)
