"""Stream audit events as CSV or JSON Lines in constant memory."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .models import AuditEvent
from .services import CANONICAL_FIELDS, format_at

COLUMNS = (*CANONICAL_FIELDS, "hash")


def _row(event: AuditEvent) -> dict:
    row = {name: getattr(event, name) for name in COLUMNS}
    row["id"] = str(event.id)
    row["case_id"] = str(event.case_id) if event.case_id else None
    row["at"] = format_at(event.at)
    return row


def export_stream(events: Iterable[AuditEvent], fmt: str) -> Iterator[str]:
    """Yield the export text chunk by chunk."""
    if fmt == "jsonl":
        for event in events:
            yield json.dumps(_row(event), sort_keys=True) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for event in events:
        row = _row(event)
        row["payload"] = json.dumps(row["payload"], sort_keys=True)
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
