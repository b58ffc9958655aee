"""A conditional event's JUEL condition as Camunda 7 evaluates it (tryEvaluate).

Camunda 7's IntermediateConditionalEventBehavior evaluates the condition when
the event is reached and on every variable change with
UelExpressionCondition.tryEvaluate: a ProcessEngineException caused by a
PropertyNotFoundException (a variable that does not exist, or a property of a
value that has none) counts as false, so the event waits; any other failure
(a value that is not a Boolean, a failed coercion) is raised: an incident.

SpiffWorkflow's ConditionalEventDefinition turns every failure into an
incident, which stays the reading of a Python (SpiffArena) condition. A
condition translated from JUEL is marked by its `_el_condition_` wrapper
(`juel.is_checked_condition`); `adapt` gives its definition this class once
per parse (specs are cached per version, never serialized with a case).

The mark is in the translated text, so this holds for versions translated
under TRANSLATOR_VERSION 5 or later; the runtime part (this class) needs no
migration of cases.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition,
)

from .juel import is_checked_condition
from .sandbox.el import PropertyNotFound


class JuelConditionalEventDefinition(ConditionalEventDefinition):
    """A conditional event whose unresolvable condition is false, not an error."""

    def has_fired(self, my_task: Any) -> bool:
        try:
            return bool(super().has_fired(my_task))
        except WorkflowTaskException as exc:
            cause = exc.__cause__ or exc.__context__
            if not isinstance(cause, NameError | PropertyNotFound):
                raise
        my_task._set_internal_data(has_fired=False)
        return False


def adapt(task_spec: Any) -> None:
    """Give a JUEL conditional event Camunda's tryEvaluate (idempotent)."""
    definition = getattr(task_spec, "event_definition", None)
    if type(definition) is ConditionalEventDefinition and is_checked_condition(
        definition.expression or ""
    ):
        definition.__class__ = JuelConditionalEventDefinition
