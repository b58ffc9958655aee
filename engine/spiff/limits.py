"""Denial of service outside the script engine: caps on timers and DMN tables.

SpiffWorkflow does work in host code, before or after any sandbox, that grows
with what a diagram says (research/sandbox/REPORT.md §5):

* `TimerEventDefinition.get_timedelta_from_start` loops once per *month* of a
  duration in Python: "P1000000Y" costs ~12 s, "P1000000000Y" hours.
* A cycle such as "R1000000/PT1S" re-arms a timer a million times; one
  repeating more than once a second ("R/PT0.1S") would keep a worker busy.
* `DMNEngine.evaluate` runs a quadratic regex over every cell on every
  evaluation (an 8 kB cell costs 3.5 s).

`upload_problems` refuses such literals at upload (located Problems);
`check_timer_value` refuses computed ones at run time (the task fails).

The run-time bounds the host chooses (tree depth, steps per advance, script
and expression budgets, script workers) are an `EngineLimits` value set with
`limits_configure()`; this package never reads the environment or settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from .sandbox.pool import PoolSettings, pool_configure
from .types import Problem

MAX_TIMER_SPAN = timedelta(days=3653)  # ten years
# A cycle repeats at most once a second (a cron's finest step too): each
# occurrence is woken at its moment (engine timer wakes), one advance apiece.
MIN_CYCLE_INTERVAL = timedelta(seconds=1)
MAX_CYCLE_REPETITIONS = 1000
MAX_DMN_CELL_CHARS = 512
MAX_DMN_CELL_PLACEHOLDERS = 16  # '?' characters: each costs a scan of the cell
MAX_DMN_RULES = 1000
MAX_INSTANCES = 1000  # multi-instance children (created all at once when parallel)
MAX_INSTANCE_DATA_BYTES = 256 * 2**20  # instances x case data: each gets its own copy
# BPMN elements with an id (tasks, events, gateways, flows, lanes, ...) in one file:
# checked first, so a file within the upload's byte limit cannot keep a worker
# busy for seconds nor hold hundreds of MB of specs (10,000 parallel tasks: 2.6 s
# of CPU and 117 MB; the largest diagram of the corpus has 349 such elements).
MAX_ELEMENTS = 5000

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?"
    r"(?:(\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?"
    r"(?:(\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$", re.IGNORECASE)
_DAYS_PER = (365.25, 30.5, 7, 1, 1 / 24, 1 / 1440, 1 / 86400)  # Y M W D H M S
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """The run-time bounds of this process (the defaults suit tests and tools)."""

    max_tree_depth: int = 400
    max_tasks_per_advance: int = 5000
    # Parallel multi-instance tasks created in one advance, all activities together
    # (each collection is also capped at MAX_INSTANCES).
    max_instances_per_advance: int = 2 * MAX_INSTANCES
    expression_time_limit_ms: int = 250
    script_time_limit_ms: int = 1000
    script_workers: int = 2
    script_memory_mb: int = 256
    script_user: str = "nobody"  # script workers started as root drop to it

    def pool_settings(self) -> PoolSettings:
        """Return the script pool's settings for these limits."""
        wall_s = self.script_time_limit_ms / 1000
        return PoolSettings(
            size=max(1, self.script_workers),
            mem_mb=self.script_memory_mb,
            cpu_s=max(1, int(wall_s + 1)),
            wall_s=wall_s,
            run_as=self.script_user,
        )


_limits = EngineLimits()


def limits_configure(limits: EngineLimits) -> None:
    """Make `limits` the bounds of every later run in this process."""
    global _limits
    _limits = limits
    pool_configure(limits.pool_settings())


def limits_get() -> EngineLimits:
    """Return the bounds set by `limits_configure` (the defaults until then)."""
    return _limits


class TimerOutOfBounds(ValueError):  # noqa: N818
    """A timer duration, date or cycle is beyond the engine's bounds."""


class InstanceCountOutOfBounds(ValueError):  # noqa: N818
    """A multi-instance activity asks for more instances than the engine allows."""


def _duration(text: str) -> timedelta | None:
    match = _DURATION.match(text.strip())
    if match is None:
        return None
    days = 0.0
    for value, per in zip(match.groups(), _DAYS_PER, strict=True):
        if value:
            days += float(value.replace(",", ".")) * per
            if days > MAX_TIMER_SPAN.days + 1:  # stop before float overflow
                return timedelta(days=MAX_TIMER_SPAN.days + 1)
    return timedelta(days=days)


def _check_duration(text: str) -> None:
    span = _duration(text)
    if span is not None and span > MAX_TIMER_SPAN:
        raise TimerOutOfBounds(f"timer duration {text!r} is longer than ten years")


def _check_cycle(text: str) -> bool:
    match = _CYCLE.match(text.strip())
    if match is None:
        return False
    count, parts = match.group(1), match.group(2).split("/")
    if count and int(count[:12]) > MAX_CYCLE_REPETITIONS:
        raise TimerOutOfBounds(
            f"timer cycle {text!r} repeats more than {MAX_CYCLE_REPETITIONS} times"
        )
    for part in parts:
        span = _duration(part)
        if span is None:
            continue
        if span > MAX_TIMER_SPAN:
            raise TimerOutOfBounds(
                f"timer cycle {text!r} has an interval over ten years"
            )
        if span < MIN_CYCLE_INTERVAL:
            raise TimerOutOfBounds(
                f"timer cycle {text!r} repeats more than once a second"
            )
    return True


def _check_date(text: str, now: datetime) -> None:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if abs(when - now) > MAX_TIMER_SPAN:
        raise TimerOutOfBounds(f"timer date {text!r} is more than ten years away")


def check_timer_value(value: str) -> None:
    """Refuse a duration or cycle string beyond the bounds (cheap for other text).

    Raises:
        TimerOutOfBounds: with a message for the case page.
    """
    if len(value) > 100 or not value[:1] or value[:1] not in "PpRr":
        return
    if not _check_cycle(value):
        _check_duration(value)


def _literal(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _timer_problems(root: etree._Element) -> Iterable[Problem]:
    now = datetime.now(UTC)
    for timer in root.iter(f"{{{_BPMN}}}timerEventDefinition"):
        for child in timer:
            if not isinstance(child.tag, str):
                continue
            value = _literal(child.text or "")
            try:
                if child.tag.endswith("timeDate") and not value.startswith("P"):
                    _check_date(value, now)  # a P... date is a duration from now
                else:
                    check_timer_value(value)
            except TimerOutOfBounds as exc:
                owner = timer.getparent()
                element_id = owner.get("id") if owner is not None else None
                yield Problem(
                    f"Timer of '{element_id}': {exc}.", child.sourceline, element_id
                )


def _dmn_problems(name: str, root: etree._Element) -> Iterable[Problem]:
    for table in root.iter("{*}decisionTable"):
        decision = table.getparent()
        element_id = decision.get("id") if decision is not None else table.get("id")
        rules = [
            el for el in table if isinstance(el.tag, str) and el.tag.endswith("rule")
        ]
        if len(rules) > MAX_DMN_RULES:
            yield Problem(
                f"{name}: decision '{element_id}' has {len(rules)} rules "
                f"(at most {MAX_DMN_RULES}).", table.sourceline, element_id,
            )  # fmt: skip
    for text in root.iter("{*}text"):
        cell = text.text or ""
        if (
            len(cell) > MAX_DMN_CELL_CHARS
            or cell.count("?") > MAX_DMN_CELL_PLACEHOLDERS
        ):
            owner = text.getparent()
            element_id = owner.get("id") if owner is not None else None
            yield Problem(
                f"{name}: DMN cell is too long or complex "
                f"(at most {MAX_DMN_CELL_CHARS} characters and "
                f"{MAX_DMN_CELL_PLACEHOLDERS} '?').",
                text.sourceline, element_id,
            )  # fmt: skip


def _cardinality_problems(root: etree._Element) -> Iterable[Problem]:
    for cardinality in root.iter(f"{{{_BPMN}}}loopCardinality"):
        text = _literal(cardinality.text or "")
        if text.isdigit() and int(text[:12]) > MAX_INSTANCES:
            activity = cardinality.getparent().getparent()
            element_id = activity.get("id") if activity is not None else None
            yield Problem(
                f"Multi-instance '{element_id}': at most {MAX_INSTANCES} instances.",
                cardinality.sourceline,
                element_id,
            )


def size_problems(root: etree._Element) -> list[Problem]:
    """Refuse a diagram of more than MAX_ELEMENTS BPMN elements, at the first over."""
    count, first_over = 0, None
    for element in root.iter(f"{{{_BPMN}}}*"):
        if element.get("id") is None:
            continue
        count += 1
        if count == MAX_ELEMENTS + 1:
            first_over = element
    if first_over is None:
        return []
    return [
        Problem(
            f"The diagram has {count:,} BPMN elements; at most {MAX_ELEMENTS:,} are "
            "accepted in one file. Split it into processes that call each other "
            "(call activities).",
            first_over.sourceline,
            first_over.get("id"),
        )
    ]


def upload_problems(
    root: etree._Element, dmn_roots: Sequence[tuple[str, etree._Element]] = ()
) -> list[Problem]:
    """Return every timer and DMN value beyond the engine's bounds, located."""
    problems = [*_timer_problems(root), *_cardinality_problems(root)]
    for name, dmn_root in dmn_roots:
        problems.extend(_dmn_problems(name, dmn_root))
    return problems
