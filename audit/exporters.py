"""Stream audit events as CSV or JSON Lines in constant memory."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .models import AuditEvent
from .services import CANONICAL_FIELDS, format_at

COLUMNS = (*CANONICAL_FIELDS, "hash")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_BATCH = 500


def _row(event: AuditEvent) -> dict:
    row = {name: getattr(event, name) for name in COLUMNS}
    row["id"] = str(event.id)
    row["case_id"] = str(event.case_id) if event.case_id else None
    row["at"] = format_at(event.at)
    return row


def _jsonl(rows: Iterable[AuditEvent | dict[str, Any]]) -> Iterator[str]:
    lines = []
    for item in rows:
        row = _row(item) if isinstance(item, AuditEvent) else item
        lines.append(json.dumps(row, sort_keys=True))
        if len(lines) == _BATCH:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def _csv(rows: Iterable[AuditEvent | dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for count, item in enumerate(rows, start=1):
        if not isinstance(item, AuditEvent):
            continue  # chain heads and version records exist in JSON Lines only
        row = _row(item)
        row["payload"] = json.dumps(row["payload"], sort_keys=True)
        writer.writerow(row)
        if count % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def export_stream(
    rows: Iterable[AuditEvent | dict[str, Any]], fmt: str
) -> Iterator[str]:
    """Yield the export text chunk by chunk (events; JSON Lines adds their records)."""
    return _jsonl(rows) if fmt == "jsonl" else _csv(rows)
