"""A user task's name and description that hold an expression, resolved as
Camunda 7 does.

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
drawn, `${...}` and all. The task's description, its bpmn:documentation, is an
expression too (setDescriptionExpression; TaskDecorator
.initializeTaskDescription), resolved alike.

Here the spec of a user task whose name or documentation has `${...}` keeps
their Python expressions (`parse_name`); once the task is reached (its inputs
mapped, its pre-script run) they are resolved into its internal data
(`NAME_KEY`, `DESCRIPTION_KEY`), so they are saved and reloaded with the case
and the task is offered under them (runtime._ready_user_tasks).
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
DESCRIPTION_KEY = "laneway_task_description"  # and the resolved documentation
# What the task's name column holds (Camunda 7's NAME_ is a varchar(255) too).
NAME_MAX_LENGTH = 255


def _texts(node: etree._Element) -> dict[str, str]:
    """A user task's name and documentation (Camunda 7 joins the texts of its
    bpmn:documentation elements: BpmnParse.parseDocumentation)."""
    docs = node.findall("bpmn:documentation", NSMAP)
    return {
        "name": node.get("name") or "",
        "documentation": "\n".join((d.text or "").strip() for d in docs).strip(),
    }


def parse_name(spec: Any, node: etree._Element) -> None:
    """Keep on a user task's spec the Python expressions of its name and
    documentation, when they hold `${...}`."""
    if local_name(node) != "userTask":
        return
    expressions = {}
    for what, text in _texts(node).items():
        if not is_juel(text):
            continue
        try:
            expressions[what] = name_expression(text)
        except JuelError:
            return  # refused at upload (`name_problems`)
    if expressions:
        spec.text_expressions = expressions


def name_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse a user task name or documentation whose expression cannot run."""
    for task in root.iterfind(".//bpmn:userTask", NSMAP):
        for what, text in _texts(task).items():
            if not is_juel(text):
                continue
            try:
                name_expression(text)
            except JuelError as exc:
                yield Problem(
                    f"User task '{task.get('id')}': its {what} {text!r} is an "
                    "expression Camunda 7 evaluates when it creates the task, "
                    f"and this one cannot run here: {exc}",
                    task.sourceline,
                    task.get("id"),
                )


def _resolved(task: Any, expression: str, what: str) -> tuple[str, str]:
    """Return a text of the task resolved now, or "" and why it cannot be."""
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
        return "", ""  # Camunda 7 sets a null name (description)
    if not isinstance(value, str):
        return "", f"it is {value!r} ({type(value).__name__}), not text"
    if what == "name" and len(value) > NAME_MAX_LENGTH:
        return "", f"it is {len(value)} characters long, over {NAME_MAX_LENGTH}"
    return value, ""


_KEYS = {"name": NAME_KEY, "documentation": DESCRIPTION_KEY}


def _named(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _update_hook(my_task: Any) -> Any:
        reached = not my_task.has_state(TaskState.READY)
        ready = hook(my_task)
        if not (ready and reached) or NAME_KEY in my_task.internal_data:
            return ready
        resolved = {}
        for what, expression in my_task.task_spec.text_expressions.items():
            text, why = _resolved(my_task, expression, what)
            if why:
                error = WorkflowTaskException(
                    f"The {what} of the user task cannot be resolved: {why} "
                    "(Camunda 7 fails to create the task too; set the "
                    "variables and retry)",
                    task=my_task,
                )
                error.error_type = "TaskNameNotResolved"
                stop_reaching(my_task, error)
            resolved[_KEYS[what]] = text
        my_task.internal_data.update(resolved)
        my_task.internal_data.setdefault(NAME_KEY, None)
        return ready

    return _update_hook


def connect(spec: Any) -> None:
    """Resolve a user task's name when it is reached (`semantics.adapt_specs`)."""
    if getattr(spec, "text_expressions", None):
        spec._update_hook = not_ready_when_failed(_named(spec._update_hook))


def task_name(task: Any, drawn: str) -> str:
    """The name a reached user task is offered under: resolved, else as drawn."""
    resolved = task.internal_data.get(NAME_KEY)
    return drawn if resolved is None else resolved


def task_description(task: Any) -> str | None:
    """A reached user task's resolved documentation (None: as drawn)."""
    resolved = task.internal_data.get(DESCRIPTION_KEY)
    return None if resolved is None else str(resolved)
