"""Issue #16's figures in one run: writes bench/results.json and bench/RESULTS.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/run.py [--quick]

Every target is a ratio against a baseline measured in the same run (the machine
is shared and noisy), except where the issue names a fixed figure. The scratch
databases are DATABASE_URL's name, and that name with `_inbox`, `_inbox_small`,
`_audit`, `_workers`, `_volume` and `_volume_empty` appended (the inbox, export and
volume parts drop and fill their own).
`--quick` (<= 2 minutes) measures fewer cases and smaller data; its ratios are
indicative only.

Parts, reusing the older scripts of bench/:
* step: one human step through the service layer (advance.py) vs plain
  SpiffWorkflow with serialization; SQL statements per step;
* http: a real gunicorn (2 workers, as scripts/run) and one sequential
  keep-alive client: start, find the task, complete; then 8 clients for
  throughput, with the CPU the web workers and the PostgreSQL backends used;
* loop: the rework loop, step time and stored state at loop 1,000 vs loop 1
  (prune_and_sandbox.py);
* inbox: 100,000 vs 1,000 open tasks (inbox.py); export: audit JSON Lines
  export vs COPY, peak RSS (audit_export.py);
* volume: the step, HTTP and page figures again with 100,000 finished cases
  and 1,200,000 audit events, as ratios to the empty database (volume.py);
* workers: Celery workers of concurrency 2 vs 1 on a 50 ms operation (workers.py);
  it purges REDIS_URL's queue: give the benchmark its own Redis database;
* deploy: a 500-element diagram's upload vs plain SpiffWorkflow's parse + XSD
  + spec by CPU time (and vs lxml parse + XSD alone: see RESULTS.md); the widest
  diagram the upload's element limit lets through.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")  # as in production: no query log
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway_bench"
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
PYTHON = sys.executable

# The issue's measurements on this machine kind (today's Laneway, SpiffArena).
ISSUE = {
    "laneway_complete_ms": 31.5,
    "laneway_lookup_ms": 18.6,
    "laneway_case_ms": 178.0,
    "laneway_cases_per_s": 6.4,  # 8 clients, 2 workers
    "laneway_pg_core_share": 1.185,  # of one core during that run
    "spiffarena_complete_ms": 46.0,
    "spiffarena_lookup_ms": 15.0,
    "spiffarena_case_ms": 233.0,
}
KEYS = (
    "step_ratio",
    "queries_per_step",
    "http_complete_p50_ms",
    "http_lookup_p50_ms",
    "http_case_p50_ms",
    "cases_per_s_per_core",
    "pg_cpu_per_case_ratio",
    "loop1000_time_ratio",
    "loop1000_size_ratio",
    "inbox_100k_vs_1k",
    "export_vs_copy",
    "export_peak_rss_mb",
    "workers_2_vs_1",
    "deploy_ratio",
    "volume_max_ratio",
)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# -- step ---------------------------------------------------------------------------
def part_step(cases: int) -> dict:
    import advance  # bench/advance.py

    _analyze()  # as the http part: the database keeps every earlier run's rows
    laneway, raw = advance.side_by_side(cases)
    steps = ("manager approval", "finance approval")
    lane_ms = _median_ms([s for step in steps for s in laneway[step]])
    raw_ms = _median_ms([s for step in steps for s in raw[step]])
    return {
        "service_complete_ms": lane_ms,
        "service_start_ms": _median_ms(laneway["start"]),
        "spiff_step_ms": raw_ms,
        "spiff_start_ms": _median_ms(raw["start"]),
        "step_ratio": round(lane_ms / raw_ms, 2),
    }


def part_queries() -> dict:
    import advance
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engine.services import case_start
    from tasks_app.models import HumanTask
    from tasks_app.services import task_complete

    users = advance._setup_users()
    with CaptureQueriesContext(connection) as started:
        case, _ = case_start(
            user=users["b-requester"],
            key="purchase_request",
            data={"amount": 120, "justification": "Benchmark"},
        )
    task = HumanTask.objects.get(case=case, status="open")
    with CaptureQueriesContext(connection) as completed:
        task_complete(user=users["b-manager"], task_id=task.pk, data={"approved": True})
    return {
        "queries_per_step": len(completed.captured_queries),
        "queries_per_start": len(started.captured_queries),
        "complete_statements": [q["sql"][:120] for q in completed.captured_queries],
    }


# -- http ---------------------------------------------------------------------------
class _Api:
    """One keep-alive connection sending a user's token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Host": "localhost",
        }

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()  # the server closed an idle keep-alive connection
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
        data = response.read()
        assert response.status < 300, (method, path, response.status, data[:300])
        return json.loads(data)


def _tokens() -> dict[str, str]:
    import advance
    from rest_framework.authtoken.models import Token

    users = advance._setup_users()
    return {
        name: Token.objects.get_or_create(user=user)[0].key
        for name, user in users.items()
    }


HTTP_TIMINGS = ("start", "lookup", "complete", "case")  # `_whole_case`'s


def _whole_case(apis: dict[str, _Api], timings: dict[str, list[float]] | None) -> None:
    def timed(label: str, fn):
        started = time.perf_counter()
        result = fn()
        if timings is not None:
            timings[label].append(time.perf_counter() - started)
        return result

    case_started = time.perf_counter()
    case = timed(
        "start",
        lambda: apis["b-requester"].call(
            "POST",
            "/api/v1/cases/",
            {
                "process": "purchase_request",
                "data": {"amount": 120, "justification": "Benchmark"},
            },
        ),
    )
    for user, data in (
        ("b-manager", {"approved": True}),
        ("b-finance", {"finance_approved": True}),
    ):
        api = apis[user]
        found = timed(
            "lookup",
            lambda api=api: api.call("GET", f"/api/v1/tasks/?case={case['id']}"),
        )
        rows = found["results"] if isinstance(found, dict) else found
        task_id = rows[0]["id"]
        timed(
            "complete",
            lambda api=api, task_id=task_id, data=data: api.call(
                "POST", f"/api/v1/tasks/{task_id}/complete/", {"data": data}
            ),
        )
    if timings is not None:
        timings["case"].append(time.perf_counter() - case_started)


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Return each live process's CPU seconds so far (user + system).

    A single-threaded process (a PostgreSQL backend) is read from the
    scheduler's count in ns (/proc/PID/schedstat, the one thread's) where the
    kernel keeps it: /proc/PID/stat counts whole clock ticks (10 ms), as much
    as a few cases' worth of a backend's CPU.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            if len(os.listdir(f"/proc/{pid}/task")) == 1:
                ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
                if ns:
                    seconds[pid] = ns / 1e9
                    continue
        except (OSError, ValueError, IndexError):
            pass  # no schedstat: the ticks
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared meanwhile counts from zero; one that ended, not at all.
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _backends(database: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
            "pg_backend_pid()",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


def _analyze() -> None:
    """Vacuum and bring the planner's statistics up to date, as autovacuum does
    on a production server: the benchmark's database keeps the rows of every
    earlier run, and a server with autovacuum off (this machine kind's) plans
    with row counts from before them (e.g. a hashed read of every group grant
    instead of an index probe per task) and reads index entries of every row
    version a completion left behind (a task's 'open' entry in the status index
    stays until a vacuum: 20,000 of them made finding a task 2x slower)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _server(
    port: int, workers: int, root: Path = ROOT, conn_max_age: int = 600
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "API_THROTTLE_USER": "1000000/minute",
        "CACHE_URL": os.environ["REDIS_URL"],
        # Longer than any window the benchmark measures: the backends it follows
        # (PostgreSQL's CPU per case) must not be replaced meanwhile.
        "DB_CONN_MAX_AGE": str(conn_max_age),
    }
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--keep-alive",
            "75",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
    )
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (
                    int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    == pid
                ):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def part_http(
    cases: int, seconds: float, clients: int, root: Path = ROOT, prefix: str = ""
) -> dict:
    """Latency and throughput over HTTP; `root` may be another checkout's tree
    (--before), whose figures are then named with `prefix`. `seconds` 0: no
    throughput window."""
    from django.conf import settings

    port = 18600 + os.getpid() % 1000 + (1 if prefix else 0)
    tokens = _tokens()
    _analyze()
    # Connections outlive the throughput window, so its backends can be followed.
    server = _server(port, workers=2, root=root, conn_max_age=int(seconds) + 600)
    try:
        result = http_latencies(port, tokens, server, cases, settings)
        if seconds:
            result.update(_throughput(port, tokens, server, seconds, clients, settings))
    finally:
        server.terminate()
        server.wait(30)
    return {f"{prefix}{key}": value for key, value in result.items()}


def http_latencies(port, tokens, server, cases, settings) -> dict:
    """Median ms of start, find, complete and the whole case, one sequential
    client; and the CPU the web workers and their database backends used per case."""
    apis = {name: _Api(port, token) for name, token in tokens.items()}
    for _ in range(5):
        _whole_case(apis, None)  # warm both workers' caches and connections
    timings: dict[str, list[float]] = {k: [] for k in HTTP_TIMINGS}
    workers = _children(server.pid)
    database = settings.DATABASES["default"]["NAME"]
    before = _cpu_seconds(_backends(database)), _cpu_seconds(workers)
    for _ in range(cases):
        _whole_case(apis, timings)
    after = _cpu_seconds(_backends(database)), _cpu_seconds(workers)
    return http_figures(timings, before, after, cases)


def http_figures(timings, before, after, cases: int) -> dict:
    """The figures of `cases` whole cases: median ms of each request kind, and
    the CPU ms per case of the backends and the web workers (`before` and
    `after`: `_cpu_seconds` of each, in that order)."""
    return {
        "http_start_p50_ms": _median_ms(timings["start"]),
        "http_lookup_p50_ms": _median_ms(timings["lookup"]),
        "http_complete_p50_ms": _median_ms(timings["complete"]),
        "http_case_p50_ms": _median_ms(timings["case"]),
        "http_pg_cpu_ms_per_case": round(_used(before[0], after[0]) / cases * 1e3, 2),
        "http_web_cpu_ms_per_case": round(_used(before[1], after[1]) / cases * 1e3, 1),
    }


def _throughput(port, tokens, server, seconds, clients, settings) -> dict:
    done = [0] * clients
    stop = threading.Event()

    def client(index: int) -> None:
        apis = {name: _Api(port, token) for name, token in tokens.items()}
        while not stop.is_set():
            _whole_case(apis, None)
            done[index] += 1

    workers = _children(server.pid)
    database = settings.DATABASES["default"]["NAME"]
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(min(3.0, seconds / 4))  # every client and backend running
    before = sum(done), _cpu_seconds(_backends(database)), _cpu_seconds(workers)
    started = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    after = sum(done), _cpu_seconds(_backends(database)), _cpu_seconds(workers)
    stop.set()
    for thread in threads:
        thread.join()
    cases = after[0] - before[0]
    # Only persistent connections can be followed: with a connection per request
    # (DB_CONN_MAX_AGE=0) the backends are gone before they are read.
    pg_followed = bool(set(before[1]) & set(after[1]))
    pg_per_case = _used(before[1], after[1]) / max(cases, 1)
    web_per_case = _used(before[2], after[2]) / max(cases, 1)
    per_s = cases / elapsed
    # The issue's PostgreSQL CPU per case: 118.5% of a core at 6.4 cases/s, ~185 ms.
    baseline = ISSUE["laneway_pg_core_share"] / ISSUE["laneway_cases_per_s"]
    print(
        f"bench: where the time goes, {clients} clients, {per_s:.2f} cases/s: web "
        f"workers {web_per_case * 1000:.1f} ms CPU per case, PostgreSQL backends "
        + (
            f"{pg_per_case * 1000:.1f} ms ({pg_per_case / baseline:.2f} x the "
            f"issue's {baseline * 1000:.0f} ms)"
            if pg_followed
            else "not followed (their connections were replaced)"
        ),
        flush=True,
    )
    return {
        "throughput_clients": clients,
        "cases_per_s": round(per_s, 2),
        "cases_per_s_per_core": round(per_s / (os.cpu_count() or 1), 2),
        "pg_cpu_ms_per_case": round(pg_per_case * 1000, 1) if pg_followed else None,
        "web_cpu_ms_per_case": round(web_per_case * 1000, 1),
        "pg_cpu_per_case_ratio": round(pg_per_case / baseline, 2)
        if pg_followed
        else None,
    }


# -- loop, deploy ---------------------------------------------------------------------
def part_loop(loops: int) -> dict:
    import prune_and_sandbox

    rows = prune_and_sandbox.laneway_rows([1, loops])
    (_, size1, ms1), (_, size_n, ms_n) = rows
    return {
        "loops": loops,
        "loop1000_time_ratio": round(ms_n / ms1, 2),
        "loop1000_size_ratio": round(size_n / size1, 2),
    }


def _diagram(elements: int) -> bytes:
    tasks = (elements - 3) // 2  # start, end, tasks and the flows between them
    nodes = [f'<bpmn:userTask id="t{i}" name="Step {i}"/>' for i in range(tasks)]
    chain = ["start", *[f"t{i}" for i in range(tasks)], "end"]
    flows = [
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
    ]
    return _definitions("big_chain", "".join(nodes) + "".join(flows))


def _definitions(key: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="defs" targetNamespace="http://bench">'
        f'<bpmn:process id="{key}" name="Big {key}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        + body
        + '<bpmn:endEvent id="end"/>'
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def _wide_diagram(elements: int) -> bytes:
    """A parallel split into as many user tasks as `elements` allows, joined."""
    tasks = (elements - 7) // 3  # each task: itself and two flows
    body = (
        '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>'
        '<bpmn:sequenceFlow id="in" sourceRef="start" targetRef="split"/>'
        '<bpmn:sequenceFlow id="out" sourceRef="join" targetRef="end"/>'
    )
    for i in range(tasks):
        body += (
            f'<bpmn:userTask id="t{i}"/>'
            f'<bpmn:sequenceFlow id="a{i}" sourceRef="split" targetRef="t{i}"/>'
            f'<bpmn:sequenceFlow id="b{i}" sourceRef="t{i}" targetRef="join"/>'
        )
    return _definitions("big_wide", body)


def _timed(run, times: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds of each of `times` runs (and this process's CPU in `cpu`)."""
    samples = []
    for _ in range(times):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        samples.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - started_cpu)
    return samples


def part_deploy(runs: int) -> dict:
    """The upload of a 501-element diagram through the service layer.

    `deploy_ratio`'s baseline is plain SpiffWorkflow reading the same file as
    SpiffArena does at least (its parser with its XSD validator, building the
    spec), which any engine that checks a diagram by building what runs it pays,
    by CPU time; lxml parse + XSD validation alone is `deploy_vs_lxml_xsd` (see
    RESULTS.md).
    """
    import advance
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from lxml import etree
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

    from engine.spiff import bundle_compile
    from engine.spiff.limits import MAX_ELEMENTS
    from processes.services import version_upload

    analyst = advance._setup_users()["b-analyst"]
    xml = _diagram(501)
    validator = BpmnValidator()

    def spiff() -> None:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_xml(etree.fromstring(xml), filename="big_chain.bpmn")
        parser.get_spec("big_chain")

    def upload(body: bytes, name: str) -> None:
        version_upload(user=analyst, bpmn=body, filename=name)

    spiff()  # imports and caches warm
    plain, spiff_parse, compiled, deploy = [], [], [], []
    plain_cpu: list[float] = []
    deploy_cpu: list[float] = []
    spiff_cpu: list[float] = []
    compiled_cpu: list[float] = []
    for run in range(runs):
        check = lambda: validator.validate(etree.fromstring(xml))  # noqa: E731
        plain += _timed(check, 5, plain_cpu)
        spiff_parse += _timed(spiff, 1, spiff_cpu)
        compile_ = lambda: bundle_compile(xml, known_operations=())  # noqa: E731
        compiled += _timed(compile_, 1, compiled_cpu)
        changed = xml.replace(b'name="Step 0"', f'name="Step 0 r{run}"'.encode())
        deploy += _timed(lambda b=changed: upload(b, "big_chain.bpmn"), 1, deploy_cpu)
    with CaptureQueriesContext(connection) as queries:
        upload(xml.replace(b'name="Step 0"', b'name="Step 0 q"'), "big_chain.bpmn")
    wide = _wide_diagram(MAX_ELEMENTS)
    widest = _timed(
        lambda: upload(wide.replace(b"Big big_wide", f"w{time.time()}".encode()), "w"),
        max(1, runs // 2),
    )
    return {
        "deploy_ms": _median_ms(deploy),
        "deploy_compile_ms": _median_ms(compiled),
        "deploy_queries": len(queries.captured_queries),
        "parse_xsd_ms": _median_ms(plain),
        "spiff_parse_ms": _median_ms(spiff_parse),
        "deploy_vs_spiff_parse": round(
            statistics.median(deploy) / statistics.median(spiff_parse), 2
        ),
        "deploy_widest_ms": _median_ms(widest),
        "deploy_widest_elements": MAX_ELEMENTS,
        "deploy_cpu_ms": _median_ms(deploy_cpu),
        "deploy_compile_cpu_ms": _median_ms(compiled_cpu),
        "spiff_parse_cpu_ms": _median_ms(spiff_cpu),
        "compile_vs_spiff_parse_cpu": round(
            statistics.median(compiled_cpu) / statistics.median(spiff_cpu), 2
        ),
        "parse_xsd_cpu_ms": _median_ms(plain_cpu),
        # The issue's "plain parse + XSD": plain SpiffWorkflow's parser with its
        # XSD validator (building the spec), by this process's CPU time, which the
        # machine's load does not stretch (see RESULTS.md's notes).
        "deploy_ratio": round(
            statistics.median(deploy_cpu) / statistics.median(spiff_cpu), 2
        ),
        # lxml parse + XSD alone, by wall clock (the earlier definition).
        "deploy_vs_lxml_xsd": round(
            statistics.median(deploy) / statistics.median(plain), 2
        ),
    }


# -- parts in their own databases ----------------------------------------------------
def _subpart(script: str, suffix: str, args: list[str]) -> dict:
    out = BENCH / f".{script}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"] + suffix}
    env.setdefault("SECRET_KEY", "bench-only")
    _ensure_database(env["DATABASE_URL"])
    subprocess.run(
        [PYTHON, str(BENCH / script), *args, "--json", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    result = json.loads(out.read_text())
    out.unlink()
    return result


def _machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_mb": memory,
        "python": platform.python_version(),
        "postgresql": pg,
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


# key: (target as text, passes(value, details) or None when there is no gate)
TARGETS = {
    "step_ratio": ("<= 3 x plain SpiffWorkflow step", lambda v, d: v <= 3),
    "queries_per_step": ("<= 10 round trips", lambda v, d: v <= 10),
    "http_complete_p50_ms": (
        "<= 8 ms; <= 2 x the service step",
        lambda v, d: v <= 2 * d["service_complete_ms"],
    ),
    "http_lookup_p50_ms": ("<= 4 ms", lambda v, d: v <= 4),
    "http_case_p50_ms": ("<= 45 ms", lambda v, d: v <= 45),
    "cases_per_s_per_core": (
        ">= 3 x today's (3.2/core: 6.4 cases/s on 2 cores)",
        lambda v, d: v >= 3 * ISSUE["laneway_cases_per_s"] / 2,
    ),
    "pg_cpu_per_case_ratio": ("<= 1/3 of today's", lambda v, d: v <= 1 / 3),
    "loop1000_time_ratio": ("<= 1.2", lambda v, d: v <= 1.2),
    "loop1000_size_ratio": ("<= 1.2", lambda v, d: v <= 1.2),
    "inbox_100k_vs_1k": ("<= 2", lambda v, d: v <= 2),
    "export_vs_copy": (">= 1/3 of COPY's rate", lambda v, d: v >= 1 / 3),
    "export_peak_rss_mb": ("<= 150 MB", lambda v, d: v <= 150),
    "workers_2_vs_1": (">= 1.7", lambda v, d: v >= 1.7),
    "deploy_ratio": (
        "<= 2 x plain SpiffWorkflow parse + XSD (CPU)",
        lambda v, d: v <= 2,
    ),
    "volume_max_ratio": (
        "<= 1.2: each figure, 100,000 finished cases vs empty",
        lambda v, d: v <= 1.2,
    ),
}
NOTES_MARK = "<!-- notes: kept when bench/run.py rewrites the table above -->"


def results_md(results: dict, previous: Path) -> str:
    """Return RESULTS.md: the table and machine of this run, then the kept notes."""
    details = results["details"]
    machine = details["machine"]
    lines = [
        "# Benchmark results (issue #16)",
        "",
        f"Written by `bench/run.py{' --quick' if details['quick'] else ''}` "
        f"({details.get('seconds_total', '?')} s). Machine: {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_mb']:,} MB, Python "
        f"{machine['python']}, PostgreSQL {machine['postgresql']} on loopback; "
        f"load average {machine['load_average_at_start']} at the start "
        "(the machine is shared: ratios measured in the same run are the figures "
        "to trust).",
        "",
        "| key | target | measured | met |",
        "|---|---|---:|:-:|",
    ]
    for key in KEYS:
        target, passes = TARGETS[key]
        value = results[key]
        if value is None:
            met, shown = "—", f"null ({results['missing'].get(key, '')})"
        else:
            try:
                met = "yes" if passes(value, details) else "no"
            except (KeyError, TypeError):
                met = "?"
            shown = str(value)
        lines.append(f"| `{key}` | {target} | {shown} | {met} |")
    lines += [
        "",
        "Over HTTP, for orientation (median ms; the issue's measurements of today's "
        "Laneway and of SpiffArena on this machine kind, a 3-step approval; this run "
        "uses the purchase example, 2 human steps, 5 requests per case):",
        "",
        "| | this run | before, same run (--before) | Laneway before (issue) "
        "| SpiffArena (issue) |",
        "|---|---:|---:|---:|---:|",
        f"| start a case | {details.get('http_start_p50_ms')} "
        f"| {details.get('before_http_start_p50_ms', '—')} | 25.1 | 47.6 |",
        f"| find the task | {results['http_lookup_p50_ms']} "
        f"| {details.get('before_http_lookup_p50_ms', '—')} | 18.6 | 15.0 |",
        f"| complete a task | {results['http_complete_p50_ms']} "
        f"| {details.get('before_http_complete_p50_ms', '—')} | 30–33 | 44–48 |",
        f"| whole case | {results['http_case_p50_ms']} "
        f"| {details.get('before_http_case_p50_ms', '—')} | 178 (7 requests) | 233 |",
        f"| cases/s, 8 clients | {details.get('cases_per_s')} "
        f"| {details.get('before_cases_per_s', '—')} | 6.4 | 6.5 |",
        f"| PostgreSQL CPU ms per case | {details.get('pg_cpu_ms_per_case')} "
        f"| {details.get('before_pg_cpu_ms_per_case') or 'n/a (1 connection/request)'} "
        "| ~185 | — |",
        "",
        "Where the time goes (8 clients, 2 gunicorn workers): "
        f"web workers {details.get('web_cpu_ms_per_case')} ms CPU per case, "
        f"PostgreSQL backends {details.get('pg_cpu_ms_per_case')} ms CPU per case "
        f"({details.get('cases_per_s')} cases/s); "
        f"{results['queries_per_step']} round trips per completed task "
        f"(BEGIN and COMMIT included), {details.get('queries_per_start')} per start.",
        "",
        "Deploy of the 501-element diagram (median ms): the upload "
        f"{details.get('deploy_ms')} ({details.get('deploy_queries')} SQL statements), "
        f"of which checking and compiling {details.get('deploy_compile_ms')}; lxml "
        f"parse + XSD {details.get('parse_xsd_ms')} "
        f"(x{details.get('deploy_vs_lxml_xsd')}); plain SpiffWorkflow parse + XSD + "
        f"spec {details.get('spiff_parse_ms')} "
        f"(x{details.get('deploy_vs_spiff_parse')}). CPU time of this process "
        "(`deploy_ratio`: the upload over plain SpiffWorkflow), "
        "which the machine's load does not stretch: the upload "
        f"{details.get('deploy_cpu_ms')}, checking and compiling "
        f"{details.get('deploy_compile_cpu_ms')}, lxml parse + XSD "
        f"{details.get('parse_xsd_cpu_ms')}, plain SpiffWorkflow "
        f"{details.get('spiff_parse_cpu_ms')}: checking and compiling alone "
        f"x{details.get('compile_vs_spiff_parse_cpu')} of plain SpiffWorkflow, "
        f"the whole upload x{results.get('deploy_ratio')}. The widest diagram the "
        f"element limit ({details.get('deploy_widest_elements')}) lets through: "
        f"{details.get('deploy_widest_ms')} ms.",
        "",
    ]
    notes = ""
    if previous.exists() and NOTES_MARK in previous.read_text():
        notes = previous.read_text().split(NOTES_MARK, 1)[1]
    return "\n".join(lines) + "\n" + NOTES_MARK + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="<= 2 minutes")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    parser.add_argument(
        "--before",
        help="a checkout of the code before (same schema): its HTTP figures are "
        "measured in the same run, for same-run ratios (part 'before')",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts to run again, merged into --out's figures",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to leave out (e.g. inbox)"
    )
    options = parser.parse_args()
    quick, skip = options.quick, set(filter(None, options.skip.split(",")))
    only = set(filter(None, options.only.split(",")))
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    figures: dict = {"quick": quick, "machine": _machine()}
    if only and Path(options.out).exists():  # the other parts' figures stay
        kept = json.loads(Path(options.out).read_text())
        figures = {
            **kept["details"],
            **{k: kept[k] for k in KEYS if kept.get(k) is not None},
            **figures,
        }
    reasons: dict[str, str] = {}
    plan = [
        ("step", lambda: part_step(20 if quick else 200)),
        ("queries", part_queries),
        ("http", lambda: part_http(10 if quick else 200, 6 if quick else 60, 8)),
        ("loop", lambda: part_loop(100 if quick else 1000)),
        ("deploy", lambda: part_deploy(3 if quick else 15)),
        (
            "before",
            lambda: (
                part_http(
                    10 if quick else 200,
                    6 if quick else 60,
                    8,
                    root=Path(options.before),
                    prefix="before_",
                )
                if options.before
                else {}
            ),
        ),
        (
            "inbox",
            lambda: _subpart(
                "inbox.py",
                "_inbox",
                ["--small", "1000", "--large", "5000" if quick else "100000"]
                + ["--runs", "6" if quick else "30", "--rounds", "3" if quick else "6"],
            ),
        ),
        (
            "volume",
            lambda: _subpart(
                "volume.py",
                "_volume",
                ["--cases", "2000", "--steps", "9", "--http", "6", "--runs", "9"]
                + ["--rounds", "3"]
                if quick
                else ["--cases", "100000", "--steps", "70", "--http", "84"]
                + ["--runs", "42", "--rounds", "7"],
            ),
        ),
        (
            "workers",
            lambda: _subpart(
                "workers.py", "_workers", ["--cases", "16" if quick else "60"]
            ),
        ),
        (
            "export",
            lambda: _subpart(
                "audit_export.py",
                "_audit_quick" if quick else "_audit",  # events are never deleted
                ["--events", "50000" if quick else "1000000", "--formats", "jsonl"],
            ),
        ),
    ]
    for name, run in plan:
        if name in skip or (only and name not in only):
            continue
        started = time.perf_counter()
        print(f"bench: {name} ...", flush=True)
        try:
            figures.update(run())
        except Exception as exc:  # noqa: BLE001 - one part failing must not lose the rest
            reasons[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
            print(f"bench: {name} failed: {exc}", flush=True)
        figures[f"seconds_{name}"] = round(time.perf_counter() - started, 1)
    figures["seconds_total"] = round(
        sum(
            v
            for k, v in figures.items()
            if k.startswith("seconds_") and k != "seconds_total"
        ),
        1,
    )
    results = {key: figures.get(key) for key in KEYS}
    results["details"] = {k: v for k, v in figures.items() if k not in KEYS}
    results["missing"] = {
        key: reasons.get(key) or "its part was skipped or failed"
        for key in KEYS
        if results[key] is None
    }
    Path(options.out).write_text(json.dumps(results, indent=2) + "\n")
    report = BENCH / "RESULTS.md"
    if Path(options.out).resolve() == (BENCH / "results.json").resolve():
        report.write_text(results_md(results, report))
    print(json.dumps({k: results[k] for k in KEYS}, indent=2))
    # The parts queue notices no worker of theirs consumed: left in REDIS_URL's
    # queue, a later test run or worker on that Redis database would take them.
    from celery import current_app

    current_app.control.purge()


if __name__ == "__main__":
    main()
