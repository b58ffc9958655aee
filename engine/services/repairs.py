"""Repairs an operator makes to a locked case, through the advance core: edit its
variables, cancel and start elements (modification), move it onto another version.

The cockpit decides who may repair and audits why; engine owns what a repair
does to the workflow state (only engine imports the adapter).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import ModificationRefused
from engine.models import Case, Incident
from engine.spec_cache import spec_for
from engine.spiff import (
    Instruction,
    MigrationProblem,
    MigrationRefused,
    migration_problems,
    workflow_migrate,
    workflow_modify,
    workflow_set_data,
)
from engine.spiff import ModificationRefused as Refused
from processes.models import ProcessVersion

from .advance import case_advance, incident_resolve
from .calls import service_calls_discard
from .script_host import case_scripts


def case_variables_set(
    *,
    case: Case,
    actor: Any,
    values: Mapping[str, Any],
    remove: Sequence[str],
) -> dict[str, Any]:
    """Set and remove variables of a case locked by the caller; return the new data.

    The values reach the tasks waiting now and the case data; the case is saved
    and its open tasks projected again as after any step. A running case's
    waiting conditional events are evaluated on them and fire when true; a
    suspended case's are when it resumes (`case_conditions_evaluate`).
    """
    with case_scripts(case, actor):
        outcome = workflow_set_data(
            spec_for(case.version),
            case.state.state,
            values=dict(values),
            remove=list(remove),
            run=case.status == Case.Status.RUNNING,
        )
    case_advance(case, outcome, actor=actor)
    return dict(outcome.data)


def case_conditions_evaluate(*, case: Case, actor: Any) -> None:
    """Evaluate the waiting conditional events of a case locked by the caller.

    For a case resumed after its variables changed while it was suspended; the
    case runs on from those that fire. Nothing is saved when none does.
    """
    with case_scripts(case, actor):
        outcome = workflow_set_data(
            spec_for(case.version), case.state.state, values={}, remove=[], run=True
        )
    if outcome.steps or outcome.failure:
        case_advance(case, outcome, actor=actor)


def case_migrate(
    *,
    case: Case,
    actor: Any,
    target: ProcessVersion,
    mapping: Mapping[str, str],
    dry_run: bool = False,
) -> list[MigrationProblem]:
    """Move a case locked by the caller onto `target`; return why not ([] = moved).

    Each active element keeps its identity (task ids, data, timer due dates,
    pending calls); what follows it runs as `target` says. A refused case is not
    changed. `dry_run` only checks.
    """
    process, goal = spec_for(case.version), spec_for(target)
    if dry_run:
        return migration_problems(process, goal, case.state.state, mapping)
    try:
        outcome = workflow_migrate(process, goal, case.state.state, mapping)
    except MigrationRefused as refused:
        return refused.problems
    case.version = target
    case_advance(case, outcome, actor=actor, moved=True)  # saves the version too
    return []


@dataclass(frozen=True, slots=True)
class CaseModified:
    """The active elements before and after a modification."""

    before: list[str]
    after: list[str]


def case_elements_modify(
    *,
    case: Case,
    actor: Any,
    instructions: Sequence[tuple[str, str]],
    data: Mapping[str, Any] | None = None,
    skip_custom_listeners: bool = False,
) -> CaseModified:
    """Cancel and start elements of a case locked by the caller, in one advance.

    `instructions` are (kind, element id) pairs, kind one of "cancel",
    "start_before", "start_after", "start_transition" (a flow id) or "cancel_task"
    (a task id); engine.spiff.modify has the semantics. `data` is merged into the
    variables of the new tokens. The waiting service calls of cancelled tasks are
    discarded and the incidents on them resolved ("modified"); open tasks are
    projected again. Custom listeners run unless `skip_custom_listeners`
    (Camunda's ProcessInstanceModificationBuilder.execute(skipCustomListeners)).

    Raises:
        ModificationRefused: an instruction cannot be applied (nothing changed).
    """
    before = list(case.active_elements)
    try:
        modified = workflow_modify(
            spec_for(case.version),
            case.state.state,
            instructions=[Instruction(kind, element) for kind, element in instructions],
            data=data,
            skip_custom_listeners=skip_custom_listeners,
        )
    except Refused as exc:
        where = f"Instruction {exc.index + 1}"
        raise ModificationRefused(
            f"{where} ({exc.element}): {exc.reason}."
            if exc.element
            else f"{exc.reason[0].upper()}{exc.reason[1:]}.",
            details={
                "instruction": exc.index,
                "element": exc.element,
                "reason": exc.reason,
            },
        ) from None
    cancelled = list(modified.cancelled_task_ids)
    service_calls_discard(
        case, task_ids=cancelled, reason="cancelled by a case modification"
    )
    for incident in Incident.objects.select_for_update().filter(
        case=case, spiff_task_id__in=cancelled, status=Incident.Status.OPEN
    ):
        incident_resolve(case, incident, actor=actor, resolution="modified")
    case_advance(case, modified.outcome, actor=actor)
    return CaseModified(before=before, after=list(case.active_elements))
