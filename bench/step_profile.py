"""Where a human step's time goes (figures, not a test): instructions, CPU per
section of the service layer, PostgreSQL's time per statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_NAME \\
    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/step_profile.py \\
        [--completions 300] [--warm 30] [--callgrind | --sections | --statements]

The purchase example is deployed, `--warm` cases are started and completed,
then `--completions` tasks (half manager approvals, half finance approvals, one
of each in turn) are completed through `task_complete`, DEBUG off. Only these
completions are measured (their tasks are looked up before):

* default: process CPU (user, system), wall and the PostgreSQL backend's CPU
  (its /proc schedstat: the server is on this machine) per completion;
* `--callgrind`: runs itself under valgrind's callgrind, its counters zeroed
  right before the completions (os.getppid) and dumped right after
  (os.getpgrp): instructions per completion, repeatable to ~0.1 % whatever
  else the machine runs. Needs valgrind; takes ~2 minutes for 50 completions;
* `--sections`: CPU (thread time) per call of the functions in SECTIONS,
  inclusive and exclusive of the others listed; each call adds ~2 µs;
* `--statements`: per statement kind, the backend's CPU, the wall and the
  client's CPU around psycopg's execute and commit (BEGIN goes with the first).
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"  # as in production: no query log
os.environ.setdefault("SECRET_KEY", "bench-only")

SECTIONS = (
    "tasks_app.services:task_complete",
    "tasks_app.services:_locked_task",
    "engine.services.advance:case_lock",
    "common.sql:select_compiled",
    "common.sql:_objects",
    "engine.services.cases:case_complete_user_task",
    "engine.spiff.runtime:workflow_complete_user_task",
    "engine.spiff.serialization:state_load",
    "engine.spiff.stepping:run_engine",
    "engine.spiff.prune:prune_workflow",
    "engine.spiff.runtime:_outcome",
    "engine.services.advance:case_advance",
    "engine.services.advance:_save",
    "tasks_app.services:inbox_sync_for_case",
    "tasks_app.services:_create_task",
    "audit.services:audit_record",
    "audit.services:_flush",
    "common.sql:insert_statement",
    "common.sql:update_statement",
    "common.sql:_send",
    "psycopg.cursor:Cursor.execute",
    "django.db.backends.base.base:BaseDatabaseWrapper.commit",
    "tasks_app.notifications:_publish",
)


def _plan(completions: int, warm: int) -> list[tuple[Any, Any, dict[str, bool]]]:
    """Deploy, warm up; return (user, task id, data) of the completions to time."""
    import advance  # bench/advance.py
    from django.core.management import call_command

    advance._ensure_database()
    import django

    django.setup()
    call_command("migrate", verbosity=0)
    from engine.services import case_start
    from processes.services import version_upload
    from tasks_app.models import HumanTask
    from tasks_app.services import task_complete

    users = advance._setup_users()
    example = advance.EXAMPLE
    version_upload(
        user=users["b-analyst"], bpmn=example.read_bytes(), filename=example.name
    )

    def started(count: int) -> list[Any]:
        return [
            case_start(
                user=users["b-requester"],
                key="purchase_request",
                data={"amount": 120, "justification": "Benchmark"},
            )[0]
            for _ in range(count)
        ]

    def open_task(case: Any) -> Any:
        return HumanTask.objects.get(case=case, status="open").pk

    manager, finance = (
        (users["b-manager"], {"approved": True}),
        (
            users["b-finance"],
            {"finance_approved": True},
        ),
    )
    warmed = started(warm)
    for user, data in (manager, finance):
        for case in warmed:
            task_complete(user=user, task_id=open_task(case), data=data)
    decided = started(completions // 2)
    for case in decided:
        task_complete(user=manager[0], task_id=open_task(case), data=manager[1])
    fresh = started(completions // 2)
    plan = []
    for one, other in zip(fresh, decided, strict=True):
        plan.append((manager[0], open_task(one), manager[1]))
        plan.append((finance[0], open_task(other), finance[1]))
    return plan


def _backend_ns(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0])


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


# -- sections ---------------------------------------------------------------------
Events = list[tuple[str, str, int]]


def _wrapped(path: str, events: Events) -> None:
    """Replace the function `module:qualname` (and every module's name for it)
    by one that logs its entry and exit with the thread's CPU time."""
    module, _, name = path.partition(":")
    owner: Any = importlib.import_module(module)
    *outer, last = name.split(".")
    for part in outer:
        owner = getattr(owner, part)
    original = getattr(owner, last)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        events.append(("+", path, time.thread_time_ns()))
        try:
            return original(*args, **kwargs)
        finally:
            events.append(("-", path, time.thread_time_ns()))

    setattr(owner, last, timed)
    for loaded in list(sys.modules.values()):
        names = getattr(loaded, "__dict__", None) or {}
        for key, value in list(names.items()):
            if value is original:
                names[key] = timed


def _sections_table(events: Events, count: int) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    stack: list[str] = []
    last = None
    for sign, path, at in events:
        if last is not None:
            exclusive[stack[-1] if stack else "(outside)"] += at - last
            for open_path in set(stack):
                inclusive[open_path] += at - last
        last = at
        if sign == "+":
            stack.append(path)
            calls[path] += 1
        else:
            stack.pop()
    total = max(inclusive.values())
    print(
        f"{'section':58} {'calls':>5} {'incl µs':>8} {'%':>5} {'excl µs':>8} {'%':>5}"
    )
    for path, spent in inclusive.most_common():
        print(
            f"{path:58} {calls[path] / count:5.1f} {spent / count / 1e3:8.1f} "
            f"{100 * spent / total:5.1f} {exclusive[path] / count / 1e3:8.1f}"
        )


# -- statements -------------------------------------------------------------------
def _statement_kind(query: Any) -> str:
    text = query.decode(errors="replace") if isinstance(query, bytes) else str(query)
    if text.startswith("WITH"):
        return "the writes (one WITH statement)"
    head = text[:300]
    if text.startswith("SELECT") and '"engine_case"' in head:
        return "case lock (with BEGIN)"
    if text.startswith("SELECT") and '"tasks_app_humantask"' in head:
        return "task lock"
    return text[:40]


def _statements_timed(pid: int) -> tuple[dict[str, list[int]], Callable[[], None]]:
    import psycopg

    spent: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])

    def timing(kind: Callable[..., str], method: Callable[..., Any]) -> Any:
        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            backend, wall = _backend_ns(pid), time.perf_counter_ns()
            cpu = time.thread_time_ns()
            try:
                return method(self, *args, **kwargs)
            finally:
                row = spent[kind(*args)]
                row[0] += 1
                row[1] += _backend_ns(pid) - backend
                row[2] += time.perf_counter_ns() - wall
                row[3] += time.thread_time_ns() - cpu

        return timed

    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit
    psycopg.Cursor.execute = timing(  # type: ignore[method-assign]
        lambda query, *_: _statement_kind(query), execute
    )
    psycopg.Connection.commit = timing(lambda: "COMMIT", commit)  # type: ignore[method-assign]

    def restore() -> None:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Connection.commit = commit  # type: ignore[method-assign]

    return spent, restore


def _measure(args: argparse.Namespace) -> None:
    plan = _plan(args.completions, args.warm)
    from tasks_app import services  # its task_complete, as replaced below

    pid = _backend_pid()
    events: Events = []
    spent: dict[str, list[int]] = {}
    restore = None
    if args.sections:
        for path in SECTIONS:
            _wrapped(path, events)
    if args.statements:
        spent, restore = _statements_timed(pid)
    backend, wall, times = _backend_ns(pid), time.perf_counter(), os.times()
    os.getppid()  # callgrind: counters zeroed here
    for user, task_id, data in plan:
        services.task_complete(user=user, task_id=task_id, data=data)
    os.getpgrp()  # callgrind: counters dumped here
    after, count = os.times(), len(plan)
    wall, backend = time.perf_counter() - wall, _backend_ns(pid) - backend
    if restore is not None:
        restore()
    print(
        f"per completion ({count}): user {1e3 * (after.user - times.user) / count:.3f}"
        f" ms, system {1e3 * (after.system - times.system) / count:.3f} ms, wall "
        f"{1e3 * wall / count:.3f} ms, PostgreSQL backend "
        f"{backend / count / 1e6:.3f} ms"
    )
    if args.sections:
        _sections_table(events, count)
    if args.statements:
        print(f"{'statement':34} {'backend µs':>10} {'wall µs':>8} {'client µs':>9}")
        for kind, (_, server, elapsed, client) in sorted(
            spent.items(), key=lambda item: -item[1][1]
        ):
            print(
                f"{kind:34} {server / count / 1e3:10.1f} {elapsed / count / 1e3:8.1f}"
                f" {client / count / 1e3:9.1f}"
            )


def _callgrind(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as out:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--zero-before=os_getppid",
            "--dump-before=os_getpgrp",
            f"--callgrind-out-file={out}/cg.%p",
            sys.executable,
            __file__,
            f"--completions={args.completions}",
            f"--warm={args.warm}",
        ]
        subprocess.run(command, check=True, capture_output=True)
        dumped = next(Path(out).glob("cg.*.1")).read_text().splitlines()
    total = next(int(line.split()[1]) for line in dumped if line.startswith("summary:"))
    print(f"instructions per completion: {total / args.completions:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--callgrind", action="store_true")
    mode.add_argument("--sections", action="store_true")
    mode.add_argument("--statements", action="store_true")
    args = parser.parse_args()
    if args.callgrind:
        _callgrind(args)
    else:
        _measure(args)


if __name__ == "__main__":
    main()
