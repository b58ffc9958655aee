"""Print whether issue #16's figures stay flat with data in the database (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_volume \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/volume.py \\
        [--cases 100000] [--steps 70] [--http 84] [--runs 42] [--rounds 7]

"Flat in data volume: every figure above measured again with 100,000 finished
cases and 1,000,000 audit events in the database stays within 1.2x of the empty
database." Measured on the nearly empty database and on the filled one:

  * the service step: `case_start` and `task_complete` (bench/advance.py), median
    ms, and the median CPU ms per case of this process and its PostgreSQL backend
    together (which the machine's load stretches less than wall-clock time);
  * over HTTP (gunicorn, one sequential keep-alive client, bench/run.py): start,
    find the task, complete, the whole case; and the CPU per case of the web
    workers and of their backends (every thread's, in ns from the scheduler);
  * the pages a user opens (Django's test client, medians): the manager's inbox
    (HTML, searched, API list and counts; bench/inbox.py's probes) and the
    cockpit as a process admin (bench/cockpit.py's probes); the CPU of each
    request, this process's and its backend's.

The fill copies finished cases that the service layer itself ran (`TEMPLATES` of
them) in bulk SQL, so every row is as the real code leaves it after completion:
the case and its state, the closed tasks (and their barred starter), the guardian
rows that stay (VIEW on the task and the case), the case's audit events as a
chain (each event's `prev_hash` is the previous event's `hash`; the hashes are
not recomputed from the payloads) and its chain head. Each copy gets its own ids
and times spread over the `--days` days before yesterday, behind the cockpit's
rollup mark (rolled up afresh, as the beat would have done): the history grows,
today's work is the same in both databases. 100,000 cases of the purchase
example make 1,200,000 audit events. Then VACUUM ANALYZE, as autovacuum would.

The method (bench/paired.py). The empty database (DATABASE_URL's name +
`_empty`, a copy made just before the fill) and the filled one are measured in
--rounds paired rounds, each with 1/rounds of the work. In a round every
segment (the service step; each page) is measured on one database and right
after on the other, a few seconds apart, the order alternating from segment to
segment and from round to round (A B, B A, …: each goes first as often); then
the HTTP cases alternate between the two servers case by case. Each round gives
each figure its own ratio filled / empty, and a figure's ratio is the *median of
its rounds' ratios*. The machine is shared: a burst of load in one round moves
that round's ratio (it used to decide the gate: the largest of ~30 ratios of
3-round medians swung 1.08-1.41 on the same code) but not the median; a figure
really higher on the filled database is higher in most rounds and keeps its
median over 1.2 (the table prints every round's ratio and how many were over).
Each call (a case, a request) is timed and its CPU read on its own, in ns
(process_time, /proc/…/schedstat); the smallest CPU figure is a few ms, far
above that resolution, and a round's figure is the median of its calls.

The ratios are written with --json (bench/run.py's `volume` part): per figure
`volume_ratios` (medians) and `volume_round_ratios` (every round's); the summary
`volume_max_ratio` is the largest CPU ratio (per step, per case over HTTP, per
page request: the process and its PostgreSQL backends), which the shared
machine's load does not stretch as it does wall-clock time
(`volume_max_wall_ratio`, the largest of all). Both databases are dropped and
created afresh: they are scratch databases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/cockpit.py is not the app
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

from bench import paired  # noqa: E402

TEMPLATES = 20  # finished cases run through the service layer, then copied
OPEN = 20  # cases left waiting at the manager's approval: the inbox's rows
FLAT = 1.2  # the target, filled / empty

# One copy's ids: derived from the template's id and the copy's number, so every
# table finds the same new id without a mapping table.
NEW_ID = "md5({src}::text || ':' || {g})::uuid"
# History: each copy at least a day old, so today's figures (which the cockpit
# reads live, not from its rollups) are the same in both databases.
SHIFT = "((({g} * %(spread)s)::bigint || ' seconds')::interval + interval '1 day')"


def _link(case: str, seq: str) -> str:
    """A copied event's hash: derived from its chain and place, distinct per row."""
    return f"encode(sha256(convert_to({case}::text || ':' || {seq}, 'UTF8')), 'hex')"


def _fill_statements() -> list[tuple[str, str]]:
    """Return (table, INSERT … SELECT) copying the template cases %(copies)s times."""
    case = NEW_ID.format(src="c.id", g="g")
    shift = SHIFT.format(g="g")
    templates = "SELECT id FROM bench_template"
    task_new = NEW_ID.format(src="t.id", g="g")
    event_case = NEW_ID.format(src="e.case_id", g="g")
    return [
        (
            "engine_case",
            f"""INSERT INTO engine_case (id, business_key, status, has_incident, data,
              active_elements, started_at, ended_at, next_timer_at, revision,
              idempotency_key, started_by_id, version_id, request_fingerprint,
              needs_attention)
            SELECT {case}, 'PO-' || g || '-' || left(c.id::text, 8), c.status,
              c.has_incident, c.data, c.active_elements, c.started_at - {shift},
              c.ended_at - {shift}, c.next_timer_at, c.revision, NULL,
              c.started_by_id, c.version_id, c.request_fingerprint, c.needs_attention
            FROM engine_case c, generate_series(1, %(copies)s) g
            WHERE c.id IN ({templates})""",
        ),
        (
            "engine_casestate",
            f"""INSERT INTO engine_casestate (case_id, state_json, serializer_version,
              revision, updated_at)
            SELECT {NEW_ID.format(src="c.case_id", g="g")}, c.state_json,
              c.serializer_version, c.revision, c.updated_at - {shift}
            FROM engine_casestate c, generate_series(1, %(copies)s) g
            WHERE c.case_id IN ({templates})""",
        ),
        (
            "tasks_app_humantask",
            f"""INSERT INTO tasks_app_humantask (id, spiff_task_id, bpmn_id, name,
              documentation, lane, candidate_groups, candidate_users, status, form,
              separate_from, due_at, follow_up_at, priority, created_at,
              completed_at, assignee_id, case_id, completed_by_id, owner_id, draft,
              business_data, overdue_notified_at, search_text, form_js, claimed_at,
              local_data)
            SELECT {task_new}, t.spiff_task_id, t.bpmn_id, t.name, t.documentation,
              t.lane, t.candidate_groups, t.candidate_users, t.status, t.form,
              t.separate_from, t.due_at - {shift}, t.follow_up_at - {shift},
              t.priority, t.created_at - {shift}, t.completed_at - {shift},
              t.assignee_id, {NEW_ID.format(src="t.case_id", g="g")},
              t.completed_by_id, t.owner_id, t.draft, t.business_data,
              t.overdue_notified_at, t.search_text, t.form_js, t.claimed_at - {shift},
              t.local_data
            FROM tasks_app_humantask t, generate_series(1, %(copies)s) g
            WHERE t.case_id IN ({templates})""",
        ),
        (
            "tasks_app_humantask_barred",
            f"""INSERT INTO tasks_app_humantask_barred (humantask_id, user_id)
            SELECT {task_new}, b.user_id
            FROM tasks_app_humantask_barred b
              JOIN tasks_app_humantask t ON t.id = b.humantask_id,
              generate_series(1, %(copies)s) g
            WHERE t.case_id IN ({templates})""",
        ),
        *(
            (
                table,
                f"""INSERT INTO {table} (object_pk, content_type_id, {owner},
                  permission_id)
                SELECT {NEW_ID.format(src="p.object_pk", g="g")}::text,
                  p.content_type_id, p.{owner}, p.permission_id
                FROM {table} p, generate_series(1, %(copies)s) g
                WHERE p.object_pk IN (
                  SELECT id::text FROM bench_template
                  UNION ALL SELECT id::text FROM tasks_app_humantask
                  WHERE case_id IN ({templates}))""",
            )
            for table, owner in (
                ("guardian_groupobjectpermission", "group_id"),
                ("guardian_userobjectpermission", "user_id"),
            )
        ),
        (
            "audit_auditevent",
            f"""INSERT INTO audit_auditevent (id, chain, chain_seq, at, actor_id,
              actor_repr, on_behalf_of, action, case_id, process_key, version_id,
              task_ref, payload, prev_hash, hash)
            SELECT gen_random_uuid(), 'case:' || {event_case},
              e.chain_seq, e.at - {shift}, e.actor_id, e.actor_repr, e.on_behalf_of,
              e.action, {event_case}, e.process_key,
              e.version_id,
              CASE WHEN t.id IS NULL THEN e.task_ref
                ELSE replace(e.task_ref, t.id::text, ({task_new})::text) END,
              CASE WHEN t.id IS NULL THEN e.payload
                ELSE replace(e.payload::text, t.id::text, ({task_new})::text)::jsonb
              END,
              CASE WHEN e.chain_seq = 1 THEN e.prev_hash
                ELSE {_link(event_case, "e.chain_seq - 1")}
              END,
              {_link(event_case, "e.chain_seq")}
            FROM audit_auditevent e
              LEFT JOIN tasks_app_humantask t
                ON t.case_id = e.case_id AND e.task_ref LIKE '%%:' || t.id::text,
              generate_series(1, %(copies)s) g
            WHERE e.case_id IN ({templates})""",
        ),
        (
            "audit_auditchainhead",
            f"""INSERT INTO audit_auditchainhead (chain, chain_seq, hash)
            SELECT 'case:' || {NEW_ID.format(src="c.id", g="g")}, h.chain_seq,
              {_link(NEW_ID.format(src="c.id", g="g"), "h.chain_seq")}
            FROM audit_auditchainhead h
              JOIN bench_template c ON h.chain = 'case:' || c.id::text,
              generate_series(1, %(copies)s) g""",
        ),
    ]


def fill(cases: int, days: int) -> dict:
    """Copy the finished template cases up to `cases` finished cases; return counts."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_template AS SELECT id FROM engine_case "
            "WHERE status = 'completed' ORDER BY started_at LIMIT %s",
            [TEMPLATES],
        )
        cursor.execute("SELECT count(*) FROM bench_template")
        templates = cursor.fetchone()[0]
        copies = max(1, (cases - templates) // templates)
        params = {"copies": copies, "spread": days * 86400 // copies}
        seconds = {}
        with transaction.atomic():
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # Foreign keys checked by each insert, not at COMMIT: an index cannot
            # be built while checks are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, sql in _fill_statements():
                started = time.perf_counter()
                # A bulk load: the plain indexes are built again after it, from
                # their own definitions (sorted builds, not a million random
                # inserts); the constraints' indexes are kept up as rows come.
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    [table],
                )
                plain = cursor.fetchall()
                for name, _ in plain:
                    cursor.execute(f'DROP INDEX "{name}"')
                cursor.execute(sql, params)
                for _, definition in plain:
                    cursor.execute(definition)
                seconds[table] = round(time.perf_counter() - started, 1)
        cursor.execute("DROP TABLE bench_template")
        counts = {}
        for table in ("engine_case", "audit_auditevent", "tasks_app_humantask"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            counts[table] = cursor.fetchone()[0]
    print(f"bench: filled in {seconds} s: {counts}", flush=True)
    return counts


def _setup():
    """The users of bench/advance.py, a process admin, the example deployed."""
    import advance
    from django.contrib.auth.models import Group

    from processes.services import version_upload
    from tasks_app.roles import roles_ensure

    roles_ensure()
    users = advance._setup_users()
    admin = users["b-analyst"]
    admin.groups.add(Group.objects.get(name="process-admins"))
    version_upload(
        user=admin,
        bpmn=advance.EXAMPLE.read_bytes(),
        filename=advance.EXAMPLE.name,
    )
    return users


def _open_cases(users, count: int) -> None:
    from engine.services import case_start

    for _ in range(count):
        case_start(
            user=users["b-requester"],
            key="purchase_request",
            data={"amount": 120, "justification": "A laptop"},
        )


def measure_step(cases: int) -> dict:
    """The service step on the current database: `cases` whole cases (start and
    the two approvals) after one warm-up case."""
    import advance

    one_case = advance._laneway_setup()  # users and the example: not measured
    _, cpus, times = paired.sample(one_case, cases)
    approvals = ("manager approval", "finance approval")
    steps = [t[step] for t in times for step in approvals]
    return {
        "service_start_ms": paired.median_ms([t["start"] for t in times]),
        "service_complete_ms": paired.median_ms(steps),
        "service_cpu_ms_per_case": paired.median_ms(cpus),
    }


def measure_page(client, label: str, url: str, runs: int) -> dict:
    """One page on the current database: `runs` requests after one warm-up."""

    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    walls, cpus, _ = paired.sample(get, runs)
    return {
        f"{label} ms": paired.median_ms(walls),
        f"{label} cpu_ms": paired.median_ms(cpus),
    }


@contextmanager
def http_servers(urls: dict[str, str]) -> Iterator[tuple[dict, dict]]:
    """A gunicorn (2 workers, as scripts/run) on each database, warmed up;
    yield each one's API clients (by user) and worker pids."""
    import run

    servers, apis = {}, {}
    try:
        for offset, (name, url) in enumerate(urls.items()):
            paired.use(url)  # the server takes DATABASE_URL, the tokens are this one's
            port = 17600 + os.getpid() % 1000 * 2 + offset
            tokens = run._tokens()
            servers[name] = run._server(port, workers=2)
            apis[name] = {user: run._Api(port, key) for user, key in tokens.items()}
        for _ in range(10):  # warm both workers' caches and connections
            for name in urls:
                run._whole_case(apis[name], None)
        # After the warm-up: a server answers before its last worker has started.
        yield apis, {name: run._children(s.pid) for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(30)


def measure_http(urls: dict[str, str], servers, cases: int, order: tuple) -> dict:
    """One round of the HTTP figures of each database: one sequential client
    taking a whole case from each in turn (which goes first alternates), so
    the machine's load at any moment hits both alike; the CPU per case of the
    web workers and of their PostgreSQL backends over the round."""
    import run

    apis, workers = servers
    timings = {name: {k: [] for k in run.HTTP_TIMINGS} for name in urls}

    def cpu(name: str) -> tuple[dict, dict]:
        database = urls[name].rsplit("/", 1)[1]
        backends = paired.threads_cpu(run._backends(database))
        return backends, paired.threads_cpu(workers[name])

    before = {name: cpu(name) for name in urls}
    for case in range(cases):
        for name in order[:: 1 if case % 2 == 0 else -1]:
            run._whole_case(apis[name], timings[name])
    after = {name: cpu(name) for name in urls}
    return {
        name: run.http_figures(timings[name], before[name], after[name], cases)
        for name in urls
    }


def _prepare(url: str) -> None:
    """Create, migrate and set up a database: users, TEMPLATES finished cases,
    OPEN cases waiting for the manager."""
    import advance
    from django.core.management import call_command

    from bench.inbox import _fresh_database

    os.environ["DATABASE_URL"] = url
    _fresh_database()
    paired.use(url)
    call_command("migrate", verbosity=0)
    _open_cases(_setup(), OPEN)
    advance.laneway_end_to_end(TEMPLATES)


def _segments() -> list[tuple[str, str, str]]:
    """What one round measures on each database in turn: the service step,
    then each page as the user who opens it (user, label, url)."""
    from bench.cockpit import PROBES as COCKPIT
    from bench.inbox import PROBES as INBOX

    pages = [
        (user, label, url)
        for user, probes in (("b-manager", INBOX), ("b-analyst", COCKPIT))
        for label, url in probes.items()
    ]
    return [("", "step", ""), *pages]


def _clients(urls: dict[str, str]) -> dict[str, dict]:
    """Each database's rollups rebuilt (what the beat did as the cases came) and
    a logged-in test client per user (the session is in that database)."""
    from django.test import Client

    from cockpit.rollups import rollup

    clients: dict[str, dict] = {}
    for name, url in urls.items():
        paired.use(url)
        rollup(rebuild=True)
        users = _setup()
        clients[name] = {}
        for user in ("b-manager", "b-analyst"):
            clients[name][user] = Client(HTTP_HOST="localhost")
            clients[name][user].force_login(users[user])
    return clients


def measure_rounds(urls: dict[str, str], options) -> dict[str, list[dict]]:
    """Each database's figures in each of --rounds rounds (1/rounds of the work
    each): every segment on one database then the other (`paired.orders`),
    then the HTTP cases alternating between them."""
    from cockpit.rollups import rollup

    rounds = options.rounds
    steps, runs, http = (
        max(2, n // rounds) for n in (options.steps, options.runs, options.http)
    )
    clients, segments, names = _clients(urls), _segments(), tuple(urls)
    samples: dict[str, list[dict]] = {name: [] for name in urls}
    with http_servers(urls) as servers:
        current = None
        for round_ in range(rounds):
            figures: dict[str, dict] = {name: {} for name in urls}
            orders = paired.orders(names, round_, len(segments))
            for (user, label, url), order in zip(segments, orders, strict=True):
                for name in order:
                    if name != current:
                        paired.use(urls[name])
                        current = name
                    if not user:
                        figures[name].update(measure_step(steps))
                        rollup()  # the beat rolls the new cases up: not measured
                        continue
                    page = measure_page(clients[name][user], label, url, runs)
                    figures[name].update(page)
            order = names if round_ % 2 == 0 else names[::-1]
            for name, http_figures in measure_http(urls, servers, http, order).items():
                samples[name].append({**figures[name], **http_figures})
    return samples


def summary(samples: dict[str, list[dict]]) -> dict:
    """The figures of bench/run.py's `volume` part from the rounds' figures:
    each figure's ratio is the median of its rounds' ratios filled / empty;
    `volume_max_ratio` the largest of the CPU ones."""
    by_round = paired.round_ratios(samples["empty"], samples["filled"])
    ratios = paired.median_ratios(by_round)
    # CPU time (this process and its backend; the web workers and theirs) is
    # what the machine's load does not stretch: the summary is read from it.
    cpu = {key: ratio for key, ratio in ratios.items() if "cpu_ms" in key}
    worst = max(cpu, key=cpu.__getitem__)
    return {
        "volume_max_ratio": cpu[worst],
        "volume_max_ratio_figure": worst,
        "volume_max_wall_ratio": max(ratios.values()),
        "volume_ratios": ratios,
        "volume_round_ratios": by_round,
        "volume_over": sorted(key for key, ratio in ratios.items() if ratio > FLAT),
        "volume_empty": paired.medians(samples["empty"]),
        "volume_filled": paired.medians(samples["filled"]),
        "volume_samples": samples,  # every round's figures, for a closer look
    }


def _print(figures: dict, rounds: int) -> None:
    empty, filled = figures["volume_empty"], figures["volume_filled"]
    print(
        f"bench: volume, {figures['volume_cases']:,} cases, "
        f"{figures['volume_audit_events']:,} audit events "
        f"({figures['volume_fill_seconds']} s to fill); {rounds} paired rounds: "
        "ratio = median of the rounds' ratios filled / empty"
    )
    print(f"{'':36}{'empty':>9}{'filled':>9}{'ratio':>7}  rounds' ratios")
    for key, ratio in figures["volume_ratios"].items():
        each = figures["volume_round_ratios"][key]
        over = sum(r > FLAT for r in each)
        mark = f"  over ({over}/{len(each)} rounds)" if ratio > FLAT else ""
        rounds_text = " ".join(f"{r:.2f}" for r in each)
        print(f"{key:36}{empty[key]:>9}{filled[key]:>9}{ratio:>7}  {rounds_text}{mark}")
    print(
        f"bench: volume_max_ratio {figures['volume_max_ratio']} "
        f"({figures['volume_max_ratio_figure']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--steps", type=int, default=70, help="service-layer cases")
    parser.add_argument("--http", type=int, default=84, help="cases over HTTP")
    parser.add_argument("--runs", type=int, default=42, help="requests per page")
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="paired rounds: each figure on the empty and the filled database",
    )
    parser.add_argument("--json", help="also write the figures here (bench/run.py)")
    options = parser.parse_args()
    from bench.inbox import _analyze

    filled_url = os.environ["DATABASE_URL"]
    empty_url = filled_url + "_empty"
    django.setup()
    from django.db import connection

    _prepare(filled_url)
    paired.copy(filled_url, empty_url)  # the same database, before the fill
    paired.use(empty_url)
    _analyze()
    paired.use(filled_url)
    started = time.perf_counter()
    counts = fill(options.cases, options.days)
    _analyze()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # the fill's writes are not what is measured
    fill_seconds = round(time.perf_counter() - started, 1)
    samples = measure_rounds({"empty": empty_url, "filled": filled_url}, options)
    paired.use(filled_url)
    figures = {
        **summary(samples),
        "volume_rounds": options.rounds,
        "volume_cases": counts["engine_case"],
        "volume_audit_events": counts["audit_auditevent"],
        "volume_fill_seconds": fill_seconds,
    }
    _print(figures, options.rounds)
    if options.json:
        Path(options.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
