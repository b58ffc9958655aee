"""ISO 8601 durations in months and years count calendar months, as Camunda 7.

Camunda 7 adds a timer's duration with `javax.xml.datatype.Duration.addTo`
(`DurationHelper`), the XML Schema 1.0 algorithm (Part 2, Appendix E, "Adding
durations to dateTimes"): months and years move the month, and a day past the
end of the new month is pinned to its last day (2026-01-31 + P1M is 2026-02-28,
2028-02-29 + P1Y is 2029-02-28); days, hours, minutes and seconds are added
after that.

SpiffWorkflow's `TimerEventDefinition.get_timedelta_from_start` adds the length
in days of each month from the start instead, so a month from 31 January was
3 March and a month from 31 March was 1 May. The functions here replace it (and
its mirror `get_timedelta_from_end`, for `R/P1M/2030-01-01` cycles) for every
timer: durations, cycles, timer start events and retry cycles. Fractional
months or years (`P1.5M`, which Camunda refuses) keep SpiffWorkflow's reading.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_plain_from_start = TimerEventDefinition.get_timedelta_from_start
_plain_from_end = TimerEventDefinition.get_timedelta_from_end


def months_add(moment: datetime, months: int) -> datetime:
    """Return `moment` moved by whole `months` (negative: back), the day pinned
    to the last day of the month it lands in (XML Schema 1.0, Appendix E)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _split(parsed: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    rest = dict(parsed)
    years, months = rest.pop("years", 0), rest.pop("months", 0)
    if int(years) != years or int(months) != months:
        return None
    return int(years) * 12 + int(months), rest


def get_timedelta_from_start(
    parsed_duration: dict[str, Any], start: datetime | None = None
) -> timedelta:
    """Return the length of the duration counted from `start` (default: now)."""
    split = _split(parsed_duration)
    if split is None:
        return _plain_from_start(parsed_duration, start)
    months, rest = split
    start = start or datetime.now(UTC)
    return months_add(start, months) + timedelta(**rest) - start


def get_timedelta_from_end(parsed_duration: dict[str, Any], end: datetime) -> timedelta:
    """Return the length of the duration that ends at `end`."""
    split = _split(parsed_duration)
    if split is None:
        return _plain_from_end(parsed_duration, end)
    months, rest = split
    return end - (months_add(end, -months) - timedelta(**rest))


TimerEventDefinition.get_timedelta_from_start = staticmethod(get_timedelta_from_start)
TimerEventDefinition.get_timedelta_from_end = staticmethod(get_timedelta_from_end)
