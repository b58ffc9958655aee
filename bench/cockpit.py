"""Print what the cockpit's pages cost at 1,000 and 100,000 cases (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_cockpit \\
        .venv/bin/python bench/cockpit.py [--small 1000] [--large 100000] [--runs 15]

Issue #13: "the pages stay fast with 100,000 cases". Cases of the purchase example
are inserted in bulk as a month of history: 70% finished (the manager's approval
completed, the case completed), 30% waiting at the finance approval; each with the
audit events the statistics read (`element.completed` of the start event,
`task.completed` of the approval, `case.completed`) and a few incidents. Measured as
a process admin through Django's test client, medians of --runs requests:

  * the cockpit dashboard (last 30 days);
  * the version page with its heatmap;
  * the statistics API of the version and its user-task report (JSON);
  * the cycle-time report of the process.

First at --small cases (the baseline of this run), then after adding cases up to
--large; the ratio large/small is the figure to watch (the issue asks that the
pages stay fast; the target is <= 2, as for the inbox). The history is inserted
behind the rollups' mark, so each size is rolled up afresh (`rollup(rebuild=True)`,
what the beat would have done as the cases came) before it is measured; the
tail since the mark is read live. The database in DATABASE_URL is dropped and
created afresh: it is a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway_bench_cockpit"
)

import django  # noqa: E402

from bench.inbox import _analyze, _fresh_database, _measure  # noqa: E402

BATCH = 5000
TARGET = 2.0  # large/small, each page and API
KEY = "purchase_request"
PROBES = {
    "cockpit dashboard": "/cockpit/",
    "version page (heatmap)": f"/cockpit/processes/{KEY}/versions/1/",
    "statistics API": f"/api/v1/processes/{KEY}/versions/1/statistics/",
    "user-task report API": f"/api/v1/processes/{KEY}/versions/1/reports/tasks/",
    "cycle-time report API": f"/api/v1/processes/{KEY}/reports/cycle-times/",
}


def _setup():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from processes.services import version_upload
    from tasks_app.roles import roles_ensure

    roles_ensure()
    users = get_user_model().objects
    admin, _ = users.get_or_create(username="bench-admin")
    admin.groups.add(Group.objects.get(name="process-admins"))
    requester, _ = users.get_or_create(username="bench-requester")
    analyst, _ = users.get_or_create(username="bench-analyst")
    analyst.groups.add(Group.objects.get(name="analysts"))
    xml = (ROOT / "examples" / f"{KEY}.bpmn").read_bytes()
    version = version_upload(user=analyst, bpmn=xml, filename=f"{KEY}.bpmn")[0].version
    return admin, requester, version


def _event(case, version, at, action, task_ref=""):
    from audit.models import AuditEvent

    return AuditEvent(
        chain=str(case.pk),
        chain_seq=0,  # set by the caller
        at=at,
        actor_repr="system",
        action=action,
        case_id=case.pk,
        process_key=KEY,
        version_id=version.pk,
        task_ref=task_ref,
        payload={},
        prev_hash="0" * 64,
        hash=uuid.uuid4().hex + uuid.uuid4().hex,
    )


@contextmanager
def _own_times(*models):
    """Let bulk_create keep the rows' own times (auto_now_add would replace them)."""
    fields = [
        f
        for m in models
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now_add", 0)
    ]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _add_cases(count, *, start, requester, version):
    """Insert `count` cases with their tasks, audit events and some incidents."""
    from django.utils import timezone

    from audit.models import AuditEvent
    from engine.models import Case, Incident
    from tasks_app.models import HumanTask

    now = timezone.now()
    latest = now - timedelta(minutes=5)
    for offset in range(0, count, BATCH):
        cases, tasks, events, incidents = [], [], [], []
        for i in range(min(BATCH, count - offset)):
            number = start + offset + i
            done = number % 10 < 7
            created = now - timedelta(minutes=random.randint(60, 30 * 24 * 60))
            # Nothing finishes in the future (it would stay in the live tail).
            handled = min(created + timedelta(minutes=random.randint(1, 600)), latest)
            case = Case(
                version=version,
                started_by=requester,
                business_key=f"PO-{number}",
                status="completed" if done else "running",
                active_elements=[] if done else ["finance_review"],
                started_at=created,
                has_incident=not done and number % 97 == 0,
            )
            cases.append(case)
            review = HumanTask(
                case=case,
                spiff_task_id=uuid.uuid4(),
                bpmn_id="manager_review",
                name="Approve purchase",
                lane="Manager",
                candidate_groups=["Manager"],
                status="completed",
                created_at=handled - timedelta(minutes=30),
                completed_at=handled,
            )
            tasks.append(review)
            trail = [
                _event(case, version, created, "element.completed", "start"),
                _event(
                    case,
                    version,
                    handled,
                    "task.completed",
                    f"manager_review:{review.pk}",
                ),
            ]
            if done:
                ended = min(handled + timedelta(minutes=random.randint(1, 600)), latest)
                trail.append(_event(case, version, ended, "case.completed"))
                case.ended_at = ended
            else:
                tasks.append(
                    HumanTask(
                        case=case,
                        spiff_task_id=uuid.uuid4(),
                        bpmn_id="finance_review",
                        name="Finance approval",
                        lane="Finance",
                        candidate_groups=["Finance"],
                        status="open",
                        created_at=handled,
                    )
                )
            if case.has_incident:
                incidents.append(
                    Incident(
                        case=case,
                        kind="script",
                        spiff_task_id=str(uuid.uuid4()),
                        bpmn_id="finance_review",
                        error_type="ScriptError",
                        message="bench",
                        created_at=handled,
                    )
                )
            for seq, event in enumerate(trail, start=1):
                event.chain_seq = seq
            events += trail
        with _own_times(Case, HumanTask, Incident):
            Case.objects.bulk_create(cases)
            HumanTask.objects.bulk_create(tasks)
            Incident.objects.bulk_create(incidents)
        AuditEvent.objects.bulk_create(events)


BIG = ("engine_case", "tasks_app_humantask", "audit_auditevent", "engine_servicecall")


def _explain(client) -> list[str]:
    """EXPLAIN each query the probes send; return those scanning a big table whole."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    whole = []
    for label, url in PROBES.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            if any(f"Seq Scan on {table}" in plan for table in BIG):
                whole.append(f"{label}: {sql[:300]}\n{plan}")
    return whole


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--small", type=int, default=1_000)
    args.add_argument("--large", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=15)
    args.add_argument("--json", help="also write the figures here (bench/run.py)")
    args.add_argument(
        "--best",
        action="store_true",
        help="the fastest of the runs instead of the median (a machine busy with "
        "other work disturbs the median more)",
    )
    args.add_argument(
        "--explain",
        action="store_true",
        help="at the large size, print the plans that scan a big table whole",
    )
    options = args.parse_args()
    _fresh_database()
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from cockpit.rollups import rollup
    from engine.models import Case

    call_command("migrate", verbosity=0)
    random.seed(13)
    admin, requester, version = _setup()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    results, added = [], 0
    for size in (options.small, options.large):
        _add_cases(size - added, start=added, requester=requester, version=version)
        added = size
        rollup(rebuild=True)
        _analyze()
        pick = min if options.best else statistics.median
        figures = _measure(client, options.runs, PROBES, pick=pick)
        results.append((Case.objects.count(), figures))
    if options.explain:
        scans = _explain(client)
        print(f"{len(scans)} probe queries scan a big table whole")
        for scan in scans:
            print(scan, end="\n\n")
    which = "fastest" if options.best else "median"
    print(f"Cockpit as a process admin; {which} ms of {options.runs} requests")
    header = "".join(f"{n:>14,} cases" for n, _ in results)
    print(f"{'':26}{header}{'ratio':>10}  (target <= {TARGET})")
    ratios = {}
    for label in PROBES:
        small, large = (r[1][label] * 1000 for r in results)
        ratios[label] = round(large / small, 2)
        verdict = "ok" if large / small <= TARGET else "over"
        print(
            f"{label:26}{small:>20.1f}{large:>20.1f}{large / small:>10.2f}  {verdict}"
        )
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "cockpit_100k_vs_1k": max(ratios.values()),
                    "cockpit_ratios": ratios,
                    "cockpit_sizes": [n for n, _ in results],
                }
            )
        )


if __name__ == "__main__":
    main()
