"""Print what the engine hardening costs and saves (figures, not a test).

    /work/main/.venv/bin/python bench/prune_and_sandbox.py [--loops 1,10,100,1000]

1. The purchase example's rework loop (reject -> revise), one persistent step =
   load state -> complete the user task -> engine -> (prune) -> dump to JSON text:
   * Laneway's adapter (sandboxed engine, pruning), through `workflow_*`;
   * raw SpiffWorkflow 3.2.0 (default engine and serializer, no pruning; the
     iterator depth default raised, or it silently completes after ~333 loops).
   Per checkpoint: median of 7 replays of the next step from the same stored
   state, and the stored state's size.
2. Per-evaluation cost of a gateway condition and a 20-line script, Laneway's
   sandbox vs SpiffWorkflow's default `TaskDataEnvironment`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.spiff import (  # noqa: E402
    processes_compile,
    workflow_complete_user_task,
    workflow_start,  # noqa: E402
)
from engine.spiff.sandbox.pool import shutdown_pool  # noqa: E402
from engine.spiff.scripting import SandboxedEnvironment  # noqa: E402

PURCHASE = ROOT / "examples" / "purchase_request.bpmn"
REJECT = {"approved": False, "comment": "too expensive"}
REVISE = {"amount": 800.0, "justification": "cheaper"}
REPLAYS = 7


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# -- 1a. Laneway adapter --------------------------------------------------------
def laneway_rows(checkpoints: list[int]) -> list[tuple[int, int, float]]:
    process = processes_compile(PURCHASE.read_bytes())[0]
    outcome = workflow_start(process, data={"amount": 900.0, "justification": "x"})
    state_text = json.dumps(outcome.state)
    rows = []
    for loop in range(1, max(checkpoints) + 1):
        for data in (REJECT, REVISE):
            task_id = outcome.ready_user_tasks[0].task_id
            state = json.loads(state_text)
            outcome = workflow_complete_user_task(
                process, state, task_id=task_id, data=data
            )
            state_text = json.dumps(outcome.state)
        if loop in checkpoints:
            task_id = outcome.ready_user_tasks[0].task_id
            samples = []
            for _ in range(REPLAYS):
                started = time.perf_counter()
                replay = workflow_complete_user_task(
                    process, json.loads(state_text), task_id=task_id, data=REJECT
                )
                json.dumps(replay.state)
                samples.append(time.perf_counter() - started)
            rows.append((loop, len(state_text), _median_ms(samples)))
    return rows


# -- 1b. raw SpiffWorkflow, unpruned ----------------------------------------------
def _raw_step(serializer, text: str, data: dict) -> str:
    wf = serializer.deserialize_json(text)
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    task.data.update(data)
    task.run()
    wf.do_engine_steps()
    return serializer.serialize_json(wf)


def raw_rows(checkpoints: list[int]) -> list[tuple[int, int, float]]:
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(PURCHASE.read_bytes())
    wf = BpmnWorkflow(parser.get_spec("purchase_request"))
    wf.get_tasks(state=TaskState.READY)[0].data.update(amount=900.0, justification="x")
    wf.do_engine_steps()
    rows = []
    for loop in range(1, max(checkpoints) + 1):
        for data in (REJECT, REVISE):  # in memory: only checkpoints pay for JSON
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
        if loop in checkpoints:
            text = serializer.serialize_json(wf)
            samples = []
            for _ in range(REPLAYS if loop < 500 else 3):
                started = time.perf_counter()
                _raw_step(serializer, text, REJECT)
                samples.append(time.perf_counter() - started)
            rows.append((loop, len(text), _median_ms(samples)))
    return rows


# -- 2. per-evaluation cost -------------------------------------------------------
CONTEXT = {
    "approved": True, "amount": 250, "requester": "alice",
    "votes": [{"by": "ann", "ok": True}, {"by": "bob", "ok": False}],
    "items": [
        {"sku": "A1", "qty": 2, "price": 9.5},
        {"sku": "B2", "qty": 1, "price": 120.0},
    ],
    "notes": ["n" * 40] * 16,
}  # fmt: skip
CONDITION = "approved == True and amount < 1000"
SCRIPT = """\
total = 0
lines = []
for item in items:
    line_total = item['qty'] * item['price']
    total += line_total
    lines.append(f"{item['sku']}: {line_total:.2f}")
discount = 0
if total > 100:
    discount = round(total * 0.05, 2)
elif total > 50:
    discount = 2.5
net = total - discount
approvals = [v['by'] for v in votes if v['ok']]
rejections = len(votes) - len(approvals)
needs_cfo = net > 500 or rejections > 1
summary = {'total': total, 'net': net, 'lines': lines}
label = requester.upper() + '-' + str(len(lines))
ratio = len(approvals) / max(len(votes), 1)
status = 'auto' if ratio >= 0.5 and not needs_cfo else 'manual'
"""


def _percentiles(fn, n: int) -> tuple[float, float]:
    for _ in range(min(200, n)):
        fn()  # warm caches and workers
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return samples[len(samples) // 2] * 1e6, samples[int(len(samples) * 0.95)] * 1e6


def evaluation_rows() -> list[tuple[str, float, float]]:
    default, sandboxed = TaskDataEnvironment(), SandboxedEnvironment()
    return [
        ("condition, SpiffWorkflow default", *_percentiles(
            lambda: default.evaluate(CONDITION, dict(CONTEXT)), 5000)),
        ("condition, Laneway guarded", *_percentiles(
            lambda: sandboxed.evaluate(CONDITION, dict(CONTEXT)), 5000)),
        ("20-line script, SpiffWorkflow default", *_percentiles(
            lambda: default.execute(SCRIPT, dict(CONTEXT)), 2000)),
        ("20-line script, Laneway worker pool", *_percentiles(
            lambda: sandboxed.execute(SCRIPT, dict(CONTEXT)), 2000)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", default="1,10,100,1000")
    checkpoints = sorted(int(x) for x in parser.parse_args().loops.split(","))

    print("Purchase example, rework loops (one persistent step; median ms)")
    print(
        f"{'loops':>6} | {'Laneway bytes':>13} {'step ms':>8} | "
        f"{'raw bytes':>10} {'step ms':>8}"
    )
    for (loop, size, ms), (_, raw_size, raw_ms) in zip(
        laneway_rows(checkpoints), raw_rows(checkpoints), strict=True
    ):
        print(f"{loop:>6} | {size:>13,} {ms:>8.2f} | {raw_size:>10,} {raw_ms:>8.2f}")
    print("(Laneway state excludes the spec; raw SpiffWorkflow JSON embeds it, ~4 kB)")
    print()
    print("Per evaluation, 1 kB of task data (µs)")
    print(f"{'':40} {'p50':>8} {'p95':>8}")
    for label, p50, p95 in evaluation_rows():
        print(f"{label:40} {p50:>8.1f} {p95:>8.1f}")
    shutdown_pool()


if __name__ == "__main__":
    main()
