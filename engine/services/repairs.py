"""Repairs an operator makes to a locked case, through the advance core.

The cockpit decides who may repair and audits why; engine owns what a repair
does to the workflow state (only engine imports the adapter).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from engine.models import Case
from engine.spec_cache import spec_for
from engine.spiff import workflow_set_data

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
