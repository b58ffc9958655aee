"""Export 1,000,000 audit events, compared with PostgreSQL's COPY (figures, not a test).

    DATABASE_URL=postgres://.../scratch .venv/bin/python bench/audit_export.py

Fills a SCRATCH database (migrated here) with N synthetic events (1,000,000 by default;
their hashes are not a valid chain: the export's speed does not depend on it), then
times, for CSV and JSON Lines:
* `COPY (SELECT * FROM audit_auditevent) TO STDOUT` read by psycopg (the baseline);
* `manage.py export_audit --format F --output /dev/null`, in a child process whose
  peak resident memory (ru_maxrss) is reported; Django's start-up is included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

FILL = """
INSERT INTO audit_auditevent (id, chain, chain_seq, at, actor_id, actor_repr,
  on_behalf_of, action, case_id, process_key, version_id, task_ref, payload,
  prev_hash, hash)
SELECT gen_random_uuid(), 'case:bench-' || (g / 10), g %% 10 + 1,
  now() - ((%(last)s - g) || ' seconds')::interval, 7, 'manager1', '', 'task.completed',
  gen_random_uuid(), 'purchase_request', 3, 'approve',
  jsonb_build_object('data', jsonb_build_object('amount', g * 1.5, 'approved', true,
    'justification', 'A new monitor for the office'), 'name', 'Approve purchase'),
  md5(g::text) || md5((g + 1)::text), md5(g::text || 'h') || md5((g + 2)::text)
FROM generate_series(%(first)s, %(last)s) g
"""


def fill(events: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        have = cursor.fetchone()[0]
        if have < events:
            cursor.execute(FILL, {"first": have + 1, "last": events})  # tops up
            cursor.execute("ANALYZE audit_auditevent")
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        return cursor.fetchone()[0]


BASELINES = {"csv": "(FORMAT csv)", "jsonl": "(FORMAT text)"}


def copy_baseline(fmt_options: str) -> float:
    connection.ensure_connection()
    start = time.perf_counter()
    with connection.connection.cursor() as cursor:
        sql = f"COPY (SELECT * FROM audit_auditevent) TO STDOUT {fmt_options}"
        with cursor.copy(sql) as copy:
            for _ in copy:
                pass
    return time.perf_counter() - start


def export(fmt: str) -> tuple[float, float]:
    start = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "export_audit",
            "--format",
            fmt,
            "--output",
            "/dev/null",
        ],
        cwd=ROOT,
    )
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,jsonl")
    parser.add_argument("--json", help="also write the figures here (bench/run.py)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    total = fill(args.events)
    print(f"{total:,} events; load average {os.getloadavg()[0]:.1f}")
    print("| format | COPY TO STDOUT | export_audit | share of COPY rate | peak RSS |")
    print("|---|---|---|---|---|")
    figures = {}
    for fmt in args.formats.split(","):
        baseline = copy_baseline(BASELINES[fmt])
        seconds, peak_mb = export(fmt)
        print(
            f"| {fmt} | {baseline:.1f} s ({total / baseline:,.0f}/s) "
            f"| {seconds:.1f} s ({total / seconds:,.0f}/s) "
            f"| {baseline / seconds:.0%} | {peak_mb:.0f} MB |"
        )
        figures[fmt] = (round(baseline / seconds, 2), round(peak_mb, 1))
    if args.json:
        fmt = "jsonl" if "jsonl" in figures else next(iter(figures))
        Path(args.json).write_text(
            json.dumps(
                {
                    "export_vs_copy": figures[fmt][0],
                    "export_peak_rss_mb": figures[fmt][1],
                    "export_events": total,
                    "export_figures": figures,
                }
            )
        )


if __name__ == "__main__":
    main()
