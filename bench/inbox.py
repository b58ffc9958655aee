"""Print what a manager's inbox costs at 1,000 and 100,000 open tasks (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_inbox \\
        .venv/bin/python bench/inbox.py [--small 1000] [--large 100000] [--runs 30] \\
        [--rounds 6]

The organisation has 100 departments (groups); open tasks are offered round-robin
to them, so one department's manager sees 1% of the open tasks, a tenth of those
claimed by them. Every task carries the guardian rows Laneway writes (VIEW and WORK
for its group, VIEW on its case); every tenth also names one of 100 users as a
candidate (candidateUsers; the manager is one of them) and has the same rows for
that user, as the manager's assigned tasks do for the manager. As many completed
tasks as open ones keep their VIEW rows (history the inbox must not read). The
requester is barred from every task (separateFrom="initiator").

Two databases: the small one (--small open tasks, DATABASE_URL's name +
`_small`) is a copy of the large one before the large one gets its tasks up to
--large. Measured through Django's test client:
  * the HTML inbox, first page (tabs with counts, process filter, 50 rows);
  * the same page searched for a word and sorted by due date;
  * the API list /api/v1/tasks/ (first page) and /api/v1/tasks/counts/.
In --rounds paired rounds (bench/paired.py): each probe on one database and
right after on the other, the order alternating (small first, then large first,
…), --runs/rounds requests each after one warm-up; a round's figure is the
median of its requests, wall-clock ms and CPU ms of this process and its
PostgreSQL backend. The ratio large / small of each probe is the median of its
rounds' ratios, so a burst of load on the shared machine (which used to stretch
whichever size it fell on: 1.58-2.55 on the same code) hits both sizes alike;
`inbox_100k_vs_1k`, the largest wall-clock ratio, is the figure to watch (the
issue asks <= 2). It ends with PostgreSQL's plan for the inbox's statements at
--large (its scans: indexes, no sequential scan of a big table). Both databases
are dropped and created afresh: they are scratch databases.
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

from bench import paired  # noqa: E402

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


def _fill(size: int, added: int, common: dict) -> None:
    """Add open and completed tasks up to `size` open ones (from `added`), write
    their inbox candidates and bring the statistics up to date."""
    _add_tasks(size - added, start=added, status="open", **common)
    _add_tasks(size - added, start=size + added, status="completed", **common)
    _candidates_rebuild()
    _analyze()


def measure_rounds(urls: dict[str, str], manager, options) -> dict[str, list[dict]]:
    """Each database's figures in each of --rounds paired rounds: every probe on
    one database and right after on the other (`paired.orders`), --runs/rounds
    requests each after one warm-up; the medians of ms and CPU ms (this process
    and its PostgreSQL backend) of each."""
    from django.test import Client

    clients = {}
    for name, url in urls.items():
        paired.use(url)
        clients[name] = Client(HTTP_HOST="localhost")
        clients[name].force_login(manager)  # the session is in that database
    runs = max(2, options.runs // options.rounds)
    samples: dict[str, list[dict]] = {name: [] for name in urls}
    current = None
    for round_ in range(options.rounds):
        figures: dict[str, dict] = {name: {} for name in urls}
        orders = paired.orders(tuple(urls), round_, len(PROBES))
        for (label, url), order in zip(PROBES.items(), orders, strict=True):
            for name in order:
                if name != current:
                    paired.use(urls[name])
                    current = name

                def get(client=clients[name], url=url) -> None:
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)

                walls, cpus, _ = paired.sample(get, runs)
                figures[name][label] = paired.median_ms(walls)
                figures[name][f"{label} cpu"] = paired.median_ms(cpus)
        for name in urls:
            samples[name].append(figures[name])
    return samples


def _print(samples, by_round, sizes) -> None:
    small, large = (paired.medians(samples[name]) for name in ("small", "large"))
    ratios = paired.median_ratios(by_round)
    print(
        f"Inbox of one of {DEPARTMENTS} departments' managers; medians of "
        f"{len(samples['small'])} paired rounds (ms, and CPU ms of this process and "
        "its backend); ratio = median of the rounds' ratios large / small"
    )
    header = "".join(f"{open_:>8,} open ({seen} visible)" for open_, seen in sizes)
    print(f"{'':32}{header}{'ratio':>7}  rounds' ratios")
    for key, ratio in ratios.items():
        each = " ".join(f"{r:.2f}" for r in by_round[key])
        print(f"{key:32}{small[key]:>27}{large[key]:>27}{ratio:>7}  {each}")


def _plan_figures(manager) -> dict:
    """PostgreSQL's plans of the inbox's statements (printed) and their scans."""
    plans = _plans(manager)
    for label, plan in plans.items():
        print(f"\nPostgreSQL's plan, {label}:")
        print(plan)
    scans = [
        f"{label}: {line.strip()}"
        for label, plan in plans.items()
        for line in plan.splitlines()
        if "Scan" in line and "Bitmap Index" not in line
    ]
    print("\nTheir scans:", *scans, sep="\n  ")
    return {
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


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--small", type=int, default=1_000)
    args.add_argument("--large", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=30, help="requests per probe")
    args.add_argument("--rounds", type=int, default=6, help="paired rounds")
    args.add_argument("--json", help="also write the figures here (bench/run.py)")
    options = args.parse_args()
    large_url = os.environ["DATABASE_URL"]
    urls = {"small": large_url + "_small", "large": large_url}
    _fresh_database()
    django.setup()
    from django.core.management import call_command

    from tasks_app.models import HumanTask

    call_command("migrate", verbosity=0)
    random.seed(10)
    groups, named, requester, version = _setup()
    manager = named[0]
    common = dict(groups=groups, named=named, requester=requester, version=version)
    _fill(options.small, 0, common)
    paired.copy(large_url, urls["small"])  # the small database: a copy, then fill
    paired.use(large_url)
    _fill(options.large, options.small, common)
    sizes = []
    for url in urls.values():
        paired.use(url)
        open_tasks = HumanTask.objects.filter(status="open").count()
        sizes.append((open_tasks, _visible(manager)))
    samples = measure_rounds(urls, manager, options)
    by_round = paired.round_ratios(samples["small"], samples["large"])
    _print(samples, by_round, sizes)
    paired.use(large_url)
    print(f"\nAt {sizes[1][0]:,} open tasks:")
    plans = _plan_figures(manager)
    ratios = paired.median_ratios(by_round)
    wall = {label: ratios[label] for label in PROBES}
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "inbox_100k_vs_1k": max(wall.values()),
                    "inbox_ratios": wall,
                    "inbox_cpu_ratios": {
                        label: ratios[f"{label} cpu"] for label in PROBES
                    },
                    "inbox_round_ratios": by_round,
                    "inbox_sizes": [open_tasks for open_tasks, _ in sizes],
                    **plans,
                }
            )
        )


if __name__ == "__main__":
    main()
