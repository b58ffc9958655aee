"""Multi-instance activities as Camunda 7 runs them.

SpiffWorkflow 3.2 departs from Camunda 7 (and from itself across processes):

* A finished instance is merged into the multi-instance task through an event
  handler that `create_child` connects in the process that created the
  instances. Laneway keeps specs out of the stored state, so a process that
  only loaded the case never had it connected: completing an instance there
  left the activity running forever. `connect_merge` connects every handler
  once, when the spec is parsed (what SpiffWorkflow's spec deserializer does).
  A standard loop task (`StandardLoopTask`) hooks its next iteration the same
  way, so it gets the same treatment: completed in a process that had not
  created the iteration, the loop never went on.
* The instance's data, element variable included, is merged into the
  activity's data, so a sequential activity refuses its second instance
  ("Multiinstance input item signer already exists"). In Camunda the element
  variable, `loopCounter` (and here the output item) are local to the
  instance: they shadow a case variable of the same name and are never merged
  back (`local_names`). Everything else an instance sets is a process variable
  shared at once with the case and the other instances (`variables.py`), so
  nothing is merged from an instance's copy; only an output collection, kept
  on the activity, is.
* Camunda's loop variables: each instance has `loopCounter` (0-based); the
  activity has `nrOfInstances`, `nrOfCompletedInstances` and
  `nrOfActiveInstances` (always 1 while a sequential activity runs), which
  expressions evaluated on the activity, an instance or inside an instance's
  sub-process can read (`loop_variables`), the completion condition included;
  the activity after it cannot (they end with the multi-instance body).
* A sequential activity reads its collection again for each next instance
  (`LanewaySequentialMultiInstance.get_next_input_item`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException, WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    MultiInstanceTask,
)
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .limits import (
    MAX_INSTANCE_DATA_BYTES,
    MAX_INSTANCES,
    InstanceCountOutOfBounds,
    limits_get,
)
from .reached_failures import not_ready_when_failed, stop_reaching
from .variables import publish, refresh, variables_of

LOOP_COUNTER = "loopCounter"


class _CamundaInstances(MultiInstanceTask):
    """Instance-local element variable and loopCounter; merge without them."""

    lists_only = False  # a map collection runs once per value (SpiffArena)

    def local_names(self) -> set[str]:
        names = {LOOP_COUNTER}
        for item in (self.input_item, self.output_item):
            if item is not None:
                names.add(item.bpmn_id)
        return names

    def _update_hook(self, my_task: Any) -> Any:
        ready = super()._update_hook(my_task)  # inherits the data; no instance yet
        try:
            self.check_collection_size(my_task)
        except SpiffWorkflowException as exc:
            # Raised on, it would stop the predecessor's completion, and a
            # parallel fork's other branches would never start.
            stop_reaching(my_task, exc)
        return ready

    def check_collection_size(self, my_task: Any) -> None:
        """Refuse too many instances, or too much copied data, before any instance.

        A collection may have at most MAX_INSTANCES items. A parallel activity
        creates one task per item at once, each with a copy of the case data, so
        its instances also count, with every other parallel activity's started
        in the same advance (several branches, each under the per-collection
        cap, would otherwise together create thousands of tasks in one
        request), against `EngineLimits.max_instances_per_advance`, and the
        copies against MAX_INSTANCE_DATA_BYTES.
        """
        data_input = self.data_input
        parallel = isinstance(self, ParallelMultiInstanceTask)
        if data_input is not None and data_input.exists(my_task):
            collection = data_input.get(my_task)
            what = f"collection {data_input.bpmn_id!r}"
            _require_collection(my_task, collection, what)
            size = len(collection)
            if size > MAX_INSTANCES:
                _refuse(my_task, f"{what} has {size} items (at most {MAX_INSTANCES})")
        elif parallel and data_input is None and self.cardinality is not None:
            # Capped at MAX_INSTANCES by the script engine (scripting.py).
            size = my_task.workflow.script_engine.evaluate(my_task, self.cardinality)
            what = "loop cardinality"
        else:
            return
        if parallel:
            _charge(my_task, size, what)

    def init_data_output_with_input_data(self, my_task: Any, input_data: Any) -> None:
        super().init_data_output_with_input_data(my_task, input_data)
        _share_output(my_task)

    def init_data_output_with_cardinality(self, my_task: Any) -> None:
        super().init_data_output_with_cardinality(my_task)
        _share_output(my_task)

    def create_child(self, my_task: Any, item: Any, key_or_index: Any = None) -> None:
        output = self.output_item
        if output is not None and output.exists(my_task):
            raise WorkflowDataException(
                f"Multi-instance output item {output.bpmn_id} already exists in the "
                "case data; the output element variable must be a new name",
                my_task,
            )
        task_spec = my_task.workflow.spec.task_specs[self.task_spec]
        connect_merge(self)
        counter = sum(1 for _ in self._instances(my_task))
        child = my_task._add_child(task_spec, TaskState.WAITING)
        child.triggered = True
        if self.input_item is not None:
            self.input_item.set(child, deepcopy(item))
        child.data[LOOP_COUNTER] = counter
        if key_or_index is not None:
            child.internal_data["key_or_index"] = key_or_index
        else:
            child.internal_data["item"] = item
        # The instance inherits the activity's data; its locals shadow any case
        # variable of the same name instead of being overwritten by it.
        shadowed = {
            k: my_task.data.pop(k) for k in self.local_names() if k in my_task.data
        }
        try:
            child.task_spec._update(child)
        finally:
            my_task.data.update(shadowed)
        # What the instance's start listeners (its pre-script) shared while the
        # activity was being run: the activity's own copy must not put the old
        # values back when it completes.
        store = variables_of(my_task.workflow)
        if store is not None:
            refresh(my_task, store)

    def merge_child(self, workflow: Any, child: Any) -> None:
        # The instance's variables are already shared (`variables.publish` runs
        # first); only an output collection, kept on the activity, is merged.
        my_task = child.parent
        if self.data_output is not None and self.output_item is not None:
            super().merge_child(workflow, child)
            publish(my_task)
            return
        my_task.internal_data["merged"].append(str(child.id))


# Counters on the workflow object for the current advance (reset by
# `runtime._run`; never serialized).
_CREATED = "_laneway_instances_created"
_COPIED = "_laneway_instance_bytes"


def instances_budget_reset(workflow: Any) -> None:
    """Start counting this advance's parallel instances afresh (`_run`)."""
    setattr(workflow, _CREATED, 0)
    setattr(workflow, _COPIED, 0)


def _charge(my_task: Any, size: int, what: str) -> None:
    """Count a parallel activity's instances against this advance's bounds."""
    top = my_task.workflow.top_workflow
    copied = size * len(json.dumps(my_task.data, default=str))
    if copied > MAX_INSTANCE_DATA_BYTES:
        _refuse(
            my_task,
            f"{size} instances over {what} would copy {copied // 2**20} MB of "
            f"case data (at most {MAX_INSTANCE_DATA_BYTES // 2**20} MB)",
        )
    all_copied = getattr(top, _COPIED, 0) + copied
    if all_copied > MAX_INSTANCE_DATA_BYTES:
        _refuse(
            my_task,
            f"{size} instances over {what} would copy {all_copied // 2**20} MB of "
            "case data with the instances started before them in this step "
            f"(at most {MAX_INSTANCE_DATA_BYTES // 2**20} MB)",
        )
    created = getattr(top, _CREATED, 0) + size
    limit = limits_get().max_instances_per_advance
    if created > limit:
        _refuse(
            my_task,
            f"{size} instances over {what} would make {created} instances in one "
            f"step across the case's multi-instance activities (at most {limit})",
        )
    setattr(top, _CREATED, created)
    setattr(top, _COPIED, all_copied)


def _share_output(my_task: Any) -> None:
    """Share the output collection SpiffWorkflow just created on the activity.

    It is a process variable (BPMN's loopDataOutputRef). Left in the
    activity's own data, the refresh after each instance is created (to the
    store plus its locals) dropped it, and the first merge failed on None.
    """
    if variables_of(my_task.workflow) is not None:
        publish(my_task)


def _require_collection(
    my_task: Any, collection: Any, what: str, *, blame: Any = None
) -> None:
    """Fail the activity when its collection is not a list (or, drawn as a
    SpiffArena loopDataInputRef, a map: SpiffWorkflow runs it once per value).

    Camunda 7 fails on anything but a java.util.Collection
    (MultiInstanceActivityBehavior.resolveNrOfInstances); SpiffWorkflow would
    run text once per character and fail on a number with a TypeError.
    """
    if isinstance(collection, list) or (
        isinstance(collection, dict)
        and not getattr(my_task.task_spec, "lists_only", False)
    ):
        return
    kinds = {
        str: "text",
        bool: "a Boolean",
        int: "a number",
        float: "a number",
        dict: "an object",
    }
    kind = kinds.get(type(collection), "nothing" if collection is None else "a value")
    raise WorkflowTaskException(
        f"The multi-instance {what} holds {kind} ({json.dumps(collection)[:80]}), "
        "not a list: give it a list of the items, one instance each",
        task=blame or my_task,
    )


def _refuse(my_task: Any, reason: str) -> None:
    error = InstanceCountOutOfBounds(f"multi-instance {reason}")
    raise WorkflowTaskException(str(error), task=my_task, exception=error)


class _NotReadyWhenRefused:
    """Answer "not ready" from the outermost update hook when the collection is
    refused (SpiffWorkflow's sequential and parallel hooks go on after their
    super() call: they would start the instances)."""

    def _update_hook(self, my_task: Any) -> Any:
        return not_ready_when_failed(super()._update_hook)(my_task)  # type: ignore[misc]


class LanewaySequentialMultiInstance(
    _NotReadyWhenRefused, SequentialMultiInstanceTask, _CamundaInstances
):
    """A sequential multi-instance activity with Camunda's instance variables."""

    def get_next_input_item(self, my_task: Any) -> Any:
        """Read the collection again for the next instance, as Camunda 7 does.

        MultiInstanceActivityBehavior.evaluateCollectionVariable casts the
        collection, read again, to a Collection and takes the element at the
        instance's loopCounter (nrOfInstances stays as counted at the start):
        text or a list shorter than that fails the instance's completion.
        SpiffWorkflow ran on with the text's character, or failed unnamed.
        """
        merged = my_task.internal_data.get("merged") or []
        remaining = my_task.internal_data.get("remaining") or []
        if merged and remaining:
            last = next(c for c in my_task.children if str(c.id) == merged[-1])
            name = self.data_input.bpmn_id
            found = self.data_input.exists(my_task)
            collection: Any = self.data_input.get(my_task) if found else None
            _require_collection(my_task, collection, f"collection {name!r}", blame=last)
            # A list or (SpiffArena map collection) a dict, checked just above.
            key = remaining[0]
            keys = (
                range(len(collection)) if isinstance(collection, list) else collection
            )
            if key not in keys:
                raise WorkflowTaskException(
                    f"The multi-instance collection {name!r} has no item {key!r} for "
                    f"the next instance ({len(collection)} now, "
                    f"{len(merged) + len(remaining)} when the activity started): "
                    "an instance may change its items but not remove them",
                    task=last,
                )
        return super().get_next_input_item(my_task)


class LanewayParallelMultiInstance(
    _NotReadyWhenRefused, ParallelMultiInstanceTask, _CamundaInstances
):
    """A parallel multi-instance activity with Camunda's instance variables."""


class CamundaSequentialMultiInstance(LanewaySequentialMultiInstance):
    """One whose collection is a camunda:collection: a list only (Camunda 7)."""

    lists_only = True


class CamundaParallelMultiInstance(LanewayParallelMultiInstance):
    """One whose collection is a camunda:collection: a list only (Camunda 7)."""

    lists_only = True


REPLACEMENTS = {
    SequentialMultiInstanceTask: LanewaySequentialMultiInstance,
    ParallelMultiInstanceTask: LanewayParallelMultiInstance,
}
# For the activities whose collection was drawn as camunda:collection.
CAMUNDA_REPLACEMENTS = {
    LanewaySequentialMultiInstance: CamundaSequentialMultiInstance,
    LanewayParallelMultiInstance: CamundaParallelMultiInstance,
}


def connect_merge(spec: Any) -> None:
    """Connect a loop or multi-instance spec's merge to its instances' completion."""
    if isinstance(spec, LoopTask):
        child_spec = spec._wf_spec.task_specs[spec.task_spec]
        if not child_spec.completed_event.is_connected(spec.merge_child):
            child_spec.completed_event.connect(spec.merge_child)


def name_element_variable(spec: Any) -> None:
    """Camunda 7 names an instance's element variable after the inputDataItem's
    `name` (BpmnParse.parseMultiInstanceLoopCharacteristics:
    setCollectionElementVariable(inputDataItem.attribute("name"))); SpiffWorkflow
    stores the item under its `id`, so `${reviewer}` (the name) found nothing
    where the id differs."""
    item = getattr(spec, "input_item", None)
    if item is not None and item.bpmn_name and item.bpmn_name != item.bpmn_id:
        item.bpmn_id = item.bpmn_name


def _instances(mi_task: Any) -> Iterator[Any]:
    return mi_task.task_spec._instances(mi_task)


def _total(mi_task: Any) -> int:
    spec, internal = mi_task.task_spec, mi_task.internal_data
    created = sum(1 for _ in _instances(mi_task))
    if isinstance(spec, SequentialMultiInstanceTask):
        if "cardinality" in internal:
            return int(internal["cardinality"])
        return created + len(internal.get("remaining", []))
    return created


def _is_instance(task: Any) -> bool:
    parent = task.parent
    spec = getattr(parent, "task_spec", None)
    # The task after the activity is the activity's child too: not an instance.
    return isinstance(spec, MultiInstanceTask) and task.task_spec.name == spec.task_spec


def _enclosing_activity(task: Any) -> Any | None:
    """Return the multi-instance activity `task` is, is an instance of, or runs
    in (inside an embedded, event or transaction sub-process of an instance).

    Camunda 7 resolves a variable through the execution's parent scopes: an
    activity inside a multi-instance sub-process sees the instance's locals and
    then the multi-instance body's nrOf* counters; the nearest body wins. A
    called process is another process instance: the caller's counters stop there.
    """
    if isinstance(task.task_spec, MultiInstanceTask):
        return task
    while not _is_instance(task):
        workflow = task.workflow
        if workflow.parent_task_id is None:
            return None
        task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if task is None or isinstance(task.task_spec, CallActivity):
            return None
    return task.parent


def loop_variables(task: Any) -> dict[str, int]:
    """Return Camunda's multi-instance variables visible from `task` (or {})."""
    mi_task = _enclosing_activity(task)
    if mi_task is None:
        return {}
    running = mi_task.state == TaskState.STARTED
    if isinstance(mi_task.task_spec, SequentialMultiInstanceTask):
        active = 1 if running else 0
    else:
        unfinished = TaskState.NOT_FINISHED_MASK
        active = sum(1 for c in _instances(mi_task) if c.has_state(unfinished))
    return {
        "nrOfInstances": _total(mi_task),
        "nrOfCompletedInstances": len(mi_task.internal_data.get("merged", [])),
        "nrOfActiveInstances": active,
    }


def instance_locals(task: Any) -> dict[str, Any]:
    """Return the variables local to a multi-instance instance (or {})."""
    spec = getattr(task.parent, "task_spec", None)
    if not isinstance(spec, _CamundaInstances) or not _is_instance(task):
        return {}
    return {k: task.data[k] for k in spec.local_names() if k in task.data}


def shared_data(task: Any) -> dict[str, Any]:
    """Return a task's data as the case sees it: a multi-instance instance's
    locals give way to the activity's values (or are absent)."""
    local = instance_locals(task)
    if not local:
        return task.data
    data = {k: v for k, v in task.data.items() if k not in local}
    data.update({k: v for k, v in task.parent.data.items() if k in local})
    return data
