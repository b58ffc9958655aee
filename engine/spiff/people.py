"""A human task's assignee and candidates read from variables, checked as it is reached.

Camunda 7 evaluates a user task's assignee, candidate users and candidate
groups when it creates the task (`TaskDecorator.initializeTaskAssignments`,
after its input mapping and start listeners): `${approver}` naming no variable
fails there ("Unknown property used in expression: ${approver}. Cause: Cannot
resolve identifier 'approver'"), so does an assignee that is not text (a cast
to String) and a candidate expression that is neither a text nor a collection
("Expression did not resolve to a string or collection of strings", also for
null); a null assignee leaves the task unassigned.

Laneway resolves the names when it offers the task (candidates.py); a name it
could not resolve used to send the task to the version's default group, to
people the diagram never named. Here the spec of a user or manual task whose
people are variables keeps them (`parse_people`); once the task is reached
(its inputs mapped, its pre-script run) they are read from its variables, and
one Camunda 7 would fail on fails the task as it is reached (reached_failures):
an incident on the task naming the expression and why, retried once the data
is fixed. An assignee a create listener sets only when its variable is set
(`if (x) task.setAssignee(x)`, listeners.py marks it) may be missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from .candidates import INITIATOR_VALUES, VARIABLE
from .metadata import HUMAN_TAGS, human_task_meta
from .multi_instance import loop_variables
from .reached_failures import not_ready_when_failed, stop_reaching
from .xml import SPIFF, local_name

# On a human task: its assignee is set by a create listener only when the
# variable it names is set (listeners.py), so it may be missing.
ASSIGNEE_IF_SET = f"{{{SPIFF}}}assigneeIfSet"

_FIELDS = (
    ("assignee", "assignee"),
    ("candidate_users", "candidate users"),
    ("candidate_groups", "candidate groups"),
)


def parse_people(spec: Any, node: etree._Element) -> None:
    """Keep on a human task's spec its people read from one variable each:
    (what, expression, variable name)."""
    if local_name(node) not in HUMAN_TAGS:
        return
    meta = human_task_meta(node, None)
    found = []
    for field, what in _FIELDS:
        values = getattr(meta, field)
        if field == "assignee" and node.get(ASSIGNEE_IF_SET) == "true":
            continue
        for value in (values,) if isinstance(values, str) else values:
            match = VARIABLE.match(value)
            if match is not None and value not in INITIATOR_VALUES:
                found.append((what, value, match.group(1)))
    if found:
        spec.people_expressions = tuple(found)


def _shown(value: Any) -> str:
    return "null" if value is None else f"{value!r} ({type(value).__name__})"


def people_problem(
    expressions: tuple[tuple[str, str, str], ...], data: Mapping[str, Any]
) -> str:
    """Why Camunda 7 would fail to create the task with `data` ("": it would not)."""
    for what, expression, name in expressions:
        if name not in data:
            return (
                f"Unknown property used in expression: {expression}. Cause: "
                f"Cannot resolve identifier '{name}' (the task's {what})"
            )
        value = data[name]
        if what == "assignee":
            if value is not None and not isinstance(value, str):
                return (
                    f"The assignee expression {expression} did not resolve to a "
                    f"text: it is {_shown(value)}"
                )
            continue
        texts = isinstance(value, str) or (
            isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        )
        if not texts:
            return (
                f"The {what} expression {expression} did not resolve to a text "
                f"or a list of texts: it is {_shown(value)}"
            )
    return ""


def _checked(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _update_hook(my_task: Any) -> Any:
        reached = not my_task.has_state(TaskState.READY)
        ready = hook(my_task)
        if ready and reached:
            data = {**loop_variables(my_task), **my_task.data}
            why = people_problem(my_task.task_spec.people_expressions, data)
            if why:
                error = WorkflowTaskException(
                    f"{why}; Camunda 7 fails to create the task too: set the "
                    "variable and retry",
                    task=my_task,
                )
                error.error_type = "TaskPeopleNotResolved"
                stop_reaching(my_task, error)
        return ready

    return _update_hook


def connect(spec: Any) -> None:
    """Check a human task's people when it is reached (`semantics.adapt_specs`)."""
    if getattr(spec, "people_expressions", None):
        spec._update_hook = not_ready_when_failed(_checked(spec._update_hook))
