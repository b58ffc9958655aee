import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from audit.exporters import export_stream
from audit.selectors import audit_iter_for_export
from audit.services import audit_export_recorded


class Command(BaseCommand):
    help = "Export the audit log as CSV or JSON Lines (streamed)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
        parser.add_argument("--since")
        parser.add_argument("--until")
        parser.add_argument("--case")
        parser.add_argument("--process")
        parser.add_argument("--actor")
        parser.add_argument("--action")
        parser.add_argument("--output", help="file path (default: standard output)")

    def _when(self, value, name):
        if not value:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            raise CommandError(f"--{name}: not an ISO-8601 date-time: {value!r}")
        return parsed

    def handle(self, *args, **o):
        filters = {
            "case_id": o["case"],
            "process_key": o["process"],
            "actor": o["actor"],
            "action": o["action"],
            "since": self._when(o["since"], "since"),
            "until": self._when(o["until"], "until"),
        }
        audit_export_recorded(
            user="manage.py export_audit", fmt=o["format"], filters=filters
        )
        out = open(o["output"], "w", newline="") if o["output"] else sys.stdout
        try:
            for chunk in export_stream(audit_iter_for_export(**filters), o["format"]):
                out.write(chunk)
        finally:
            if o["output"]:
                out.close()
