"""Process variables as Camunda 7 keeps them: one set per process instance.

SpiffWorkflow 3.2 gives every task its own copy of the data. A task takes its
parent's data when it becomes ready or waiting (`Task._inherit_data`), so
parallel branches and multi-instance instances each work on a copy, and a
join deep-merges the branches' copies (`UnstructuredJoin._run_hook`): the last
merge wins. Two branches that each add 1 to `total` give total+1, a value a
person entered in branch A is invisible to a gateway in branch B, and a join
can put branch B's stale copy back over what branch A wrote.

BPMN leaves data to the engine; Camunda 7, which Laneway promises, has ONE set
of process variables shared by every execution of a process instance. Laneway
keeps that set explicitly (the *store*) and makes every task's data a view of
it:

* **Where.** The store of a scope is the internal data (`VARIABLES`) of the
  scope's root task, SpiffWorkflow's `Start`, which the prune always keeps (I5):
  it is serialized with the case and survives the prune and every reload. A
  scope is the case, or one run of a called process (its own variables, which
  camunda:in/out map, `call_data.py`). An embedded or event sub-process,
  multi-instance ones included, shares its parent's scope: Camunda's
  setVariable puts a variable that no inner scope declares into the process
  instance.
* **Write.** When a task completes, what its data changed against the store
  (keys set, changed or deleted; its locals excluded) goes into the store and
  into the data of every unfinished task of the scope (`publish`, connected to
  every spec's completed event by `semantics.adapt_specs`, before anything else
  SpiffWorkflow does on completion).
* **Read.** Whenever SpiffWorkflow hands a task its parent's data (a task
  becoming ready or waiting, a join firing, a multi-instance instance being
  created), the task's data is reset to the store plus its locals (the
  `_inherit_data` patch below), so a gateway, script, form or join reads the
  shared values, never a branch's old copy.
* **Locals** stay with their task: a compensation handler's snapshot of the
  compensated sub-process's variables (`SNAPSHOT_LOCALS`, compensation.py), a
  multi-instance instance's `loopCounter`,
  element variable and output item (also inside an embedded sub-process the
  instance runs), and the data objects a task's data associations copy in.
  `nrOf*` are computed, never stored; a service call's camunda:inputOutput
  parameters are its parameters, never variables; the input parameters of a
  user task, script task or embedded sub-process (`io_locals`, io_mapping.py)
  are local to it while it runs, a sub-process's as its sub-process variables.
* **Sub-process variables** (`SCOPE_LOCALS`, in the internal data of an
  embedded sub-process's root task): Camunda's local variables of the
  sub-process's execution, which an external task's localVariables and the
  sub-process's camunda:inputOutput input parameters create here
  (`scope_locals_set`). Every task inside sees them over the
  store (they are locals of those tasks); a task inside that sets one sets
  it there, as Camunda's setVariable finds the nearest scope holding the
  name; they end with the sub-process (its owner never publishes them).

Because a task's data is the store plus its locals from the moment it gets data
until it runs (brought up to date on every publish), the diff at completion is
exactly what the task did: the "diff against what it was given", without
storing what it was given. Nothing here touches a workflow without a store
(plain SpiffWorkflow in the differential test): only Laneway's specs publish,
and the first publish of a scope (its `Start`) creates the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

VARIABLES = "laneway_variables"
SCOPE_LOCALS = "laneway_scope_locals"
# The names of a compensated sub-process's variables a handler sees (their
# snapshot is in its data): compensation.py.
SNAPSHOT_LOCALS = "laneway_compensation_locals"
_COPIES = "_laneway_variable_copies"
_LIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def _owner(workflow: Any) -> Any:
    """Return the task that runs this sub-workflow (None for the case's)."""
    parent_id = workflow.parent_task_id
    if parent_id is None:
        return None
    try:
        return workflow.top_workflow.get_task_from_id(parent_id)
    except TaskNotFoundException:
        return None


def _scope(workflow: Any) -> Any:
    """Return the workflow whose variables `workflow`'s tasks share."""
    while True:
        owner = _owner(workflow)
        if owner is None or isinstance(owner.task_spec, CallActivity):
            return workflow
        workflow = owner.workflow


def instance_scope(workflow: Any) -> tuple[Any, Any]:
    """Return the process instance `workflow` runs in: (its run, the call
    activity task that runs it, None for the case's own)."""
    scope = _scope(workflow)
    return scope, _owner(scope)


def variables_of(workflow: Any, *, create: bool = False) -> dict[str, Any] | None:
    """Return the shared variables of `workflow`'s scope (None without a store)."""
    root = _scope(workflow).task_tree
    store = root.internal_data.get(VARIABLES)
    if store is None and create:
        store = root.internal_data[VARIABLES] = {}
    return store


def _copies(workflow: Any) -> dict[str, Any]:
    """Return the copies of the store's values the scope's tasks share.

    A changed value is copied once per change and that one copy goes into every
    task's data, instead of one deep copy per task (a parallel activity of
    1,000 instances appending to a list would otherwise copy it a million
    times). Values inside task data are not changed in place: scripts send
    theirs back from the worker as new values, SpiffWorkflow's in-place merge
    at inheritance is not used once a store exists, and the one in-place
    change left, a multi-instance output collection, is published at once
    (`multi_instance.merge_child`). The store itself never shares an object
    with task data. The copies live on the loaded workflow object only (never
    serialized; a reload makes fresh ones).
    """
    scope = _scope(workflow)
    found = scope.__dict__.get(_COPIES)
    if found is None:
        found = {}
        setattr(scope, _COPIES, found)
    return found


def _shared(copies: dict[str, Any], store: Mapping[str, Any], name: str) -> Any:
    if name not in copies:
        copies[name] = deepcopy(store[name])
    return copies[name]


# Task internal data: the names a call activity's camunda:out local="true" set
# on its own scope (call_data.py), local like its input parameters.
OUT_LOCALS = "laneway_call_out_locals"


def io_locals(task: Any) -> set[str]:
    """Return the names the task's camunda:inputOutput input parameters (and a
    call activity's local camunda:out) make local while it runs (io_mapping.py)."""
    inputs = getattr(task.task_spec, "scope_inputs", None)
    if inputs is None or task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
        return set()  # its scope ended (kept while it is in ERROR, to retry)
    return {name for name, _ in inputs} | set(task.internal_data.get(OUT_LOCALS, ()))


def local_names(task: Any) -> set[str]:
    """Return the names that are local to `task` (never in the store)."""
    spec = task.task_spec
    names = (
        io_locals(task)
        | set(task.internal_data.get(SNAPSHOT_LOCALS, ()))
        | {
            association.bpmn_id
            for association in (
                *getattr(spec, "data_input_associations", ()),
                *getattr(spec, "data_output_associations", ()),
            )
        }
    )
    parent_spec: Any = getattr(task.parent, "task_spec", None)
    instance_names = getattr(parent_spec, "local_names", None)
    if callable(instance_names) and spec.name == parent_spec.task_spec:
        names |= instance_names()  # a multi-instance instance (multi_instance.py)
    owner = _owner(task.workflow)
    if owner is not None and not isinstance(owner.task_spec, CallActivity):
        names |= local_names(owner)  # an embedded sub-process sees its owner's
        names |= set(task.workflow.task_tree.internal_data.get(SCOPE_LOCALS, ()))
    inner = task.workflow.top_workflow.subprocesses.get(task.id)
    if inner is not None and not isinstance(spec, CallActivity):
        names |= set(inner.task_tree.internal_data.get(SCOPE_LOCALS, ()))
    return names


def human_task_locals(task: Any) -> dict[str, Any]:
    """Return what a human task sees over the case's variables: its locals
    (`task_locals`) and, in a called process, that process's variables (its
    camunda:in mapped them), which its assignee, candidate, date and form
    expressions read, as Camunda 7 evaluates them in the called process
    instance, not the caller's."""
    scope = _scope(task.workflow)
    called = {} if scope is task.workflow.top_workflow else variables_of(scope)
    return {**(called or {}), **task_locals(task)}


def task_locals(task: Any) -> dict[str, Any]:
    """Return the variables local to `task` that shadow the case's in its
    expressions (assignee, due date, form): a multi-instance instance's, also
    inside a multi-instance sub-process, and its sub-processes' variables."""
    return {k: task.data[k] for k in local_names(task) if k in task.data}


def _scope_chain(workflow: Any) -> list[tuple[Any, dict[str, Any]]]:
    """Return the sub-process variables visible in `workflow`, innermost first,
    each with the sub-process workflow holding them."""
    chain: list[tuple[Any, dict[str, Any]]] = []
    while True:
        owner = _owner(workflow)
        if owner is None or isinstance(owner.task_spec, CallActivity):
            return chain
        found = workflow.task_tree.internal_data.get(SCOPE_LOCALS)
        if found:
            chain.append((workflow, found))
        workflow = owner.workflow


def _scope_values(workflow: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for _, found in reversed(_scope_chain(workflow)):
        values.update(found)
    return values


def _inside(workflow: Any, outer: Any) -> bool:
    while workflow is not outer:
        owner = _owner(workflow)
        if owner is None or isinstance(owner.task_spec, CallActivity):
            return False
        workflow = owner.workflow
    return True


def _scope_spread(sub: Any, skip: Any) -> None:
    """Bring the live tasks inside the sub-process `sub` up to date."""
    store = variables_of(sub, create=True)
    assert store is not None
    for workflow in (sub, *sub.top_workflow.subprocesses.values()):
        if workflow is not sub and (workflow.completed or not _inside(workflow, sub)):
            continue
        for task in workflow.tasks.values():
            if task is not skip and task.state & _LIVE:
                refresh(task, store)


def scope_locals_set(workflow: Any, values: Mapping[str, Any]) -> None:
    """Set local variables of the embedded sub-process `workflow` runs."""
    found = workflow.task_tree.internal_data.setdefault(SCOPE_LOCALS, {})
    found.update(deepcopy(dict(values)))
    _scope_spread(workflow, None)


def scope_set(workflow: Any, values: Mapping[str, Any]) -> None:
    """Set variables as Camunda's setVariable on the scope `workflow` runs in:
    each where the nearest enclosing sub-process holding its name keeps it,
    else in the case (or called process) variables; every live task sees it."""
    rest = dict(values)
    for holder, found in _scope_chain(workflow):
        mine = {name: rest.pop(name) for name in list(rest) if name in found}
        if mine:
            found.update(deepcopy(mine))
            _scope_spread(holder, None)
    if rest:
        store = variables_of(workflow, create=True)
        assert store is not None
        store.update(deepcopy(rest))
        _spread(workflow, store, _live(_scope(workflow)), list(rest), [])


def visible_values(workflow: Any, names: set[str]) -> dict[str, Any]:
    """Return the variables of `names` a task of `workflow` sees outside its
    own locals: its sub-processes' (innermost first), else the case's."""
    store = variables_of(workflow) or {}
    values = {**store, **_scope_values(workflow)}
    return {name: deepcopy(values[name]) for name in names if name in values}


def _publish_scope_locals(task: Any) -> None:
    """Set what `task` changed of its sub-process variables where they live
    (the nearest sub-process holding the name, as Camunda's setVariable)."""
    seen = io_locals(task)  # the task's own scope's, never its sub-process's
    data = task.data
    for holder, found in _scope_chain(task.workflow):
        touched = False
        for name in [n for n in found if n not in seen]:
            seen.add(name)
            if name not in data and not _partial(task):
                del found[name]
                touched = True
            elif name in data and data[name] != found[name]:
                found[name] = deepcopy(data[name])
                touched = True
        if touched:
            _scope_spread(holder, task)


def _partial(task: Any) -> bool:
    """Whether the task's data is not the whole set (a task ioSpecification)."""
    io = getattr(task.task_spec, "io_specification", None)
    return io is not None and bool(io.data_inputs or io.data_outputs)


def _members(scope: Any) -> Iterator[Any]:
    yield scope
    for sub in scope.top_workflow.subprocesses.values():
        if sub is not scope and not sub.completed and _scope(sub) is scope:
            yield sub


def _live(scope: Any) -> list[Any]:
    return [
        task
        for workflow in _members(scope)
        for task in workflow.tasks.values()
        if task.state & _LIVE
    ]


def refresh(task: Any, store: Mapping[str, Any], local: set[str] | None = None) -> None:
    """Make `task`'s data the store plus its locals (`local_names(task)`, when
    the caller has them)."""
    if local is None:
        local = local_names(task)
    copies = _copies(task.workflow)
    data = task.data
    for name in [n for n in data if n not in store and n not in local]:
        del data[name]
    for name, value in store.items():
        if name not in local and (name not in data or data[name] != value):
            data[name] = _shared(copies, store, name)
    own = io_locals(task)  # the task's own scope hides its sub-processes'
    for name, value in _scope_values(task.workflow).items():
        if name not in own and (name not in data or data[name] != value):
            data[name] = deepcopy(value)


def _spread(
    workflow: Any,
    store: Mapping[str, Any],
    tasks: list[Any],
    changed: list[str],
    removed: list[str],
) -> None:
    """Put the store's changed and removed names into the tasks' data."""
    copies = _copies(workflow)
    for name in (*changed, *removed):
        copies.pop(name, None)
    for task in tasks:
        local = local_names(task)
        for name in changed:
            if name not in local:
                task.data[name] = _shared(copies, store, name)
        for name in removed:
            if name not in local:
                task.data.pop(name, None)


def publish(task: Any) -> None:
    """Put what `task` changed in its data into the store and every live task."""
    store = variables_of(task.workflow, create=True)
    assert store is not None
    _publish_scope_locals(task)
    local = local_names(task)
    data = task.data
    changed = [
        name
        for name, value in data.items()
        if name not in local and (name not in store or store[name] != value)
    ]
    removed = (
        []
        if _partial(task)
        else [name for name in store if name not in data and name not in local]
    )
    if not changed and not removed:
        return
    for name in changed:
        store[name] = deepcopy(data[name])
    for name in removed:
        del store[name]
    others = [t for t in _live(_scope(task.workflow)) if t is not task]
    _spread(task.workflow, store, others, changed, removed)


def on_complete(workflow: Any, task: Any) -> None:
    """A spec's completed-event handler: publish the completed task's changes."""
    publish(task)


def on_ready(workflow: Any, task: Any) -> None:
    """A ready-event handler: share what the task's pre-script (its start and
    create listeners) set at once, as Camunda's listeners do."""
    publish(task)


def variables_assign(
    workflow: Any, values: Mapping[str, Any], remove: list[str]
) -> None:
    """Set and remove case variables (a process admin's edit) everywhere."""
    store = variables_of(workflow, create=True)
    assert store is not None
    store.update(deepcopy(dict(values)))
    gone = [name for name in remove if name in store]
    for name in gone:
        del store[name]
    _spread(workflow, store, _live(workflow), list(values), gone)


def variables_refresh(workflow: Any) -> None:
    """Bring every unfinished task of every scope up to date with its store."""
    for scope in (workflow, *workflow.subprocesses.values()):
        if _scope(scope) is not scope:
            continue
        store = variables_of(scope)
        if store is not None:
            for task in _live(scope):
                refresh(task, store)


def variables_adopt(workflow: Any) -> None:
    """Give a case saved before the store existed one (from its tasks' copies).

    The store is the data of the unfinished tasks, oldest first, then of the
    last finished task (the case data the user saw), locals excluded; every
    unfinished task is then brought up to date.
    """
    for scope in (workflow, *workflow.subprocesses.values()):
        root = scope.task_tree
        if (
            _scope(scope) is not scope
            or VARIABLES in root.internal_data
            or not root.has_state(TaskState.COMPLETED)
        ):
            continue
        live = sorted(_live(scope), key=lambda t: t.last_state_change)
        last = scope.last_task
        sources = [*live, last] if last is not None else live
        store: dict[str, Any] = {}
        for task in sources:
            local = local_names(task)
            store.update(
                {k: deepcopy(v) for k, v in task.data.items() if k not in local}
            )
        root.internal_data[VARIABLES] = store
        for task in live:
            refresh(task, store)


_plain_inherit_data = Task._inherit_data


def _inherit_data(self: Any) -> None:
    """SpiffWorkflow's inheritance, or with a store: the store plus the locals.

    A local the task does not set itself (loopCounter inside a multi-instance
    sub-process) comes from the parent, as SpiffWorkflow would pass it.
    """
    store = variables_of(self.workflow)
    if store is None:
        _plain_inherit_data(self)
        return
    parent = self.parent.data if self.parent is not None else {}
    local = local_names(self)
    for name in local:
        if name not in self.data and name in parent:
            self.data[name] = deepcopy(parent[name])
    refresh(self, store, local)


Task._inherit_data = _inherit_data
