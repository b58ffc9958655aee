"""Print how long a service call takes to recover after its worker is killed -9.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_recovery \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/recovery.py [--cases 4] [--sweep 5] [--stale 10]

A real Celery worker (prefork, in its own process group) and a real beat run with
ENGINE_SWEEP_SECONDS=--sweep and ENGINE_OUTBOX_STALE_SECONDS=--stale. Two phases:

  1. kill -9: --cases cases each start a service call whose operation hangs on its
     first attempt; once every call is running (audited `service.started`, attempt
     1) the worker's whole process group is killed with SIGKILL and a new worker is
     started at once, as a supervisor would. The broker never sees an ack, but the
     rows stay RUNNING; the beat's outbox sweep re-sends each call once its row is
     older than the stale threshold. Per call: kill -> `service.started` attempt 2
     (the re-run) and kill -> `service.succeeded`.
  2. lost message: with no worker running, --cases calls are committed and their
     broker messages purged (a Redis flush); then a worker starts. Per call:
     commit -> `service.succeeded`.

The promise (README, "Service tasks"): a call is re-sent within one sweep interval
plus the stale threshold (plus the worker's start-up and the call itself). The
database named in DATABASE_URL is dropped and created afresh: a scratch database.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diagrams import one_service_call

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway_bench_recovery"
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
OPERATION = "bench.hang_once"
os.environ["ENGINE_SERVICE_OPERATIONS"] = f'{{"{OPERATION}": "recovery.hang_once"}}'

DIAGRAM = one_service_call(
    process_id="bench_recovery",
    name="Recovery bench",
    task_name="Call that hangs once",
    operation=OPERATION,
    result="r",
)


def hang_once(*, idempotency_key: str, **params):
    """Hang on the first attempt of each call (the worker is killed meanwhile)."""
    markers = Path(os.environ["BENCH_MARKERS"])
    marker = markers / idempotency_key.replace(":", "_")
    if (markers / "hang").exists() and not marker.exists():
        marker.touch()
        time.sleep(3600)
    return {"ok": True}


def _fresh_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own celery binary
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: kill -9 takes the children too
    )


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _audited(action: str, case_ids, **payload) -> dict[str, float]:
    """Return, per case id, the time of its first `action` event (epoch seconds)."""
    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(action=action, case_id__in=case_ids)
    seen: dict[str, float] = {}
    for event in events.order_by("chain_seq"):
        if all(event.payload.get(k) == v for k, v in payload.items()):
            seen.setdefault(str(event.case_id), event.at.timestamp())
    return seen


def _wait(action: str, case_ids, timeout: float, **payload) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = _audited(action, case_ids, **payload)
        if len(seen) == len(case_ids):
            return seen
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {action} {payload} on every case")


def _row(label: str, seconds: list[float]) -> str:
    return (
        f"  {label:<38} min {min(seconds):6.2f}  median "
        f"{statistics.median(seconds):6.2f}  max {max(seconds):6.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--sweep", type=int, default=5)
    parser.add_argument("--stale", type=int, default=10)
    args = parser.parse_args()
    os.environ["ENGINE_SWEEP_SECONDS"] = str(args.sweep)
    os.environ["ENGINE_OUTBOX_STALE_SECONDS"] = str(args.stale)
    os.environ["ENGINE_SERVICE_TIMEOUT_SECONDS"] = "3000"  # the hang is not cut
    markers = Path(tempfile.mkdtemp(prefix="laneway-recovery-"))
    os.environ["BENCH_MARKERS"] = str(markers)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}"}
    _fresh_database()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from config.celery import app
    from engine.services import case_start
    from processes.services import version_upload

    call_command("migrate", verbosity=0)
    analyst, _ = get_user_model().objects.get_or_create(username="b-analyst")
    analyst.groups.add(Group.objects.get_or_create(name="analysts")[0])
    version_upload(user=analyst, bpmn=DIAGRAM, filename="bench_recovery.bpmn")
    app.control.purge()
    log = markers / "celery.log"
    worker_args = ["worker", "--pool=prefork", "--concurrency=4", "--loglevel=INFO"]
    beat = _spawn(
        ["beat", "--loglevel=INFO", "--schedule", str(markers / "beat")], env, log
    )
    worker = _spawn(worker_args, env, log)
    try:
        print(
            f"sweep every {args.sweep} s, stale after {args.stale} s: "
            f"promise <= {args.sweep + args.stale} s (+ start-up and the call)\n"
        )
        # 1. kill -9 of the worker in the middle of the calls.
        (markers / "hang").touch()
        ids = [
            str(case_start(user=analyst, key="bench_recovery", data={})[0].pk)
            for _ in range(args.cases)
        ]
        _wait("service.started", ids, 120, attempt=1)
        killed = time.time()
        _kill(worker)
        worker = _spawn(worker_args, env, log)
        rerun = _wait("service.started", ids, 300, attempt=2)
        done = _wait("service.succeeded", ids, 300)
        print(f"1. worker killed -9 during {args.cases} calls:")
        print(
            _row(
                "kill -> call re-run (attempt 2)", [t - killed for t in rerun.values()]
            )
        )
        print(_row("kill -> call succeeded", [t - killed for t in done.values()]))

        # 2. the broker lost the messages of committed calls.
        _kill(worker)
        (markers / "hang").unlink()  # no hang: only the sweep is measured
        ids = [
            str(case_start(user=analyst, key="bench_recovery", data={})[0].pk)
            for _ in range(args.cases)
        ]
        committed = _audited("service.queued", ids)
        app.control.purge()
        worker = _spawn(worker_args, env, log)
        done = _wait("service.succeeded", ids, 300)
        print(f"\n2. {args.cases} committed calls whose broker messages were lost:")
        print(
            _row(
                "commit -> call succeeded",
                [done[c] - committed[c] for c in ids],
            )
        )
    finally:
        _kill(worker)
        _kill(beat)
    print(f"\n(worker and beat log: {log})")


if __name__ == "__main__":
    main()
