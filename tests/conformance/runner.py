"""Run a conformance scenario as production does (see README.md beside this file).

`Environment` holds what one pytest session shares: the cast of users, the
deployed diagrams (each deployed once), the second Django process (`peer.py`)
and the real Celery worker. `scenario_run` deploys, starts the case through
`engine.services.case_start`, runs each step through `actions.perform`,
alternating between this process and the peer, and checks `open` after each
step and `[end]` after the last.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone

from engine.models import Case, Incident, MessageSubscription, ServiceCall
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.selectors import version_get
from processes.services import version_upload
from tasks_app.models import HumanTask

from .actions import CAST, perform
from .scenario import DIAGRAMS, Action, Scenario

ROOT = Path(__file__).resolve().parents[2]
DEPLOYER = "conformance-analyst"
# Operations the scenario diagrams may call (tests/operations.py).
OPERATIONS = {
    "laneway.echo": "engine.operations.echo",
    "conformance.echo": "tests.operations.corpus_operation",
    "conformance.credit_check": "tests.operations.credit_check",
    "conformance.down": "tests.operations.always_fails",
    "conformance.flaky": "tests.operations.flaky",
}
SETTINGS = {
    "ENGINE_SERVICE_OPERATIONS": OPERATIONS,
    "ENGINE_SERVICE_MAX_ATTEMPTS": 2,
    "ENGINE_SERVICE_BACKOFF_SECONDS": 0.2,
}
WAIT_SECONDS = 30.0
_DECISION_REF = re.compile(r'(?:decisionRef="|calledDecisionId>\s*)([^"<\s]+)')
_DECISION_ID = re.compile(r'<(?:\w+:)?decision\b[^>]*\bid="([^"]+)"')


@contextmanager
def scenario_database() -> Iterator[None]:
    """Use pytest-django's test database, creating it when no other test asked for it.

    pytest-django only creates it for sessions holding a `django_db` test, and
    the scenarios are not (they commit, see test_scenarios.environment). Data
    left by the scenarios is flushed at the end.
    """
    created = None
    if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
        created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        yield
    finally:
        if created is None:
            call_command("flush", interactive=False, verbosity=0)
        else:
            teardown_databases(created, verbosity=0)


class Peer:
    """The second, long-lived Django process (tests/conformance/peer.py)."""

    def __init__(self) -> None:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}"
            f"@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,  # pytest-django's test database, not the dev one
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "ENGINE_SERVICE_OPERATIONS": json.dumps(OPERATIONS),
            "ENGINE_SERVICE_MAX_ATTEMPTS": str(SETTINGS["ENGINE_SERVICE_MAX_ATTEMPTS"]),
            "ENGINE_SERVICE_BACKOFF_SECONDS": str(
                SETTINGS["ENGINE_SERVICE_BACKOFF_SECONDS"]
            ),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.conformance.peer"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self._read()["ready"]

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the peer process died (exit {self.process.poll()})")
        return json.loads(line)

    def perform(self, command: dict) -> dict:
        """Send one command and wait for its result."""
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _cast() -> None:
    model = get_user_model()
    deployer, _ = model.objects.get_or_create(username=DEPLOYER)
    deployer.user_permissions.add(
        Permission.objects.get(codename="deploy_processversion")
    )
    send = Permission.objects.get(
        codename="send_message", content_type__app_label="engine"
    )
    for username in CAST:
        user, _ = model.objects.get_or_create(username=username)
        if username != "carol":
            user.user_permissions.add(send)


@dataclass
class Environment:
    """What the scenarios of one session share (see the module docstring)."""

    stack: ExitStack
    peer: Peer
    # (file, dmn) -> the versions deployed from it, {process key: version pk}
    deployed: dict[tuple[str, tuple[str, ...]], dict[str, int]] = field(
        default_factory=dict
    )

    @classmethod
    def open(cls) -> Environment:
        """Create the cast, start the worker and the peer process."""
        from celery.contrib.testing.worker import start_worker

        import engine.tasks  # noqa: F401  (registers the service call task)
        from config.celery import app

        stack = ExitStack()
        stack.enter_context(override_settings(**SETTINGS))
        _cast()
        app.control.purge()  # calls queued by an earlier, interrupted run
        stack.enter_context(
            start_worker(
                app, pool="solo", perform_ping_check=False, shutdown_timeout=10
            )
        )
        peer = Peer()
        stack.callback(peer.close)
        return cls(stack=stack, peer=peer)

    def close(self) -> None:
        """Stop the peer and the worker."""
        self.stack.close()

    def deploy(self, filename: str, dmn: tuple[str, ...] = ()) -> list[str]:
        """Deploy a diagram; return its process keys, in file order.

        A diagram is uploaded once per session, and again only when another
        file deployed since defines one of its process ids (cases start the
        latest version of a key, which must be this file's).

        Raises:
            BpmnInvalid: the upload is refused.
        """
        key = (filename, dmn)
        known = self.deployed.get(key)
        if known is None or not _still_latest(known):
            path = DIAGRAMS / filename
            versions = version_upload(
                user=get_user_model().objects.get(username=DEPLOYER),
                bpmn=path.read_bytes(),
                filename=filename,
                dmn_files=_dmn_files(path, dmn),
            )
            self.deployed[key] = {
                v.version.definition.key: v.version.pk for v in versions
            }
            _join_every_group()
        return list(self.deployed[key])


def _still_latest(versions: dict[str, int]) -> bool:
    """Return whether each process key's latest version is the one given."""
    return all(version_get(key=k).pk == pk for k, pk in versions.items())


def _join_every_group() -> None:
    """Put alice and bob in every group (lanes and candidates of the diagrams)."""
    pair = list(get_user_model().objects.filter(username__in=CAST[:2]))
    for group in Group.objects.all():
        group.user_set.add(*pair)


def _dmn_files(path: Path, named: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """Return the DMN files named, plus those defining a decision the diagram uses."""
    refs = set(_DECISION_REF.findall(path.read_text()))
    chosen = [DIAGRAMS / n for n in named]
    for dmn in sorted(DIAGRAMS.glob("*.dmn")):
        if dmn not in chosen and refs & set(_DECISION_ID.findall(dmn.read_text())):
            chosen.append(dmn)
    return [(p.name, p.read_bytes()) for p in chosen]


# ---------------------------------------------------------------- checks


def open_tasks(case: Case) -> list[str]:
    """Return the BPMN ids of the case's open human tasks, sorted."""
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _situation(case: Case) -> str:
    case.refresh_from_db()
    incidents = list(
        case.incidents.filter(status=Incident.Status.OPEN).values_list(
            "bpmn_id", "message"
        )
    )
    calls = list(ServiceCall.objects.filter(case=case).values_list("bpmn_id", "status"))
    tasks = list(HumanTask.objects.filter(case=case).values_list("bpmn_id", "status"))
    return (
        f"status={case.status} open={open_tasks(case)} active={case.active_elements} "
        f"incidents={incidents} calls={calls} tasks={tasks} data={case.data}"
    )


def _check_open(case: Case, expected: tuple[str, ...] | None, where: str) -> None:
    if expected is None:
        return
    got = open_tasks(case)
    assert got == sorted(expected), (
        f"{where}: open tasks {got}, expected {sorted(expected)}; {_situation(case)}"
    )


def _check_end(case: Case, end: dict[str, Any]) -> None:
    case.refresh_from_db()
    status = end.get("status")
    incidents = list(
        case.incidents.filter(status=Incident.Status.OPEN).values_list(
            "message", flat=True
        )
    )
    if status is not None:
        # Laneway has no failed status: a failed case runs on with an open incident.
        want = "running" if status == "failed" else status
        assert case.status == want, f"[end] status: {_situation(case)}"
        if status == "failed":
            assert incidents, f"[end] failed needs an open incident: {_situation(case)}"
    for key, value in end.get("data", {}).items():
        assert key in case.data and case.data[key] == value, (
            f"[end] data[{key!r}] = {case.data.get(key, '<missing>')!r}, "
            f"expected {value!r}; "
            f"{_situation(case)}"
        )
    for key in end.get("absent", []):
        assert key not in case.data, (
            f"[end] {key!r} must not be in the data: {case.data}"
        )
    needle = end.get("incident")
    if needle:
        assert any(needle.lower() in m.lower() for m in incidents), (
            f"[end] no open incident mentions {needle!r}: {_situation(case)}"
        )
    elif status != "failed":
        assert not incidents, f"[end] unexpected incident: {_situation(case)}"


# ---------------------------------------------------------------- steps


def _wait(predicate, what: str, case: Case) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"waited {WAIT_SECONDS}s for {what}: {_situation(case)}"
            )
        time.sleep(0.05)


def _services_done(case: Case) -> bool:
    busy = (ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING)
    return not ServiceCall.objects.filter(case=case, status__in=busy).exists()


def _timer_due(case: Case) -> None:
    case.refresh_from_db()
    assert case.next_timer_at is not None, f"no timer is pending: {_situation(case)}"
    delay = (case.next_timer_at - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


@dataclass
class Run:
    """One scenario run: its case and where the next action executes."""

    env: Environment
    case: Case
    actions: int = 0

    def perform(self, command: dict) -> dict:
        """Run a command here or in the peer, turn about."""
        self.actions += 1
        if self.actions % 2:
            return perform(command)
        return self.env.peer.perform(command)

    def act(self, action: Action, where: str) -> None:
        if action.kind == "services":
            _wait(lambda: _services_done(self.case), "the service calls", self.case)
            return
        if action.kind == "timers":
            _timer_due(self.case)
        revision = Case.objects.values_list("revision", flat=True).get(pk=self.case.pk)
        before = open_tasks(self.case)
        result = self.perform(
            {
                "kind": action.kind,
                "case": str(self.case.pk),
                "target": action.target,
                "data": action.data,
                "correlation": action.correlation,
                "user": action.user,
            }
        )
        if action.expect_error:
            assert not result["ok"] and result["code"] == action.expect_error, (
                f"{where}: expected error {action.expect_error!r}, got {result}"
            )
            after = Case.objects.values_list("revision", flat=True).get(pk=self.case.pk)
            assert (after, open_tasks(self.case)) == (revision, before), (
                f"{where}: a refused {action.kind} changed the case: "
                f"{_situation(self.case)}"
            )
            return
        assert result["ok"], (
            f"{where}: {action.kind} {action.target!r} failed: {result}; "
            f"{_situation(self.case)}"
        )


def _refusal(env: Environment, scenario: Scenario) -> None:
    for extra in scenario.also_deploy:
        env.deploy(extra)
    try:
        env.deploy(scenario.bpmn, scenario.dmn)
    except BpmnInvalid as exc:
        problems = exc.details["errors"]
    else:
        raise AssertionError(f"{scenario.bpmn} deployed; it must be refused")
    want = scenario.refused or {}
    hits = [
        p
        for p in problems
        if p["element_id"] == want.get("element", p["element_id"])
        and want.get("message", "").lower() in p["message"].lower()
    ]
    assert hits, f"no problem names {want}: {problems}"
    assert all(p["line"] for p in hits if p["element_id"]), (
        f"problem without a line: {hits}"
    )


def _start(env: Environment, scenario: Scenario) -> Case:
    for extra in scenario.also_deploy:
        env.deploy(extra)
    keys = env.deploy(scenario.bpmn, scenario.dmn)
    key = scenario.process or keys[0]
    assert key in keys, f"process {key!r} is not in {scenario.bpmn} (it has {keys})"
    user = get_user_model().objects.get(username=CAST[0])
    case, _ = case_start(user=user, key=key, data=scenario.start)
    return case


def _tidy() -> None:
    """End every case still running, so no later message or timer finds it."""
    running = Case.objects.filter(status=Case.Status.RUNNING)
    MessageSubscription.objects.filter(case__in=running).delete()
    running.update(status=Case.Status.CANCELLED, next_timer_at=None)


def scenario_run(env: Environment, scenario: Scenario) -> None:
    """Run one scenario (one completion order) and assert every check it makes."""
    if scenario.refused is not None:
        _refusal(env, scenario)
        return
    try:
        run = Run(env, _start(env, scenario))
        _check_open(run.case, None, "start")
        for number, step in enumerate(scenario.steps, start=1):
            for action in step.actions:
                run.act(action, f"step {number}")
            _check_open(run.case, step.open, f"after step {number}")
        _check_end(run.case, scenario.end)
    finally:
        _tidy()
