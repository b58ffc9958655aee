import sys

from django.core.management.base import BaseCommand, CommandError

from audit.errors import AuditFilterInvalid
from audit.exporters import export_stream
from audit.filters import FILTER_FIELDS, FORMATS
from audit.selectors import audit_export_records, audit_list
from audit.services import audit_export_start


class Command(BaseCommand):
    help = (
        "Export the audit log as CSV or JSON Lines (streamed), with the same filters "
        "as the Audit page and GET /api/v1/audit/."
    )
    # Reading needs none of the system checks (they import every URLconf):
    # they would be most of a small export's time.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        for name in FILTER_FIELDS:
            parser.add_argument(f"--{name}")
        parser.add_argument("--output", help="file path (default: standard output)")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar on a terminal"
        )

    def handle(self, *args, **o):
        try:
            filters, fmt = audit_export_start(user="manage.py export_audit", params=o)
        except AuditFilterInvalid as exc:
            raise CommandError(
                "; ".join(f"--{k}: {v}" for k, v in exc.errors.items())
            ) from None
        events = audit_list(**filters.selector_kwargs())
        total = None
        if o["output"] and sys.stderr.isatty() and not o["no_progress"]:
            total = events.count()
        out = open(o["output"], "wb") if o["output"] else sys.stdout.buffer
        try:
            written = 0
            for chunk in export_stream(audit_export_records(filters), events, fmt):
                out.write(chunk)
                if total:
                    written += chunk.count(b"\n")
                    self._progress(written, total)
        finally:
            if o["output"]:
                out.close()
        if total:
            sys.stderr.write("\n")

    def _progress(self, written: int, total: int) -> None:
        done = min(written, total) / total
        bar = "#" * int(done * 40)
        sys.stderr.write(f"\r[{bar:<40}] {done:6.1%} {min(written, total)}/{total}")
