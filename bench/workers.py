"""Two Celery workers against one on a 50 ms service operation (figures, not a test).

    DATABASE_URL=postgres://.../scratch REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/workers.py [--cases 40] [--json out.json]

Starts --cases cases of a one-service-task process whose operation sleeps 50 ms
(`sleep_50ms` below, registered through ENGINE_SERVICE_OPERATIONS), with a real
`celery worker` of concurrency 1, then 2, consuming the Redis queue; times until
every case has completed (the call, then its result applied under the case lock).
The Redis database must be this benchmark's own: its queue is purged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from diagrams import one_service_call

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
OPERATIONS = {"bench.sleep_50ms": "workers.sleep_50ms"}
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ["ENGINE_SERVICE_OPERATIONS"] = json.dumps(OPERATIONS)
    os.environ["PYTHONPATH"] = f"{BENCH}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"

DIAGRAM = one_service_call(
    process_id="bench_sleep",
    name="Bench: one 50 ms call",
    task_name="Call",
    operation="bench.sleep_50ms",
    result="out",
)


def sleep_50ms(*, idempotency_key: str, **_: object) -> dict:
    """The benchmark's operation: 50 ms of waiting (an I/O-bound call)."""
    time.sleep(0.05)
    return {"key": idempotency_key}


def _run(concurrency: int, cases: int, user) -> float:
    from celery import current_app
    from django.db import transaction

    from engine.models import Case
    from engine.services import case_start

    current_app.control.purge()
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # until the worker answers: its start-up is not timed
            if current_app.control.ping(timeout=0.5):
                break
        started = []
        with transaction.atomic():  # every call is queued at the commit
            for _ in range(cases):
                case, _ = case_start(user=user, key="bench_sleep", data={})
                started.append(case.pk)
        began = time.perf_counter()
        deadline = began + 300
        while time.perf_counter() < deadline:
            done = Case.objects.filter(pk__in=started, status="completed").count()
            if done == cases:
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"{cases - done} cases did not complete")
        return time.perf_counter() - began
    finally:
        worker.terminate()
        worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--json", help="also write the figures here (bench/run.py)")
    options = parser.parse_args()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from processes.services import version_upload

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-workers")
    user.groups.add(Group.objects.get_or_create(name="analysts")[0])
    version_upload(user=user, bpmn=DIAGRAM, filename="bench_sleep.bpmn")
    _run(1, 4, user)  # warm-up: the spec is parsed and cached in this process
    one = _run(1, options.cases, user)
    two = _run(2, options.cases, user)
    print(
        f"{options.cases} cases, one 50 ms call each: 1 worker {one:.2f} s, "
        f"2 workers {two:.2f} s, ratio {one / two:.2f}"
    )
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "workers_2_vs_1": round(one / two, 2),
                    "workers_seconds": [round(one, 2), round(two, 2)],
                    "workers_cases": options.cases,
                }
            )
        )


if __name__ == "__main__":
    main()
