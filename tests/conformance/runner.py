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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone

from engine.models import (
    BufferedMessage,
    Case,
    CaseState,
    Incident,
    MessageOutbox,
    MessageSubscription,
    ServiceCall,
    SignalOutbox,
    SignalSubscription,
    TimerStartSchedule,
)
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.selectors import version_get
from processes.services import version_upload
from tasks_app.models import HumanTask

from .actions import CAST, WORKER, perform
from .scenario import DIAGRAMS, MAIN, Action, Scenario, Step, clock_seconds

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
    # Timers fire at the steps' sweeps only (timers, fire_timer_starts), never by
    # a wake on the worker at their real moment in the middle of a scenario.
    "ENGINE_TIMER_WAKE_SECONDS": 0,
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
            # No wakes from the peer either: one it queued ran on this
            # process's worker at the timer's real moment, mid-scenario.
            "ENGINE_TIMER_WAKE_SECONDS": str(SETTINGS["ENGINE_TIMER_WAKE_SECONDS"]),
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
        self.send(command)
        return self.receive()

    def send(self, command: dict) -> None:
        """Send one command without waiting (the peer runs it meanwhile)."""
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict:
        """Wait for the result of the command sent last."""
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
    # alice also broadcasts signals and retries incidents (as a process admin).
    admin = Permission.objects.filter(
        codename__in=["send_signal", "retry_incident", "signal_receive"],
        content_type__app_label="engine",
    )
    worker, _ = model.objects.get_or_create(username=WORKER)
    worker.groups.add(Group.objects.get(name="integrations"))
    for username in CAST:
        user, _ = model.objects.get_or_create(username=username)
        if username != "carol":
            user.user_permissions.add(send)
        if username == CAST[0]:
            user.user_permissions.add(*admin)


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


def _check_open(case: Case, step: Step, where: str) -> None:
    if step.open is not None:
        got = open_tasks(case)
        assert got == sorted(step.open), (
            f"{where}: open tasks {got}, expected {sorted(step.open)}; "
            f"{_situation(case)}"
        )
    for column, expected in (
        ("name", step.open_names),
        ("documentation", step.open_documentation),
    ):
        if expected is None:
            continue
        shown = sorted(
            HumanTask.objects.filter(case=case, status="open").values_list(
                column, flat=True
            )
        )
        assert shown == sorted(expected), (
            f"{where}: open tasks' {column} {shown}, expected {sorted(expected)}; "
            f"{_situation(case)}"
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


def _eventually(check: Callable[[], None], patient: bool) -> None:
    """Run a check; when `patient`, retry it until it holds or WAIT_SECONDS pass.

    Multi-case scenarios are patient: messages and signals between cases and
    the cases they start arrive on the worker after the sender commits.
    """
    deadline = time.monotonic() + (WAIT_SECONDS if patient else 0)
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Run:
    """One scenario run: its cases (by name) and where the next action executes."""

    env: Environment
    scenario: Scenario
    cases: dict[str, Case | None]
    began: datetime
    actions: int = 0

    @property
    def patient(self) -> bool:
        return bool(self.scenario.cases)

    @property
    def case(self) -> Case:
        """The first case (the one `[end]` checks)."""
        return self.resolve(None)

    def resolve(self, name: str | None) -> Case:
        """Return the named case (None: the first); wait for one an event starts."""
        name = name or next(iter(self.cases))
        case = self.cases[name]
        if case is None:
            spec = next(c for c in self.scenario.cases if c.name == name)
            bound = [c.pk for c in self.cases.values() if c is not None]

            def started() -> Case | None:
                return (
                    Case.objects.filter(
                        version__definition__key=spec.process,
                        started_at__gte=self.began,
                    )
                    .exclude(pk__in=bound)
                    .order_by("started_at", "pk")
                    .first()
                )

            deadline = time.monotonic() + WAIT_SECONDS
            while (case := started()) is None:
                assert time.monotonic() < deadline, (
                    f"no case of {spec.process!r} started for {name!r} "
                    f"within {WAIT_SECONDS}s"
                )
                time.sleep(0.1)
            self.cases[name] = case
        return case

    def perform(self, command: dict) -> dict:
        """Run a command here or in the peer, turn about."""
        self.actions += 1
        if self.actions % 2:
            return perform(command)
        return self.env.peer.perform(command)

    def act(self, action: Action, where: str) -> None:
        if action.kind in _EVENT_STEPS:
            _EVENT_STEPS[action.kind](self, action, where)
            return
        case = self.resolve(action.case)
        if action.kind == "services":
            _wait(lambda: _services_done(case), "the service calls", case)
            return
        if action.kind == "timers":
            _timer_due(case)
        revision = Case.objects.values_list("revision", flat=True).get(pk=case.pk)
        before = open_tasks(case)
        result = self.perform(
            {
                "kind": action.kind,
                "case": str(case.pk),
                "target": action.target,
                "data": action.data,
                "correlation": action.correlation,
                "user": action.user,
                "local": action.local,
                "bpmn_error": action.bpmn_error,
            }
        )
        if action.expect_error:
            assert not result["ok"] and result["code"] == action.expect_error, (
                f"{where}: expected error {action.expect_error!r}, got {result}"
            )
            after = Case.objects.values_list("revision", flat=True).get(pk=case.pk)
            assert (after, open_tasks(case)) == (revision, before), (
                f"{where}: a refused {action.kind} changed the case: {_situation(case)}"
            )
            return
        assert result["ok"], (
            f"{where}: {action.kind} {action.target!r} failed: {result}; "
            f"{_situation(case)}"
        )


def _send_signal(run: Run, action: Action, where: str) -> None:
    command = {"kind": "signal", "target": action.target, "data": action.data}
    result = run.perform(command)
    assert result["ok"], f"{where}: signal {action.target!r} failed: {result}"


def _fire_timer_starts(run: Run, action: Action, where: str) -> None:
    """Run beat's sweep once, or twice at once (here and in the peer)."""
    command = {"kind": "timers"}
    if action.target == "2":
        run.env.peer.send(command)
        results = [perform(command), run.env.peer.receive()]
    else:
        results = [run.perform(command)]
    assert all(r["ok"] for r in results), f"{where}: sweep failed: {results}"


def _advance_clock(run: Run, action: Action, where: str) -> None:
    """The clock moves on: every timer start schedule, and every due moment the
    scenario's running cases wait for, comes that much nearer (no sleep)."""
    delta = timedelta(seconds=clock_seconds(action.target))
    TimerStartSchedule.objects.filter(next_at__isnull=False).update(
        next_at=F("next_at") - delta
    )
    for case in run.cases.values():
        if case is not None:
            case_clock_moves_on(case, delta)


def _earlier(value: Any, by: timedelta) -> Any:
    """A stored due moment (ISO text) `by` earlier; anything else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment - by).isoformat()


def _shift_moments(node: Any, by: timedelta) -> None:
    """Move every timer's stored due moment (`event_value`, a cycle's `next`)."""
    if isinstance(node, dict):
        value = node.get("event_value")
        if isinstance(value, dict) and value.get("next"):
            value["next"] = _earlier(value["next"], by)
        elif value is not None:
            node["event_value"] = _earlier(value, by)
        for child in node.values():
            _shift_moments(child, by)
    elif isinstance(node, list):
        for child in node:
            _shift_moments(child, by)


def case_clock_moves_on(case: Case, by: timedelta) -> None:
    """The sweep's clock moves on by `by` for a running case: its timers come nearer."""
    case.refresh_from_db()
    if case.status != Case.Status.RUNNING:
        return
    row = CaseState.objects.get(case=case)
    state = json.loads(row.state_json)
    _shift_moments(state, by)
    row.state_json = json.dumps(state)
    row.save(update_fields=["state_json"])
    if case.next_timer_at is not None:
        Case.objects.filter(pk=case.pk).update(next_timer_at=case.next_timer_at - by)


def _await(run: Run, action: Action, where: str) -> None:
    """Wait for the case (an event starts it); with `incident`, for that incident."""
    case = run.resolve(action.case)  # the step's `open` is then checked, patiently
    needle = action.target.lower()
    if needle:

        def opened() -> None:
            messages = case.incidents.filter(status=Incident.Status.OPEN).values_list(
                "message", flat=True
            )
            assert any(needle in m.lower() for m in messages), (
                f"{where}: no open incident mentions {action.target!r}: "
                f"{_situation(case)}"
            )

        _eventually(opened, patient=True)


def _start_case(run: Run, action: Action, where: str) -> None:
    name = action.case or ""
    spec = next(c for c in run.scenario.cases if c.name == name)
    assert spec.started_by == "step", f"{where}: {name!r} is not started by a step"
    user = get_user_model().objects.get(username=CAST[0])
    run.cases[name], _ = case_start(user=user, key=spec.process, data=spec.start)


def _retry_incident(run: Run, action: Action, where: str) -> None:
    case = run.resolve(action.case)
    _eventually(
        lambda: _has_open_incident(case, where), run.patient
    )  # it opens after the sender commits
    result = run.perform({"kind": "retry_incident", "case": str(case.pk)})
    assert result["ok"], f"{where}: retry failed: {result}; {_situation(case)}"


def _has_open_incident(case: Case, where: str) -> None:
    assert case.incidents.filter(status=Incident.Status.OPEN).exists(), (
        f"{where}: no open incident to retry: {_situation(case)}"
    )


_EVENT_STEPS: dict[str, Callable[[Run, Action, str], None]] = {
    "send_signal": _send_signal,
    "fire_timer_starts": _fire_timer_starts,
    "advance_clock": _advance_clock,
    "await": _await,
    "retry_incident": _retry_incident,
    "start_case": _start_case,
}


def _check_counts(run: Run, counts: dict[str, int]) -> None:
    got = {
        key: Case.objects.filter(
            version__definition__key=key, started_at__gte=run.began
        ).count()
        for key in counts
    }
    assert got == counts, f"[end] cases_of: {got}, expected {counts}"


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


def _start(env: Environment, scenario: Scenario) -> Run:
    for extra in scenario.also_deploy:
        env.deploy(extra)
    began = timezone.now()
    keys = env.deploy(scenario.bpmn, scenario.dmn)
    user = get_user_model().objects.get(username=CAST[0])
    if not scenario.cases:
        key = scenario.process or keys[0]
        assert key in keys, f"process {key!r} is not in {scenario.bpmn} (it has {keys})"
        case, _ = case_start(user=user, key=key, data=scenario.start)
        return Run(env, scenario, {MAIN: case}, began)
    cases: dict[str, Case | None] = {}
    for spec in scenario.cases:
        assert spec.process in keys, (
            f"process {spec.process!r} is not in {scenario.bpmn} (it has {keys})"
        )
        cases[spec.name] = None
        if spec.started_by is None:  # "step": a start_case step; "event": bound later
            cases[spec.name], _ = case_start(
                user=user, key=spec.process, data=spec.start
            )
    return Run(env, scenario, cases, began)


def _tidy() -> None:
    """End every case still running, so no later message, signal or timer finds it.

    Timer start schedules stop too: no later sweep starts a case of a diagram
    another scenario deployed; and what a case sent that is still in the outbox
    (a signal, a message) is dropped, so the outbox sweep does not deliver it
    to a later scenario's cases.
    """
    running = Case.objects.filter(status=Case.Status.RUNNING)
    MessageSubscription.objects.filter(case__in=running).delete()
    SignalSubscription.objects.filter(case__in=running).delete()
    running.update(status=Case.Status.CANCELLED, next_timer_at=None)
    TimerStartSchedule.objects.update(next_at=None)
    BufferedMessage.objects.all().delete()
    MessageOutbox.objects.all().delete()
    SignalOutbox.objects.all().delete()


def _check_ends(run: Run, scenario: Scenario) -> None:
    # An expected incident may come from the worker after the case committed (a
    # message nobody took), so it is awaited too.
    patient = run.patient or bool(scenario.end.get("incident"))
    _eventually(lambda: _check_end(run.case, scenario.end), patient)
    for spec in scenario.cases:
        if spec.end:
            case = run.resolve(spec.name)
            _eventually(lambda c=case, e=spec.end: _check_end(c, e), patient)
    counts = scenario.end.get("cases_of")
    if counts:
        _eventually(lambda: _check_counts(run, counts), patient)


def scenario_run(env: Environment, scenario: Scenario) -> None:
    """Run one scenario (one completion order) and assert every check it makes."""
    if scenario.refused is not None:
        _refusal(env, scenario)
        return
    try:
        run = _start(env, scenario)
        for number, step in enumerate(scenario.steps, start=1):
            for action in step.actions:
                run.act(action, f"step {number}")
            checked = (step.open, step.open_names, step.open_documentation)
            if any(c is not None for c in checked):
                case = run.resolve(step.actions[-1].case if step.actions else None)
                _eventually(
                    lambda c=case, s=step, n=number: _check_open(
                        c, s, f"after step {n}"
                    ),
                    run.patient,
                )
        _check_ends(run, scenario)
    finally:
        _tidy()
