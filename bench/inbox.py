"""Print what a manager's inbox costs at 1,000 and 100,000 open tasks (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_inbox \\
        .venv/bin/python bench/inbox.py [--small 1000] [--large 100000] [--runs 30]

The organisation has 100 departments (groups); open tasks are offered round-robin
to them, so one department's manager sees 1% of the open tasks, a tenth of those
claimed by them. Every task carries the guardian rows Laneway writes (VIEW and WORK
for its group, VIEW on its case); every tenth also names one of 100 users as a
candidate (candidateUsers; the manager is one of them) and has the same rows for
that user, as the manager's assigned tasks do for the manager. As many completed
tasks as open ones keep their VIEW rows (history the inbox must not read). The
requester is barred from every task (separateFrom="initiator").

Measured through Django's test client, medians of --runs requests each:
  * the HTML inbox, first page (tabs with counts, process filter, 50 rows);
  * the same page searched for a word and sorted by due date;
  * the API list /api/v1/tasks/ (first page) and /api/v1/tasks/counts/.
First at --small open tasks (the baseline of this run), then after adding tasks
up to --large; the ratio large/small is the figure to watch (the issue asks <= 2).
It ends with PostgreSQL's plan for the inbox query at --large. The database named
in DATABASE_URL is dropped and created afresh: it is a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway_bench_inbox"
)

import django  # noqa: E402

DEPARTMENTS = 100
NAMED = 100  # users named as candidates (candidateUsers), the manager the first
NAMED_EVERY = 10  # every tenth task names one of them besides its group
TASKS_PER_CASE = 4
BATCH = 5000
PROBES = {
    "HTML inbox, page 1": "/",
    "HTML inbox, search + sort": "/?search=laptop&sort=due",
    "API /tasks/, page 1": "/api/v1/tasks/",
    "API /tasks/counts/": "/api/v1/tasks/counts/",
}


def _fresh_database() -> None:
    """Drop and re-create the scratch database (the audit table refuses a flush)."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from processes.services import version_upload

    groups = [
        Group.objects.get_or_create(name=f"dept-{i:03}")[0] for i in range(DEPARTMENTS)
    ]
    user_model = get_user_model()
    manager, _ = user_model.objects.get_or_create(username="bench-manager")
    manager.groups.add(groups[0])
    named = [manager] + [
        user_model.objects.get_or_create(username=f"bench-user-{i:03}")[0]
        for i in range(1, NAMED)
    ]
    requester, _ = user_model.objects.get_or_create(username="bench-requester")
    analyst, _ = user_model.objects.get_or_create(username="bench-analyst")
    analyst.groups.add(Group.objects.get_or_create(name="analysts")[0])
    xml = (ROOT / "examples" / "purchase_request.bpmn").read_bytes()
    version = version_upload(user=analyst, bpmn=xml, filename="purchase_request.bpmn")[
        0
    ].version
    return groups, named, requester, version


def _add_tasks(count, *, start, groups, named, requester, version, status):
    """Insert `count` tasks (and their cases and guardian rows) in batches."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from engine.models import Case
    from tasks_app.models import HumanTask

    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            codename__in=["view_humantask", "work_on_humantask", "view_case"]
        )
    }
    task_type = ContentType.objects.get_for_model(HumanTask)
    case_type = ContentType.objects.get_for_model(Case)

    def grants(model, owner: dict, names: list[str], task, case) -> list:
        """The owner's rows on the task (each of `names`) and on its case."""
        on_task = [(perms[name], task_type, task.pk) for name in names]
        return [
            model(**owner, permission=perm, content_type=kind, object_pk=str(pk))
            for perm, kind, pk in [*on_task, (perms["view_case"], case_type, case.pk)]
        ]

    now, words = timezone.now(), ["laptop", "desk", "chair", "monitor", "licence"]
    for offset in range(0, count, BATCH):
        n = min(BATCH, count - offset)
        cases = Case.objects.bulk_create(
            Case(
                version=version,
                started_by=requester,
                business_key=f"PO-{start + offset + i}",
                status="completed" if status == "completed" else "running",
            )
            for i in range(0, n, TASKS_PER_CASE)
        )
        tasks, rows, user_rows = [], [], []
        manager = named[0]
        for i in range(n):
            number = start + offset + i
            group = groups[number % DEPARTMENTS]
            case = cases[i // TASKS_PER_CASE]
            mine = group is groups[0] and number % (10 * DEPARTMENTS) == 0
            # Every NAMED_EVERY-th task also names one of the NAMED users
            # (candidateUsers), and the manager's assigned tasks name the manager:
            # user rows, as real assignments write.
            person = (
                named[(number // NAMED_EVERY) % len(named)]
                if number % NAMED_EVERY == 1
                else (manager if mine else None)
            )
            task = HumanTask(
                case=case,
                spiff_task_id=uuid.uuid4(),
                bpmn_id="manager_review",
                name=f"Approve {random.choice(words)} #{number}",
                lane=group.name,
                candidate_groups=[group.name],
                candidate_users=[person.username] if person and not mine else [],
                status=status,
                assignee=manager if mine and status == "open" else None,
                priority=random.randint(0, 100),
                due_at=now + timedelta(hours=random.randint(-240, 240))
                if number % 3
                else None,
            )
            tasks.append(task)
            names = ["view_humantask"] + (
                ["work_on_humantask"] if status == "open" else []
            )
            rows += grants(GroupObjectPermission, {"group": group}, names, task, case)
            if person is not None:
                user_rows += grants(
                    UserObjectPermission, {"user": person}, names, task, case
                )
        HumanTask.objects.bulk_create(tasks)
        # The starter may not approve their own request (separateFrom="initiator",
        # as in the purchase example): one barred row per task.
        HumanTask.barred.through.objects.bulk_create(
            HumanTask.barred.through(humantask=task, user=requester) for task in tasks
        )
        GroupObjectPermission.objects.bulk_create(rows, ignore_conflicts=True)
        UserObjectPermission.objects.bulk_create(user_rows, ignore_conflicts=True)


def _candidates_rebuild() -> None:
    """Write the inbox's candidate rows of the open tasks inserted in bulk, as
    the data migration does (the services write them with each task)."""
    from django.apps import apps

    from tasks_app.candidates import candidates_backfill
    from tasks_app.models import InboxCandidate

    InboxCandidate.objects.all().delete()
    candidates_backfill(apps)


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after bulk loads


def _measure(
    client,
    runs: int,
    probes: dict[str, str] = PROBES,
    pick=statistics.median,
    cpu: dict[str, float] | None = None,
) -> dict[str, float]:
    """Return the median (or `pick`) seconds of `runs` GETs of each probe (after
    one warm-up); `cpu` gets the same of this process's CPU seconds (Django's
    side of each request, less sensitive to the machine's load than wall time)."""
    medians = {}
    for label, url in probes.items():
        client.get(url)  # warm the caches this URL touches
        samples, cpu_samples = [], []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            cpu_samples.append(time.process_time() - cpu_started)
            assert response.status_code == 200, (url, response.status_code)
        medians[label] = pick(samples)
        if cpu is not None:
            cpu[label] = pick(cpu_samples)
    return medians


def _plans(manager) -> dict[str, str]:
    """Return PostgreSQL's plan (EXPLAIN ANALYZE, BUFFERS) of each statement the
    inbox runs for the manager: the first page's rows, the tabs' counts, the
    page's summary, and the searched and sorted page's rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks_app.selectors import (
        InboxQuery,
        inbox_counts_for_user,
        inbox_list_for_user,
        inbox_summary_for_user,
    )

    searched = InboxQuery(search="laptop", sort="due")
    reads = {
        "list": lambda: inbox_list_for_user(user=manager)[:51],
        "counts": lambda: inbox_counts_for_user(user=manager, query=InboxQuery()),
        "summary": lambda: inbox_summary_for_user(user=manager, query=InboxQuery()),
        "search + sort list": lambda: list(
            inbox_list_for_user(user=manager, query=searched)[:51]
        ),
        "search + sort summary": lambda: inbox_summary_for_user(
            user=manager, query=searched
        ),
    }
    plans = {}
    for label, read in reads.items():
        with CaptureQueriesContext(connection) as captured:
            read()
        statement = captured.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}")
            plans[label] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def _visible(manager) -> int:
    from tasks_app.selectors import inbox_list_for_user

    return inbox_list_for_user(user=manager).count()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--small", type=int, default=1_000)
    args.add_argument("--large", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=30)
    args.add_argument("--json", help="also write the figures here (bench/run.py)")
    options = args.parse_args()
    _fresh_database()
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from tasks_app.models import HumanTask

    call_command("migrate", verbosity=0)
    random.seed(10)
    groups, named, requester, version = _setup()
    manager = named[0]
    common = dict(groups=groups, named=named, requester=requester, version=version)
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)
    results, sizes, cpus = [], (options.small, options.large), []
    added = 0
    for size in sizes:
        _add_tasks(size - added, start=added, status="open", **common)
        _add_tasks(size - added, start=size + added, status="completed", **common)
        added = size
        _candidates_rebuild()
        _analyze()
        open_count = HumanTask.objects.filter(status="open").count()
        cpus.append({})
        figures = _measure(client, options.runs, cpu=cpus[-1])
        results.append((open_count, _visible(manager), figures))
    print(
        f"Inbox of one of {DEPARTMENTS} departments' managers; "
        f"median ms of {options.runs} requests"
    )
    header = "".join(f"{open_:>8,} open ({seen} visible)" for open_, seen, _ in results)
    print(f"{'':28}{header}{'ratio':>10}")
    for label in PROBES:
        small, large = (r[2][label] * 1000 for r in results)
        print(f"{label:28}{small:>27.2f}{large:>27.2f}{large / small:>10.2f}")
    print("CPU of the Django process, median ms:")
    cpu_ratios = {}
    for label in PROBES:
        small, large = (c[label] * 1000 for c in cpus)
        cpu_ratios[label] = round(large / small, 2)
        print(f"{label:28}{small:>27.2f}{large:>27.2f}{large / small:>10.2f}")
    plans = _plans(manager)
    for label, plan in plans.items():
        print(f"\nPostgreSQL's plan, {label}, at {results[-1][0]:,} open tasks:")
        print(plan)
    scans = [
        f"{label}: {line.strip()}"
        for label, plan in plans.items()
        for line in plan.splitlines()
        if "Scan" in line and "Bitmap Index" not in line
    ]
    print("\nTheir scans:", *scans, sep="\n  ")
    if options.json:
        ratios = {
            label: round(results[1][2][label] / results[0][2][label], 2)
            for label in PROBES
        }
        Path(options.json).write_text(
            json.dumps(
                {
                    "inbox_100k_vs_1k": max(ratios.values()),
                    "inbox_ratios": ratios,
                    "inbox_cpu_ratios": cpu_ratios,
                    "inbox_sizes": [r[0] for r in results],
                    "inbox_plan_scans": scans,
                    # Small tables (users, groups) are read whole; these are not.
                    "inbox_plan_seq_scans": [
                        line
                        for line in scans
                        if "Seq Scan on tasks_app_humantask " in line
                        or "Seq Scan on tasks_app_inboxcandidate" in line
                        or "Seq Scan on guardian" in line
                        or "Seq Scan on engine_case " in line
                    ],
                }
            )
        )


if __name__ == "__main__":
    main()
