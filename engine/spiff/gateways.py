"""Flow nodes whose SpiffWorkflow behaviour departs from BPMN / Camunda 7.

An exclusive gateway fails as an incident on the gateway when no flow is taken.

An event-based gateway takes the path of the first of its events only
(`LanewayEventBasedGateway`).

SpiffWorkflow raises a bare `WorkflowException` without the task ("No
conditions satisfied for gw"), so the case's incident named no element. BPMN
(and Camunda 7) make it an error at the gateway; here it is a task failure of
the gateway with a message that says what to change.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import EventBasedGateway, ExclusiveGateway
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.defaults import NoneTask


class LanewayExclusiveGateway(ExclusiveGateway):
    """ExclusiveGateway whose 'no flow to take' error is located on its task."""

    def _run_hook(self, my_task: Any) -> Any:
        try:
            return super()._run_hook(my_task)
        except WorkflowTaskException:
            raise
        except WorkflowException:
            pass  # raised below, outside the handler: no chained cause in the message
        name = self.bpmn_name or self.bpmn_id
        raise WorkflowTaskException(
            f"No conditions satisfied for exclusive gateway '{name}': no outgoing "
            "flow has a true condition and there is no default flow",
            task=my_task,
        )


class PassThroughTask(NoneTask):
    """An abstract task (`bpmn:task`) passes through, as in Camunda 7.

    SpiffWorkflow makes it a manual task, which here would open an inbox task
    with no candidates: the case would wait for nobody.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class LanewayEventBasedGateway(EventBasedGateway):
    """An event-based gateway that takes the path of the first event only.

    BPMN 2.0.2 §13.4.4: the first event to occur wins, the others are no longer
    waited for (Camunda 7's EventBasedGatewayActivityBehavior: the first event
    subscription or timer job triggered removes the others). SpiffWorkflow
    keeps every event it saw (`seen_events`) and takes all their paths: when a
    message or signal is caught while one of its timers is due but not yet
    fired (the sweep or the wake comes a moment later), checking whether it
    fired adds every due timer too, and both the caught event's and the
    timer's tasks opened. The event caught first is kept: the caught message
    or signal, which SpiffWorkflow records before it looks at the timer (a
    gateway has one timer at most: a second is refused at upload).
    """

    def _update_hook(self, my_task: Any) -> Any:
        fired = super()._update_hook(my_task)
        _first_seen_only(my_task)
        return fired

    def _run_hook(self, my_task: Any) -> Any:
        _first_seen_only(my_task)
        return super()._run_hook(my_task)


def _first_seen_only(my_task: Any) -> None:
    seen = my_task.internal_data.get("seen_events")
    if seen and len(seen) > 1:
        my_task.internal_data["seen_events"] = seen[:1]


# The parsed classes Laneway swaps for its own (semantics.adapt_specs).
REPLACEMENTS = {EventBasedGateway: LanewayEventBasedGateway}
