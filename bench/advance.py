"""Print what one human step costs through the whole stack (figures, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench \\
        .venv/bin/python bench/advance.py [--cases 200]

For the purchase example (start -> manager approval -> finance approval), per step:
  * Laneway end to end: `case_start` / `task_complete` on PostgreSQL — row lock, state
    load onto the cached spec, sandboxed engine, prune, save, inbox projection with
    guardian grants, hash-chained audit events, all in one transaction;
  * Laneway's adapter alone (`workflow_*`, state as JSON text, no database);
  * raw SpiffWorkflow 3.2.0 (default engine and serializer, spec embedded).
Medians and p95 over --cases cases. The database named in DATABASE_URL is created
(and migrated) when missing; it is a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway_bench"
)

import django  # noqa: E402

EXAMPLE = ROOT / "examples" / "purchase_request.bpmn"
STEPS = ("start", "manager approval", "finance approval")
OneCase = Callable[[], dict[str, float]]  # runs one case: seconds per step


def _ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered) * 1000:7.2f} / {p95 * 1000:7.2f}"


def _setup_users():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    users = {}
    for name, group in (
        ("b-requester", "Requester"),
        ("b-manager", "Manager"),
        ("b-finance", "Finance"),
        ("b-analyst", "analysts"),
    ):
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        users[name] = user
    return users


def _laneway_setup() -> OneCase:
    """Deploy the example; return a function that runs one case, timing each step."""
    from engine.services import case_start
    from processes.services import version_upload
    from tasks_app.models import HumanTask
    from tasks_app.services import task_complete

    users = _setup_users()
    version_upload(
        user=users["b-analyst"], bpmn=EXAMPLE.read_bytes(), filename=EXAMPLE.name
    )

    def one_case() -> dict[str, float]:
        times = {}
        started = time.perf_counter()
        case, _ = case_start(
            user=users["b-requester"],
            key="purchase_request",
            data={"amount": 120, "justification": "Benchmark"},
        )
        times["start"] = time.perf_counter() - started
        for step, user, data in (
            ("manager approval", "b-manager", {"approved": True}),
            ("finance approval", "b-finance", {"finance_approved": True}),
        ):
            task = HumanTask.objects.get(case=case, status="open")
            started = time.perf_counter()
            task_complete(user=users[user], task_id=task.pk, data=data)
            times[step] = time.perf_counter() - started
        return times

    return one_case


def _runs(one_case: OneCase, cases: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    for _ in range(cases):
        for step, seconds in one_case().items():
            times[step].append(seconds)
    return times


def laneway_end_to_end(cases: int) -> dict[str, list[float]]:
    return _runs(_laneway_setup(), cases)


def laneway_adapter(cases: int) -> dict[str, list[float]]:
    from engine.spiff import (
        processes_compile,
        workflow_complete_user_task,
        workflow_start,
    )

    process = processes_compile(EXAMPLE.read_bytes(), known_operations=frozenset())[0]
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    for _ in range(cases):
        started = time.perf_counter()
        outcome = workflow_start(process, data={"amount": 120, "justification": "x"})
        text = json.dumps(outcome.state)
        times["start"].append(time.perf_counter() - started)
        for step, data in (
            ("manager approval", {"approved": True}),
            ("finance approval", {"finance_approved": True}),
        ):
            started = time.perf_counter()
            outcome = workflow_complete_user_task(
                process,
                json.loads(text),
                task_id=outcome.ready_user_tasks[0].task_id,
                data=data,
            )
            text = json.dumps(outcome.state)
            times[step].append(time.perf_counter() - started)
    return times


def _raw_setup() -> OneCase:
    """Parse the example; return a function that runs one case, timing each step."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(__import__("lxml.etree").etree.fromstring(EXAMPLE.read_bytes()))
    spec = parser.get_spec("purchase_request")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def one_case() -> dict[str, float]:
        times = {}
        started = time.perf_counter()
        wf = BpmnWorkflow(spec, {})
        wf.task_tree.data.update({"amount": 120, "justification": "x"})
        wf.do_engine_steps()
        text = serializer.serialize_json(wf)
        times["start"] = time.perf_counter() - started
        for step, data in (
            ("manager approval", {"approved": True}),
            ("finance approval", {"finance_approved": True}),
        ):
            started = time.perf_counter()
            wf = serializer.deserialize_json(text)
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
            text = serializer.serialize_json(wf)
            times[step] = time.perf_counter() - started
        return times

    return one_case


def raw_spiff(cases: int) -> dict[str, list[float]]:
    return _runs(_raw_setup(), cases)


def side_by_side(cases: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Laneway end to end and raw SpiffWorkflow, one case of each in turn.

    Alternating keeps the two under the same load: on a shared machine, load
    that comes and goes during the run stretches both alike, so their ratio holds.
    """
    laneway, raw = _laneway_setup(), _raw_setup()
    times = ({step: [] for step in STEPS}, {step: [] for step in STEPS})
    for _ in range(cases):
        for kept, one_case in zip(times, (laneway, raw), strict=True):
            for step, seconds in one_case().items():
                kept[step].append(seconds)
    return times


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--cases", type=int, default=200)
    cases = args.parse_args().cases
    _ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    runs = {
        "Laneway end to end (PostgreSQL)": laneway_end_to_end(cases),
        "Laneway adapter only (no DB)": laneway_adapter(cases),
        "raw SpiffWorkflow 3.2.0": raw_spiff(cases),
    }
    print(f"Purchase example, {cases} cases; median / p95 ms per step")
    print(f"{'':34}" + "".join(f"{step:>20}" for step in STEPS))
    for label, times in runs.items():
        print(f"{label:34}" + "".join(f"{_stats(times[step]):>20}" for step in STEPS))


if __name__ == "__main__":
    main()
