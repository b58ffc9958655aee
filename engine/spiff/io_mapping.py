"""Camunda 7's input/output variable mapping (camunda:inputOutput).

Camunda 7 (User Guide, Process Engine, Variables, "Input/Output Variable
Mapping") makes an activity with camunda:inputOutput a variable scope of its
own: each input parameter creates a *local* variable of that scope, mapped in
order when the activity starts (before its start listeners:
`PvmExecutionImpl.enterActivityInstance`), so a later one reads an earlier
one; everything that runs in the activity sees it over the variable of the
same name outside (its form, its listeners, its assignee, candidate, date and
priority expressions, which Camunda resolves after the mapping, its script);
`setVariable` of that name inside the activity sets the local one. When the
activity ends normally (after its end listeners, `PvmAtomicOperationActivityEnd`)
each output parameter is evaluated in the activity's scope and set on the
parent scope (`setVariable` there: the nearest enclosing scope holding the
name, else the process instance); then the scope and its local variables are
gone. An activity cancelled (interrupting boundary event, terminate) maps no
outputs.

Here: the task specs of user, script, manual, receive and plain tasks,
embedded sub-processes, transactions, call activities, intermediate catch
and throw events and end events (IO_ACTIVITIES; support._io_problems refuses
what is not mapped as Camunda 7 maps it) with camunda:inputOutput get
`scope_inputs` / `scope_outputs` ((name, Python expression), in order;
`parse_io`). On a multi-instance
activity they are on the instances' spec, so each instance maps its own
inputs, reading its element variable and loopCounter (Camunda 7 User Guide,
"Multi-instance IO Mapping"; output parameters there are refused at upload,
as Camunda 7 refuses them). A call activity's inputs are in its data when it
starts, so camunda:in reads them (call_data.py); its outputs are evaluated
after camunda:out set what came back. The inputs are evaluated on the task's
update event (after SpiffWorkflow gave it the case's variables, before its
pre-script, i.e. its start and create listeners) into the task's data as
locals (`io_locals`: `variables.local_names` keeps them out of the case),
once: a waiting task (a receive task, a catch event) updated again gets the
same values back (`INPUTS_MAPPED`), as Camunda maps them on entry; a
sub-process's also become the local variables of its sub-process scope
(`variables.scope_locals_set`), which every inner task sees. The outputs are
evaluated on the completed event, after the post-script (complete and end
listeners), before the task's changes are published: the inputs' names get
the case's values back in the task's data (the local scope ends) and the
outputs are set on the parent scope (`variables.scope_set`). Service and
decision tasks keep their own mapping (service_tasks.py, dmn.py), which
evaluates its inputs with `inputs_in_order` too.

A parameter that fails to evaluate fails its task (an incident located on
the element), as a failing listener script does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.specs.defaults import SubWorkflowTask, TransactionSubprocess
from SpiffWorkflow.util.task import TaskState

from .conditional_events import note_written
from .multi_instance import loop_variables
from .parameters import IO_ACTIVITIES, parameter_value
from .reached_failures import not_ready_when_failed, stop_reaching
from .scripting import with_engine_facts
from .variables import (
    OUT_LOCALS,
    io_locals,
    scope_locals_set,
    scope_set,
    visible_values,
)
from .xml import local_name, vendor_children

IO_PARAMETERS = "bpmn:extensionElements/x:inputOutput/x:"


def io_parameters(node: etree._Element, kind: str) -> tuple[tuple[str, str], ...]:
    """Return an activity's camunda:inputOutput parameters of `kind`
    (inputParameter, outputParameter) as (name, Python expression), in order
    (an untranslatable one is refused at upload: normalize)."""
    found = []
    for param in vendor_children(node, IO_PARAMETERS + kind):
        value = parameter_value(param)
        if value is not None:
            found.append((param.get("name", ""), value))
    return tuple(found)


def parse_io(spec: Any, node: etree._Element) -> None:
    """Give the spec of an activity of IO_ACTIVITIES (a user, script, manual,
    receive or plain task, an embedded sub-process, a transaction or a call
    activity) its camunda:inputOutput (none: nothing changes)."""
    if local_name(node) not in IO_ACTIVITIES:
        return
    if not vendor_children(node, "bpmn:extensionElements/x:inputOutput"):
        return
    spec.scope_inputs = io_parameters(node, "inputParameter")
    spec.scope_outputs = io_parameters(node, "outputParameter")


def parameter_evaluate(
    task: Any, name: str, expression: str, context: Mapping[str, Any], what: str
) -> Any:
    """Evaluate one parameter's expression; a failure names the parameter."""
    try:
        return task.workflow.script_engine.environment.evaluate(
            expression, dict(context), with_engine_facts(task, expression, None)
        )
    except SpiffWorkflowException:
        raise
    except Exception as exc:  # noqa: BLE001 - as SpiffWorkflow's evaluate wraps it
        raise WorkflowTaskException(
            f"Error evaluating expression '{expression}' ({what} '{name}')",
            task=task,
            exception=exc,
        ) from exc


def inputs_in_order(
    task: Any, parameters: Iterable[tuple[str, str]], visible: Mapping[str, Any]
) -> dict[str, Any]:
    """Camunda 7 maps input parameters in order, each a local variable of the
    activity's scope as it is set, so a later one reads an earlier one by name
    (IoMapping.executeInputParameters); `visible` is what the scope sees."""
    inputs: dict[str, Any] = {}
    for name, expression in parameters:
        inputs[name] = parameter_evaluate(
            task, name, expression, {**visible, **inputs}, "input parameter"
        )
    return inputs


OUTPUTS_FAILED = "laneway_scope_outputs_failed"
INPUTS_MAPPED = "laneway_scope_inputs_mapped"


def _failed(task: Any, exc: SpiffWorkflowException) -> None:
    task._set_state(TaskState.ERROR)  # an incident on the element, retried from it
    exc.add_note(f"Input/output mapping of '{task.task_spec.bpmn_id}'.")
    raise exc


def on_update(workflow: Any, task: Any) -> None:
    """Map the task's input parameters into its data (its local variables).

    A failing input leaves the task in ERROR and is reported once the engine
    has run (reached_failures): raised here it would stop the predecessor's
    completion, and a parallel fork's other branches would never start.
    """
    spec = task.task_spec
    mapped = task.internal_data.get(INPUTS_MAPPED)
    if mapped is not None:
        # A waiting task (a receive task, a catch event) is updated again each
        # time the case is refreshed and inherits the case's data anew; Camunda
        # 7 mapped its inputs once, when it was entered: they stay as mapped.
        task.data.update(deepcopy(mapped))
        return
    try:
        inputs = inputs_in_order(
            task, spec.scope_inputs, {**loop_variables(task), **task.data}
        )
    except SpiffWorkflowException as exc:
        exc.add_note(f"Input/output mapping of '{spec.bpmn_id}'.")
        stop_reaching(task, exc)
    task.data.update(deepcopy(inputs))
    task.internal_data[INPUTS_MAPPED] = deepcopy(inputs)


def subprocess_started(task: Any, subworkflow: Any) -> None:
    """The sub-process's inputs become local variables of its scope."""
    inputs = {name: task.data[name] for name in io_locals(task) if name in task.data}
    if inputs:
        scope_locals_set(subworkflow, inputs)


def on_complete(workflow: Any, task: Any) -> None:
    """Map the task's output parameters onto the parent scope; its local
    variables end with it."""
    spec = task.task_spec
    # Its input parameters, and what a call activity's camunda:out
    # local="true" set on its scope (call_data.py).
    names = {name for name, _ in spec.scope_inputs}
    names |= set(task.internal_data.get(OUT_LOCALS, ()))
    visible = {**loop_variables(task), **task.data}
    outputs: dict[str, Any] = {}
    try:
        for name, expression in spec.scope_outputs:
            # A later output reads an earlier one's value where no local hides it.
            seen = {k: v for k, v in outputs.items() if k not in names}
            context = {**visible, **seen}
            outputs[name] = parameter_evaluate(
                task, name, expression, context, "output parameter"
            )
    except SpiffWorkflowException as exc:
        task.internal_data[OUTPUTS_FAILED] = True
        _failed(task, exc)
    task.internal_data.pop(OUTPUTS_FAILED, None)
    task.internal_data.pop(OUT_LOCALS, None)
    task.internal_data.pop(INPUTS_MAPPED, None)
    # The task's scope ends: the variables of those names outside are seen again.
    outside = visible_values(task.workflow, names)
    for name in names:
        if name in outside:
            task.data[name] = outside[name]
        else:
            task.data.pop(name, None)
    if outputs:
        task.data.update(deepcopy(outputs))
        scope_set(task.workflow, outputs)
        note_written(task.workflow, outputs)  # each a setVariable: an update


def outputs_failed(task: Any) -> bool:
    """Whether `task` is in ERROR because an output parameter failed."""
    return bool(task.internal_data.get(OUTPUTS_FAILED))


def outputs_retry(task: Any) -> None:
    """Complete a task whose output parameters failed, evaluating them again.

    Everything before them ran when the task completed (its form data, script,
    complete and end listeners are in its data): only its completed event is
    emitted again (the outputs, then publishing its variables), then its
    successors are updated, as `TaskSpec._on_complete` does.
    """
    task._set_state(TaskState.COMPLETED)
    TaskSpec._on_complete_hook(task.task_spec, task)
    for child in task.children:
        if not child.has_state(TaskState.FINISHED_MASK):
            child.task_spec._update(child)
    task.workflow._task_completed_notify(task)


class _ScopeInputs:
    """A sub-process (embedded or a transaction) whose input parameters are
    local variables of its scope, seen by every activity inside it."""

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        super().copy_data(my_task, subworkflow)  # type: ignore[misc]
        subprocess_started(my_task, subworkflow)


class IoSubWorkflowTask(_ScopeInputs, SubWorkflowTask):
    """An embedded sub-process with camunda:inputOutput."""


class IoTransactionSubprocess(_ScopeInputs, TransactionSubprocess):
    """A transaction with camunda:inputOutput (Camunda 7 maps it as on an
    embedded sub-process: BpmnParse.checkActivityInputOutputSupported)."""


_SCOPE_CLASSES = {
    SubWorkflowTask: IoSubWorkflowTask,
    TransactionSubprocess: IoTransactionSubprocess,
}


def connect(spec: Any) -> None:
    """Map a spec's camunda:inputOutput when its task starts and completes
    (`semantics.adapt_specs`, before anything publishes the task's data)."""
    if getattr(spec, "scope_inputs", None) is None:
        return
    if spec.scope_inputs and not spec.update_event.is_connected(on_update):
        spec.update_event.connect(on_update)
        # Specs are rebuilt per parse and never serialized: the hook is the
        # spec's own attribute.
        spec._update_hook = not_ready_when_failed(spec._update_hook)
    if not spec.completed_event.is_connected(on_complete):
        spec.completed_event.connect(on_complete)
    scope_class = _SCOPE_CLASSES.get(type(spec))
    if scope_class is not None:
        spec.__class__ = scope_class
