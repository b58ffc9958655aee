"""Move a running case onto another version of its process (Camunda 7 migration).

Camunda's rules, kept: each active element is mapped to an element of the target
version, by the same id unless the plan maps it (`mapping`: old id -> new id);
it keeps its identity (task id, data, timer due dates, claimed/assigned user task,
pending service call); what comes after it follows the target version. What
Laneway cannot move exactly is refused for that case, located, and nothing of
the case changes:

- an active element with no counterpart in the target, or one of another kind;
- an active element whose boundary events differ between the versions (Camunda
  would create or drop event triggers; not supported yet);
- a parallel or inclusive join that is waiting with different incoming flows;
- an active element inside a subprocess, call activity or multi-instance body
  (not supported yet);
- a completed task that can still be compensated whose counterpart has no
  compensation handler (its subscription moves to the counterpart's handler);
- a waiting element whose message or signal name in the target holds an
  expression it cannot resolve now (Camunda's updateSubscription resolves
  it again on migration; event_names.py).

Finished history that is still in the stored tree must exist in the target too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from .called import workflow_rebase
from .common import ACTIVE
from .compensation import subscriptions_migrate, subscriptions_unmigratable
from .compiled import CompiledProcess
from .event_names import names_migrated
from .runtime import workflow_outcome
from .serialization import state_load
from .types import AdvanceOutcome

_RE_PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE


@dataclass(frozen=True, slots=True)
class MigrationProblem:
    """Why one case cannot move: the element (old id) and a sentence."""

    element_id: str
    message: str


class MigrationRefused(Exception):  # noqa: N818
    """The case cannot be moved exactly; nothing was changed."""

    def __init__(self, problems: list[MigrationProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _bpmn_name(spec: Any) -> str:
    return getattr(spec, "bpmn_name", None) or spec.name


def _kind(spec: Any) -> str:
    return type(spec).__name__


def _attached(spec_map: Mapping[str, Any], name: str) -> set[str] | None:
    """The boundary events attached to `name`, or None when it has none."""
    split = spec_map.get(f"{name}.BoundaryEventSplit")
    if split is None:
        return None
    return {o.name for o in split.outputs if o.name != name}


def _join_inputs(spec: Any) -> set[str]:
    return {i.name for i in getattr(spec, "inputs", [])}


def migration_problems(
    process: CompiledProcess,
    target: CompiledProcess,
    state: dict,
    mapping: Mapping[str, str],
) -> list[MigrationProblem]:
    """Return why this state cannot move from `process` to `target` ([] if it can)."""
    wf = state_load(state, process)
    return _problems(wf, target, mapping)


def _in_subprocess(wf: Any) -> list[MigrationProblem]:
    for task in wf.get_tasks(state=ACTIVE):
        if task.workflow is not wf:
            return [
                MigrationProblem(
                    task.task_spec.name,
                    f"“{_bpmn_name(task.task_spec)}” is active inside a subprocess "
                    "or called process; moving those is not supported yet.",
                )
            ]
    return []


def _kind_changed(
    task: Any, new: Any, old_specs: Any, new_specs: Any, mapping: Any
) -> str | None:
    if _kind(task.task_spec) != _kind(new):
        return (
            f"is active and would become a different kind of element "
            f"({_kind(task.task_spec)} → {_kind(new)})."
        )
    return None


def _in_loop(
    task: Any, new: Any, old_specs: Any, new_specs: Any, mapping: Any
) -> str | None:
    if isinstance(task.task_spec, LoopTask) or isinstance(
        task.parent.task_spec, LoopTask
    ):
        return "is an active multi-instance or loop; moving those is not supported yet."
    return None


def _boundary_changed(
    task: Any, new: Any, old_specs: Any, new_specs: Any, mapping: Any
) -> str | None:
    before = _attached(old_specs, task.task_spec.name)
    after = _attached(new_specs, new.name)
    if {mapping.get(n, n) for n in before or set()} != (after or set()):
        return (
            "is active and its boundary events differ in the target version; moving "
            "it would add or drop event triggers (not supported yet)."
        )
    return None


def _join_changed(
    task: Any, new: Any, old_specs: Any, new_specs: Any, mapping: Any
) -> str | None:
    old = task.task_spec
    if not task.has_state(TaskState.WAITING) or "Join" not in _kind(old):
        return None
    if {mapping.get(n, n) for n in _join_inputs(old)} != _join_inputs(new):
        return (
            "is a join waiting for its branches, and its incoming flows differ in "
            "the target version."
        )
    return None


_ACTIVE_CHECKS = (_kind_changed, _in_loop, _boundary_changed, _join_changed)


def _problems(
    wf: Any, target: CompiledProcess, mapping: Mapping[str, str]
) -> list[MigrationProblem]:
    new_specs: Mapping[str, Any] = target.spec.task_specs  # type: ignore[attr-defined]
    old_specs: Mapping[str, Any] = wf.spec.task_specs
    problems = _in_subprocess(wf) if wf.subprocesses else []
    for activity, why in subscriptions_unmigratable(wf, new_specs, mapping):
        problems.append(
            MigrationProblem(
                activity,
                f"“{activity}” completed and can still be compensated, but {why}",
            )
        )
    for task in wf.get_tasks(skip_subprocesses=True):
        if task.has_state(_RE_PREDICTED):
            continue  # predictions are made again from the target
        old = task.task_spec
        new_name = mapping.get(old.name, old.name)
        new = new_specs.get(new_name)
        label = f"“{_bpmn_name(old)}” ({old.name})"
        active = task.has_state(ACTIVE)
        if new is None:
            what = "is active" if active else "is still part of the case's state"
            problems.append(
                MigrationProblem(
                    old.name,
                    f"{label} {what} but the target version has no element "
                    f"“{new_name}”: map it to an element of the target version.",
                )
            )
        elif active:
            for check in _ACTIVE_CHECKS:
                message = check(task, new, old_specs, new_specs, mapping)
                if message:
                    problems.append(MigrationProblem(old.name, f"{label} {message}"))
    return problems


def workflow_migrate(
    process: CompiledProcess,
    target: CompiledProcess,
    state: dict,
    mapping: Mapping[str, str],
) -> AdvanceOutcome:
    """Move the state onto `target`; what comes next follows `target`.

    Raises:
        MigrationRefused: when the case cannot move exactly (nothing changed).
    """
    wf = state_load(state, process)
    problems = _problems(wf, target, mapping)
    if problems:
        raise MigrationRefused(problems)
    new_specs: Mapping[str, Any] = target.spec.task_specs  # type: ignore[attr-defined]
    for task in list(wf.get_tasks(skip_subprocesses=True)):
        if task.id not in wf.tasks:
            continue
        if task.has_state(_RE_PREDICTED):
            wf._remove_task(task.id)
            continue
        name = task.task_spec.name
        task.task_spec = new_specs[mapping.get(name, name)]
    workflow_rebase(wf, target)
    unresolved = [
        MigrationProblem(task.task_spec.name, why)
        for task in wf.get_tasks(state=TaskState.WAITING, skip_subprocesses=True)
        if (why := names_migrated(task))
    ]
    if unresolved:
        raise MigrationRefused(unresolved)
    subscriptions_migrate(wf, new_specs, mapping)
    for task in wf.get_tasks(state=ACTIVE, skip_subprocesses=True):
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return workflow_outcome(wf, target)
