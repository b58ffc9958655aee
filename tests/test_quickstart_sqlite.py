"""The quick start on the embedded SQLite default, with no Redis server.

Migrate + demo twice, then, with REDIS_URL unset (as `scripts/run` starts them):
gunicorn, a real Celery worker and beat on the embedded file broker; a purchase journey
and a case with a service task over HTTP.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sqlite_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "CACHE_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'laneway.sqlite3'}",
        LANEWAY_DEMO_PASSWORD="demo-pass",
    )
    return env


def manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _call(base, method, path, token=None, body=None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Token {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _service_task_runs_on_the_worker(base, token, logs):
    # A service task: the worker runs the call, the case moves on to the user task.
    status, case = _call(
        base,
        "POST",
        "/api/v1/cases/",
        token,
        {"process": "service_echo", "data": {"amount": 21}},
    )
    assert status == 201, case
    for _ in range(300):
        detail = _call(base, "GET", f"/api/v1/cases/{case['id']}/", token)[1]
        if detail["data"].get("echo_result"):
            break
        time.sleep(0.1)
    assert detail["data"]["echo_result"]["echo"] == {"doubled": 42}
    # Beat's outbox sweep (every second here) reached the worker the same way.
    for _ in range(100):
        if "engine.outbox_sweep" in (logs / "worker.log").read_text():
            break
        time.sleep(0.1)


def _no_redis_was_used(logs):
    worker_log = (logs / "worker.log").read_text()
    assert "config.broker:Transport" in worker_log, worker_log
    assert "engine.outbox_sweep" in worker_log, worker_log
    assert "Sending due task outbox-sweep" in (logs / "beat.log").read_text()
    for log in ("worker.log", "beat.log"):
        # The port as a connection names it (a task id may hold the digits).
        assert ":6379" not in (logs / log).read_text()
        assert "redis" not in (logs / log).read_text().lower()
    # The messages went through files next to the database; each claimed one was read.
    claimed = logs / "broker" / "queue" / "claimed"
    assert claimed.is_dir() and not os.listdir(claimed)


def test_quick_start_is_repeatable_and_runs_a_journey_without_redis(sqlite_env):
    manage(sqlite_env, "migrate", "--noinput", "-v0")
    first = manage(sqlite_env, "load_demo")
    assert "purchase_request v1 deployed" in first
    assert "travel_request v1 deployed" in first  # with its Camunda Form
    manage(sqlite_env, "migrate", "--noinput", "-v0")
    again = manage(sqlite_env, "load_demo")
    assert "purchase_request v1 already deployed" in again
    assert "travel_request v1 already deployed" in again
    manage(sqlite_env, "check", "--database", "default")

    manage(
        sqlite_env,
        "deploy_process",
        str(ROOT / "tests" / "bpmn" / "service_echo.bpmn"),
        "--as",
        "analyst",
    )
    logs = Path(sqlite_env["DATABASE_URL"].removeprefix("sqlite:///")).parent
    celery = [
        subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", *args, "--loglevel=INFO"],
            cwd=ROOT,
            env={**sqlite_env, "ENGINE_SWEEP_SECONDS": "1"},
            stdout=(logs / f"{args[0]}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for args in (
            ("worker", "--pool=prefork", "--concurrency=1"),
            ("beat", "--schedule", str(logs / "celerybeat-schedule")),
        )
    ]
    port = _free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        env=sqlite_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = {
            u: _call(
                base,
                "POST",
                "/api/v1/auth/token/",
                body={"username": u, "password": "demo-pass"},
            )[1]["token"]
            for u in ("requester", "manager2", "finance")
        }
        status, case = _call(
            base,
            "POST",
            "/api/v1/cases/",
            token["requester"],
            {
                "process": "purchase_request",
                "data": {"amount": 42, "justification": "Chair"},
            },
        )
        assert status == 201
        for user, data in (
            ("manager2", {"approved": True}),
            ("finance", {"finance_approved": True}),
        ):
            task = _call(base, "GET", "/api/v1/tasks/", token[user])[1]["results"][0]
            assert (
                _call(
                    base,
                    "POST",
                    f"/api/v1/tasks/{task['id']}/complete/",
                    token[user],
                    {"data": data},
                )[0]
                == 200
            )
        status, final = _call(
            base, "GET", f"/api/v1/cases/{case['id']}/", token["requester"]
        )
        assert final["status"] == "completed"

        _service_task_runs_on_the_worker(base, token["requester"], logs)
    finally:
        server.terminate()
        server.wait(10)
        for process in celery:
            process.terminate()
            process.wait(20)
    _no_redis_was_used(logs)
    assert "OK:" in manage(sqlite_env, "verify_audit")
    # SQLite exports are rendered by Python: the standalone verifier accepts them
    exported = manage(sqlite_env, "export_audit", "--case", case["id"])
    export_file = Path(sqlite_env["DATABASE_URL"].removeprefix("sqlite:///") + ".jsonl")
    export_file.write_text(exported)
    checked = subprocess.run(
        [sys.executable, "-S", "scripts/verify_audit_export.py", str(export_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.stdout.strip() == "OK", checked.stdout + checked.stderr
    assert '"record": "chain_head"' in exported
    csv_rows = manage(sqlite_env, "export_audit", "--format", "csv").splitlines()
    assert csv_rows[0].startswith("id,chain,chain_seq,at,") and len(csv_rows) > 5
    db_file = sqlite_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        for statement in (
            "UPDATE audit_auditevent SET action = 'x'",
            "DELETE FROM audit_auditevent",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
