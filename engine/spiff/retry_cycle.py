"""`camunda:failedJobRetryTimeCycle`: how often, and how far apart, a call is retried.

Camunda 7 counts a job's retries with its first execution included: `R3/PT10M`
runs the call at most 3 times, 10 minutes apart, then opens an incident. A list of
durations (`PT1M,PT5M,PT10M`, Camunda 7.7+) waits each in turn: one attempt more
than there are durations (`DefaultJobRetryCmd`, `ParseUtil.parseRetryIntervals`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .xml import vendor_children

_REPEAT = re.compile(r"^R(\d*)/(P[^/,]+)$")
_PATH = "bpmn:extensionElements/x:failedJobRetryTimeCycle"


class RetryCycleInvalid(ValueError):
    """A retry cycle Laneway cannot apply (the message says why)."""


@dataclass(frozen=True, slots=True)
class RetryCycle:
    """At most `attempts` calls; the n-th wait is `intervals[min(n, len) - 1]` s."""

    attempts: int
    intervals: tuple[float, ...]


def _seconds(text: str) -> float:
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises several kinds
        raise RetryCycleInvalid(f"{text!r} is not an ISO 8601 duration") from None
    delta = TimerEventDefinition.get_timedelta_from_start(parsed, datetime.now(UTC))
    if delta < timedelta(0):
        raise RetryCycleInvalid(f"{text!r} is a negative duration")
    return delta.total_seconds()


def retry_cycle_parse(text: str) -> RetryCycle:
    """Read `R<n>/<duration>` or `<duration>[,<duration>...]`.

    Raises:
        RetryCycleInvalid: an expression, a cycle without a count, or a value
            that is neither form.
    """
    text = text.strip()
    if "${" in text or "#{" in text:
        raise RetryCycleInvalid(
            "an expression cannot be read at deploy; write R3/PT10M"
        )
    repeat = _REPEAT.match(text)
    if repeat:
        if not repeat.group(1):
            raise RetryCycleInvalid("a retry cycle needs a count (R3/PT10M)")
        return RetryCycle(max(int(repeat.group(1)), 1), (_seconds(repeat.group(2)),))
    parts = [p.strip() for p in text.split(",")]
    if not text or not all(p.startswith("P") for p in parts):
        raise RetryCycleInvalid("write R<retries>/<duration> (R3/PT10M) or PT1M,PT5M")
    return RetryCycle(len(parts) + 1, tuple(_seconds(p) for p in parts))


def retry_cycle_elements(task: etree._Element) -> list[etree._Element]:
    """Return the task's camunda/operaton failedJobRetryTimeCycle elements."""
    return vendor_children(task, _PATH)


def retry_cycle_of(task: etree._Element) -> RetryCycle | None:
    """Return the task's retry cycle, or None (checked at upload, so readable)."""
    for element in retry_cycle_elements(task):
        return retry_cycle_parse(element.text or "")
    return None
