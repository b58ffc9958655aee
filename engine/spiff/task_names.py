"""A user task's name that holds an expression, resolved as Camunda 7 does.

Camunda 7 reads a user task's `name` as an expression (BpmnParse
.parseTaskDefinition: `taskDefinition.setNameExpression(...)`) and evaluates
it when it creates the task (TaskDecorator.initializeTaskName, after the
activity's input mapping and start listeners, in the task's scope): `My Task
${loopCounter}` names each multi-instance instance's task by its counter, and
a later change of the variables does not rename it. `Approve ${amount}` is
composite text (each part coerced to a String, null is ""); a name that is one
`${...}` alone must be a String or null (Camunda casts it). A part that cannot
be resolved (an unknown variable) fails the task's creation: an incident on
the task here, retried once the data is fixed. Laneway showed the name as
drawn, `${...}` and all.

Here the spec of a user task whose name has `${...}` keeps its Python
expression (`parse_name`); once the task is reached (its inputs mapped, its
pre-script run) the name is resolved into its internal data (`NAME_KEY`), so
it is saved and reloaded with the case and the task is offered under it
(runtime._ready_user_tasks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .event_name_checks import name_expression
from .juel import JuelError, is_juel
from .multi_instance import loop_variables
from .reached_failures import not_ready_when_failed, stop_reaching
from .scripting import with_engine_facts
from .types import Problem
from .xml import NSMAP, local_name

NAME_KEY = "laneway_task_name"  # task internal data: the resolved name
# What the task's name column holds (Camunda 7's NAME_ is a varchar(255) too).
NAME_MAX_LENGTH = 255


def parse_name(spec: Any, node: etree._Element) -> None:
    """Keep on a user task's spec the Python expression of its name, if any."""
    name = node.get("name") or ""
    if local_name(node) != "userTask" or not is_juel(name):
        return
    try:
        spec.name_expression = name_expression(name)
    except JuelError:
        return  # refused at upload (`name_problems`)


def name_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse a user task name whose expression cannot run here."""
    for task in root.iterfind(".//bpmn:userTask", NSMAP):
        name = task.get("name") or ""
        if not is_juel(name):
            continue
        try:
            name_expression(name)
        except JuelError as exc:
            yield Problem(
                f"User task '{task.get('id')}': its name {name!r} is an expression "
                f"Camunda 7 evaluates when it creates the task, and this one "
                f"cannot run here: {exc}",
                task.sourceline,
                task.get("id"),
            )


def _resolved(task: Any) -> tuple[str, str]:
    """Return the task's name resolved now, or "" and why it cannot be."""
    expression = task.task_spec.name_expression
    context = {**loop_variables(task), **task.data}
    try:
        value = task.workflow.script_engine.environment.evaluate(
            expression, context, with_engine_facts(task, expression, None)
        )
    except SpiffWorkflowException as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        return "", f"{type(cause).__name__}: {cause}"
    except Exception as exc:  # noqa: BLE001 - the expression's own failure
        return "", f"{type(exc).__name__}: {exc}"
    if value is None:
        return "", ""  # Camunda 7 sets a null name
    if not isinstance(value, str):
        return "", f"it is {value!r} ({type(value).__name__}), not text"
    if len(value) > NAME_MAX_LENGTH:
        return "", f"it is {len(value)} characters long, over {NAME_MAX_LENGTH}"
    return value, ""


def _named(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _update_hook(my_task: Any) -> Any:
        reached = not my_task.has_state(TaskState.READY)
        ready = hook(my_task)
        if ready and reached and NAME_KEY not in my_task.internal_data:
            name, why = _resolved(my_task)
            if why:
                error = WorkflowTaskException(
                    f"The name {my_task.task_spec.bpmn_name!r} of the user task "
                    f"cannot be resolved: {why} (Camunda 7 fails to create the "
                    "task too; set the variables and retry)",
                    task=my_task,
                )
                error.error_type = "TaskNameNotResolved"
                stop_reaching(my_task, error)
            my_task.internal_data[NAME_KEY] = name
        return ready

    return _update_hook


def connect(spec: Any) -> None:
    """Resolve a user task's name when it is reached (`semantics.adapt_specs`)."""
    if getattr(spec, "name_expression", None):
        spec._update_hook = not_ready_when_failed(_named(spec._update_hook))


def task_name(task: Any, drawn: str) -> str:
    """The name a reached user task is offered under: resolved, else as drawn."""
    resolved = task.internal_data.get(NAME_KEY)
    return drawn if resolved is None else resolved
