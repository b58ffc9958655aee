"""Implicit ends: a path ends at a flow node without outgoing sequence flow.

BPMN 2.0 §10.5.3 (and Camunda 7, PvmAtomicOperationActivityEnd): a token
reaching an activity or event with no outgoing sequence flow ends there, and a
process or sub-process completes once none of its paths is left. SpiffWorkflow
3.2 refuses a sub-process without end event ('A SubWorkflow Must contain an
End event'), and it completes a (sub-)workflow only when its end join
(`_EndJoin`, reached from end events) runs: a sub-process whose paths ended
implicitly never completed (a process was counted as completed only because
nothing of it was left unfinished: `runtime._outcome` asks `is_completed`).

Here every flow node of a (sub-)process without outgoing flow leads to the
scope's end join as an end event does (`implicit_ends`); the join waits for
every other path of the scope (`events.ScopedEndJoin`), so the scope completes
when its last path ends and the activity's outgoing flow is then taken, as in
Camunda 7 (the scope execution ends when all its child executions ended). An
activity with boundary events ends through its `BoundaryEventJoin`, which then
leads to the end join, so its waiting boundary events are cancelled first.
Nodes with no incoming flow either (compensation handlers, started by a
compensation throw) are left alone: they are not part of any path.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent


def subprocess_spec(task_parser: Any) -> str:
    """Parse an embedded sub-process's content; return its spec id.

    SpiffWorkflow's `SubprocessParser.get_subprocess_spec` without its demand
    for an end event (Camunda 7 deploys a sub-process without one).
    """
    starts = task_parser.xpath("./bpmn:startEvent")
    if len(starts) != 1:
        raise ValidationException(
            "Exactly one start event is required in a SubWorkflow Task; "
            f"found {len(starts)}.",
            node=task_parser.node,
            file_name=task_parser.filename,
        )
    parser = task_parser.process_parser.parser
    parser.create_parser(
        task_parser.node, filename=task_parser.filename, lane=task_parser.lane
    )
    spec_id = str(task_parser.node.get("id"))
    parser.process_parsers[spec_id].parent = task_parser.process_parser
    return spec_id


def implicit_ends(spec: Any) -> Any:
    """Lead every path end without end event of `spec` to its end join (idempotent)."""
    end = spec.end
    for task_spec in list(spec.task_specs.values()):
        if task_spec is end or task_spec.outputs or not task_spec.inputs:
            continue
        if isinstance(task_spec, BoundaryEventJoin):
            main = [i for i in task_spec.inputs if not isinstance(i, BoundaryEvent)]
            if main and main[0].outputs == [task_spec]:
                task_spec.connect(end)
            continue
        if task_spec.bpmn_id is not None:
            task_spec.connect(end)
    return spec
