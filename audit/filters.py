"""The one parser of audit filters: the page, the API and `export_audit` all use it."""

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .errors import AuditFilterInvalid

FILTER_FIELDS = ("case", "process", "actor", "action", "since", "until")
FORMATS = ("csv", "jsonl")
_MAX_LENGTH = {"process": 255, "actor": 150, "action": 64}


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Validated filters, named as the query parameters that carry them."""

    case: uuid.UUID | None = None
    process: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def selector_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of `selectors.audit_list`."""
        return {
            "case_id": self.case,
            "process_key": self.process,
            "actor": self.actor,
            "action": self.action,
            "since": self.since,
            "until": self.until,
        }

    def as_query(self) -> dict[str, str]:
        """Return the set filters as query parameters (ISO-8601 dates, UTC)."""
        query = {}
        for name, value in asdict(self).items():
            if isinstance(value, datetime):
                query[name] = value.isoformat()
            elif value:
                query[name] = str(value)
        return query


def _case(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"Not a case id (UUID): {value!r}.") from None


def _when(value: str) -> datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        parsed = None
    if parsed is None:
        raise ValueError(
            f"Not a valid ISO-8601 date-time: {value!r} (e.g. 2026-01-31T08:00:00Z)."
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    try:  # PostgreSQL takes offsets up to ±15:59 only; UTC is always fine
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+17:00 is before year 1
        raise ValueError(f"Out of range: {value!r}.") from None


def _text(name: str, value: str) -> str:
    if len(value) > _MAX_LENGTH[name]:
        raise ValueError(f"At most {_MAX_LENGTH[name]} characters.")
    return value


def _parse_one(name: str, value: str) -> Any:
    if name == "case":
        return _case(value)
    if name in ("since", "until"):
        return _when(value)
    return _text(name, value)


def audit_filters_parse(params: Mapping[str, Any]) -> AuditFilters:
    """Validate filters given as text (query parameters or command options).

    Empty or missing values mean "no filter".

    Raises:
        AuditFilterInvalid: naming each bad field and why.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FILTER_FIELDS:
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        try:
            values[name] = _parse_one(name, raw)
        except ValueError as exc:
            errors[name] = str(exc)
    filters = AuditFilters(**values)
    if filters.since and filters.until and filters.since >= filters.until:
        errors.setdefault("until", "Must be later than since.")
    if errors:
        raise AuditFilterInvalid(errors)
    return filters


def audit_format_parse(value: str | None) -> str:
    """Return the export format (default jsonl).

    Raises:
        AuditFilterInvalid: for anything but csv or jsonl.
    """
    fmt = (value or "jsonl").strip().lower()
    if fmt not in FORMATS:
        raise AuditFilterInvalid({"format": f"Use csv or jsonl, not {value!r}."})
    return fmt
