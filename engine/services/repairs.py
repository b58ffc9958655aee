"""Repairs an operator makes to a locked case, through the advance core: edit its
variables, move it onto another version of its process.

The cockpit decides who may repair and audits why; engine owns what a repair
does to the workflow state (only engine imports the adapter).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from engine.models import Case
from engine.spec_cache import spec_for
from engine.spiff import (
    MigrationProblem,
    MigrationRefused,
    migration_problems,
    workflow_migrate,
    workflow_set_data,
)
from processes.models import ProcessVersion

from .advance import case_advance


def case_variables_set(
    *,
    case: Case,
    actor: Any,
    values: Mapping[str, Any],
    remove: Sequence[str],
) -> dict[str, Any]:
    """Set and remove variables of a case locked by the caller; return the new data.

    The values reach the tasks waiting now and the case data; the case is saved
    and its open tasks projected again as after any step.
    """
    outcome = workflow_set_data(
        spec_for(case.version),
        case.state.state,
        values=dict(values),
        remove=list(remove),
    )
    case_advance(case, outcome, actor=actor)
    return dict(outcome.data)


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
    case.save(update_fields=["version"])
    case_advance(case, outcome, actor=actor)
    return []
