"""What a signal carries: Camunda's `camunda:in` and SpiffArena's payload.

Camunda 7 (what Camunda Modeler writes on a signal throw event's
`signalEventDefinition`, in its `extensionElements`):

* `<camunda:in variables="all"/>` passes every variable of the throwing
  execution, `<camunda:in source="a" target="b"/>` one variable (a missing
  source passes null), `sourceExpression="${...}"` a computed value; they
  become variables of every catching case and of every case the signal
  starts. Without any `camunda:in` nothing is passed.
* `local="true"` and `businessKey` are refused at upload (support.py).

SpiffArena: the `bpmn:signal` element's `spiffworkflow:payloadExpression` (a
Python expression evaluated when the signal is thrown) is the payload; a
catching event whose signal names `spiffworkflow:variableName` stores it in
that variable (SpiffWorkflow does so inside one case; Laneway across cases).

The throw here records `(name, payload)` on the top workflow (not in the
state), read by `thrown_signals` when the advance ends; the engine then
broadcasts the payload with the signal.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition

from .call_data import VariableMapping, mapped_variables, mappings

_THROWN = "laneway_thrown_signals"


class MappedSignalEventDefinition(SignalEventDefinition):
    """A thrown signal that carries its `camunda:in` variables (or Spiff payload)."""

    def __init__(
        self, name: str, ins: tuple[VariableMapping, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(name, **kwargs)
        self.ins = ins

    def throw(self, my_task: Any) -> None:
        if self.ins:
            payload = mapped_variables(my_task, my_task.data, self.ins)
        elif self.expression:
            payload = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        else:
            payload = None
        top = my_task.workflow.top_workflow
        thrown = getattr(top, _THROWN, None)
        if thrown is None:
            thrown = []
            setattr(top, _THROWN, thrown)
        thrown.append((self.name, deepcopy(payload)))
        top.catch(BpmnEvent(self, payload=payload))

    def update_task_data(self, my_task: Any) -> None:
        """Set the caught payload: in `variableName`, else its variables (Camunda)."""
        if self.variable is not None:
            super().update_task_data(my_task)
            return
        payload = my_task.internal_data.pop(self.name, None)
        if isinstance(payload, dict):
            my_task.data.update(deepcopy(payload))


def thrown_with_payloads(workflow: Any) -> list[tuple[str, Any]]:
    """Take the (name, payload) of the signals thrown since the workflow loaded."""
    top = workflow.top_workflow
    thrown = list(getattr(top, _THROWN, None) or [])
    setattr(top, _THROWN, [])
    return thrown


class SignalPayloadParserMixin:
    """Give signal definitions their `camunda:in` mappings and their payload.

    Every signal definition is a MappedSignalEventDefinition (SpiffWorkflow
    matches a thrown signal to its catchers by class and name).
    """

    def parse_signal_event(self, signal_event: Any) -> Any:
        plain = super().parse_signal_event(signal_event)  # type: ignore[misc]
        return MappedSignalEventDefinition(
            plain.name,
            ins=mappings(signal_event, "in"),
            expression=plain.expression,
            variable=plain.variable,
        )
