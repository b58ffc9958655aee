"""Due and follow-up dates of human tasks (Camunda `dueDate`, `followUpDate`).

A value is an ISO-8601 date-time or date, an ISO-8601 duration from now
(`P3D`, `PT4H`, `P1DT12H`), `${variable}` holding either, or Camunda's idiom
`${dateTime().plusDays(2).toDate()}` (plusWeeks/Days/Hours/Minutes/Seconds,
chained). Anything else is refused at upload (`check_due`), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_VARIABLE = re.compile(r"^[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
_MAX = timedelta(days=3660)
_NOW_PLUS = re.compile(
    r"^[$#]\{\s*dateTime\(\)(?P<steps>(?:\.plus(?:Weeks|Days|Hours|Minutes|Seconds)"
    r"\(\d{1,6}\))+)(?:\.toDate\(\))?\s*\}$"
)
_STEP = re.compile(r"\.plus(Weeks|Days|Hours|Minutes|Seconds)\((\d+)\)")


def _now_plus(text: str) -> timedelta | None:
    match = _NOW_PLUS.match(text)
    if not match:
        return None
    return sum(
        (timedelta(**{unit.lower(): int(n)}) for unit, n in _STEP.findall(text)),
        timedelta(),
    )


def _duration(text: str) -> timedelta | None:
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts) if parts else None


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_due(
    value: str, *, data: Mapping[str, object], now: datetime
) -> datetime | None:
    """Return the moment a due/follow-up value names, or None when it names none."""
    text = (value or "").strip()
    offset = _now_plus(text)
    if offset is not None:
        return now + min(offset, _MAX)
    match = _VARIABLE.match(text)
    if match:
        resolved = data.get(match.group(1))
        text = resolved.strip() if isinstance(resolved, str) else ""
    if not text:
        return None
    span = _duration(text)
    if span is not None:
        return now + min(span, _MAX)
    return _moment(text)


def unreadable_value(
    value: str, *, data: Mapping[str, object], what: str
) -> str | None:
    """Return why `${variable}` in a due date, follow-up date or priority is unread.

    The upload checks literal values; a variable's value is known only at run
    time. None when the value is readable, or absent (no date, no priority).
    """
    match = _VARIABLE.match((value or "").strip())
    if not match:
        return None
    held = data.get(match.group(1))
    if held is None or held == "":
        return None
    if what == "priority":
        readable = resolve_priority(value, data=data) is not None
    else:
        readable = resolve_due(value, data=data, now=datetime.now(UTC)) is not None
    if readable:
        return None
    return (
        f"the {what} ${{{match.group(1)}}} holds {str(held)[:80]!r}, which is not "
        + (
            "a 32-bit integer (a task priority)"
            if what == "priority"
            else "an ISO-8601 date or duration"
        )
        + f"; the task has no {what}"
    )


# A task priority is a Java int in Camunda 7 (any value, negative too); PostgreSQL's
# integer column holds the same range. Nothing is clamped: out of range is unreadable.
PRIORITY_RANGE = range(-(2**31), 2**31)


def resolve_priority(value: str, *, data: Mapping[str, object]) -> int | None:
    """Return a task priority (an integer, or `${variable}` holding one).

    As Camunda 7's TaskDecorator: a number gives its integer part
    (`Number.intValue()`), a text must be a whole number (`Integer.valueOf`);
    anything else, or a value outside a Java int, is None (unreadable).
    """
    text = (value or "").strip()
    match = _VARIABLE.match(text)
    raw: object = data.get(match.group(1)) if match else text
    if isinstance(raw, bool):
        return None
    try:
        if isinstance(raw, float):
            priority = int(raw)  # truncates, as intValue(); inf/nan raise
        elif isinstance(raw, int):
            priority = raw
        else:
            priority = int(str(raw).strip())
    except (ValueError, OverflowError):
        return None
    return priority if priority in PRIORITY_RANGE else None


def check_due(value: str) -> str | None:
    """Return why a due/follow-up value can never name a moment, or None."""
    text = (value or "").strip()
    if not text or _VARIABLE.match(text) or _now_plus(text) is not None:
        return None
    if "${" in text or "#{" in text:
        return (
            "only a date, a duration, ${variable} or ${dateTime().plusDays(n)} "
            "is supported, not this expression"
        )
    if _duration(text) is not None or _moment(text) is not None:
        return None
    if text.startswith("P"):
        return (
            "only weeks, days, hours, minutes and seconds are supported in a duration"
        )
    return "it is neither an ISO-8601 date(-time) nor an ISO-8601 duration"


def check_priority(value: str) -> str | None:
    """Return why a priority value can never be an integer, or None."""
    text = (value or "").strip()
    if not text or _VARIABLE.match(text):
        return None
    try:
        number = int(text)
    except ValueError:
        return "it is neither an integer nor ${variable}"
    if number not in PRIORITY_RANGE:
        return "it is outside a task priority's range (a 32-bit integer, as Camunda's)"
    return None


# Camunda 7 form dates: the `date` form type reads and writes `dd/MM/yyyy` unless a
# field names another Java pattern (a `datePattern` constraint or property).
CAMUNDA_DATE_PATTERN = "dd/MM/yyyy"
_JAVA_DATE_PARTS = {
    "dd": "%d",
    "d": "%d",
    "MM": "%m",
    "M": "%m",
    "yyyy": "%Y",
    "yy": "%y",
}
_JAVA_DATE_TOKEN = re.compile(r"y+|M+|d+|[A-Za-z]+|'[^']*'|[^A-Za-z']+")


def java_date_format(pattern: str) -> str | None:
    """Return the `strptime` format of a Java date pattern, or None if unsupported.

    Days, months and years (`d`/`dd`, `M`/`MM`, `yy`/`yyyy`) with any separators;
    a form date has no time of day.
    """
    parts = []
    for token in _JAVA_DATE_TOKEN.findall(pattern.strip()):
        if token[0].isalpha():
            if token not in _JAVA_DATE_PARTS:
                return None
            parts.append(_JAVA_DATE_PARTS[token])
        else:
            parts.append(token.strip("'").replace("%", "%%"))
    fmt = "".join(parts)
    has_year = "%Y" in fmt or "%y" in fmt
    return fmt if "%d" in fmt and "%m" in fmt and has_year else None


def form_date(value: str, pattern: str = "") -> str:
    """Return a form date as ISO text: ISO (what the date input sends) or `pattern`.

    Raises:
        ValueError: neither reads it.
    """
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    fmt = java_date_format(pattern or CAMUNDA_DATE_PATTERN)
    if fmt is None:
        raise ValueError(f"unsupported date pattern {pattern!r}")
    return datetime.strptime(text, fmt).date().isoformat()
