"""BPMN 2.0 compensation as Camunda 7 runs it, on SpiffWorkflow's task tree.

SpiffWorkflow 3.2 has no compensation: its parser raises on a compensation
boundary event, never reaches a handler (it has no incoming flow) and reads a
compensation throw as a none event. Laneway runs the common subset:

* **Subscribe.** A compensation boundary event on a task (user, manual,
  service, script, send, receive, business rule or plain task), an embedded
  sub-process or a call activity names its handler, an activity with
  isForCompensation="true", through an association. Each time the activity
  *completes* (not when it is interrupted or cancelled), a subscription
  (activity, handler) is appended to the list of its scope: the internal data
  of the root task of its (sub-)workflow, which the prune always keeps
  (prune.py, I5) and the serializer stores with the case. A task in a loop
  subscribes once per completion; a multi-instance (or standard loop) activity
  once per completed instance, when the whole activity completes.
* **Sub-processes.** An embedded sub-process that completes with
  subscriptions inside becomes one subscription of its scope,
  (sub-process, {"scope": its subscriptions, "locals": its local variables}):
  Camunda 7's event scope. Compensating it compensates what it holds, at any
  depth, and the handlers see those variables as they were (an instance's
  element variable, the sub-process's input parameters) over the case's. An
  instance of a multi-instance sub-process adds its own when the whole
  activity completes. One with a handler of its own subscribes it too: a throw
  naming it in activityRef runs that handler alone, one without activityRef
  both (Camunda 7). Each scope's spec holds a spec of every handler nested
  in its sub-processes (`_nested_handlers`), so the handlers start under the
  throw event like the scope's own.
* **Compensation event sub-processes.** An event sub-process with a
  compensation start event directly in an embedded sub-process is not part of
  the sub-process's flow (SpiffWorkflow would start it with the sub-process:
  `_unhook`). The sub-process's scope subscription gets it as its handler
  ({"handler": its id, ...}), even when nothing inside subscribed (Camunda 7
  keeps the event scope then too). Compensating the sub-process runs it
  instead of compensating the activities inside: a
  `CompensationEventSubprocess` task, started like a handler by the throw
  (which waits for it), runs its body as an embedded sub-process whose
  variables are the sub-process's snapshot and whose subscriptions are the
  sub-process's, so a compensation throw inside compensates the
  sub-process's completed activities (all, or activityRef's); what it does
  not compensate is dropped when it ends (Camunda 7:
  CompensateEventTest.testCompensationEventSubprocessConsumeCompensationEvent).
  Each scope's spec, and each such body's, holds a runner of every
  compensation event sub-process nested in its sub-processes.
* **Throw.** A compensation intermediate throw or end event takes the
  subscriptions of its own scope (all of them, or only `activityRef`'s; in an
  event sub-process's body, of the scope it is in too, as Camunda 7's event
  sub-processes do not consume compensation: `_compensated_roots`),
  removes them (a handler runs once per completion, never twice) and starts
  one handler task per subscription at once, as concurrent children of the
  throw event, in reverse order of completion (Camunda 7 starts its
  concurrent compensation executions in that order): script handlers run in
  that order, user-task handlers appear in the inbox together. The throw
  event waits (WAITING) until every handler it started has finished, then
  continues (or ends its path): Camunda 7 always waits, whatever
  waitForCompletion says (so waitForCompletion="false" is refused at upload).
* **Variables.** Handlers read and write the case variables like any task
  (`variables.py`): the values when compensation is thrown, not a snapshot
  (Camunda 7 snapshots only the local variables of a completed embedded
  sub-process, see above).

* **Transactions.** A cancel end event (`CancelEnd`) directly in a
  transaction interrupts the transaction's other paths, compensates the
  transaction's completed tasks like a compensation throw (and waits), then
  throws the cancel event; SpiffWorkflow's cancel boundary event on the
  transaction catches it and the case leaves on its flows (Camunda 7's order:
  interrupt, compensate, leave).

A handler that fails keeps its throw event waiting (the incident's retry runs
it again). Everything outside that subset is refused at upload, located
(`compensation_checks.py`): a compensation boundary event on a
multi-instance or ad-hoc sub-process with compensation boundary events
inside, compensation inside an event sub-process (but a
throw directly in one), handlers that are not
plain tasks, and compensation event sub-processes outside an embedded
sub-process (checks.py), two in one sub-process, or beside a compensation
boundary event on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import (
    AdHocSubprocess,
    CallActivity,
    EventSubprocess,
    SubWorkflowTask,
)
from SpiffWorkflow.spiff.parser.process import SpiffProcessParser
from SpiffWorkflow.spiff.specs.defaults import SubWorkflowTask as EmbeddedTask
from SpiffWorkflow.util.task import TaskState

from .variables import SCOPE_LOCALS, SNAPSHOT_LOCALS, scope_locals_set, task_locals
from .xml import BPMN, NSMAP, local_name

SUBSCRIPTIONS = "laneway_compensation"
_THROWN = "laneway_compensation_thrown"
# Sub-process scopes that ended in the instances of a multi-instance activity
# still running: they join its scope when the whole activity completes.
_ENDED_INSTANCES = "laneway_compensation_instances"
# A compensation event sub-process's runner waits for these (set as it starts).
_SEED = "laneway_compensation_seed"
_SUB_PROCESSES = ("subProcess", "transaction")
_COMPENSATE = f"{{{BPMN}}}compensateEventDefinition"
_CANCEL = f"{{{BPMN}}}cancelEventDefinition"
COMPENSABLE = (
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
)
_THROWS = ("intermediateThrowEvent", "endEvent")


def compensation_definition(node: etree._Element) -> etree._Element | None:
    return node.find(_COMPENSATE)


def is_handler(node: etree._Element) -> bool:
    return (node.get("isForCompensation") or "").strip() == "true"


def compensation_event_subprocesses(scope: etree._Element) -> list[etree._Element]:
    """Return the compensation event sub-processes directly inside `scope` (event
    sub-processes whose start event has a compensateEventDefinition)."""
    return [
        sub
        for sub in scope.iterfind("bpmn:subProcess[@triggeredByEvent='true']", NSMAP)
        if any(
            compensation_definition(start) is not None
            for start in sub.iterfind("bpmn:startEvent", NSMAP)
        )
    ]


def compensation_event_subprocess(scope: etree._Element) -> etree._Element | None:
    """Return the (first) compensation event sub-process directly inside `scope`."""
    found = compensation_event_subprocesses(scope)
    return found[0] if found else None


def _is_compensation_event_subprocess(node: etree._Element) -> bool:
    parent = node.getparent()
    return parent is not None and compensation_event_subprocess(parent) is node


def _associated(scope: etree._Element, node_id: str) -> list[str]:
    """Return the ids an association links `node_id` to (either way).

    Modelers put an association in the scope of its source, in the process or
    in the collaboration: the whole document is searched.
    """
    found = []
    for association in scope.getroottree().iterfind(".//bpmn:association", NSMAP):
        source, target = association.get("sourceRef"), association.get("targetRef")
        if source == node_id and target:
            found.append(target)
        elif target == node_id and source:
            found.append(source)
    return found


def handler_id(scope: etree._Element, boundary: etree._Element) -> str | None:
    """Return the id of the handler a compensation boundary event is associated with."""
    handlers = {
        e.get("id"): e for e in scope if isinstance(e.tag, str) and is_handler(e)
    }
    linked = [i for i in _associated(scope, str(boundary.get("id"))) if i in handlers]
    return linked[0] if len(linked) == 1 else None


# --- parsing ---------------------------------------------------------------


class CompensationProcessParser(SpiffProcessParser):
    """SpiffWorkflow's process parser, with compensation boundaries and handlers.

    A compensation boundary event is not a boundary event at run time (it never
    interrupts nor waits while the task runs): it is left out of the task's
    boundary events and recorded on the task's spec as `compensation_handler`.
    Handlers (no incoming flow) get specs of their own; compensation throw
    events get the waiting behaviour of `CompensationThrow`.
    """

    def get_boundary_events(self, attached_to_ref: str) -> list[Any]:
        """Return the task's boundary events, without compensation ones."""
        events = super().get_boundary_events(attached_to_ref)
        return [e for e in events if compensation_definition(e) is None]

    def add_tasks(self) -> None:
        """Parse the flow, then the compensation parts of this scope."""
        super().add_tasks()
        own = compensation_event_subprocess(self.node)
        if own is not None:
            _unhook(self.spec, str(own.get("id")))
        self._add_handlers()
        specs = self.spec.task_specs
        for node in self.node:
            if not isinstance(node.tag, str):
                continue
            kind = local_name(node)
            if kind in _SUB_PROCESSES:
                _mark_event_subprocess(specs, node)
            elif kind == "boundaryEvent" and compensation_definition(node) is not None:
                activity = specs.get(node.get("attachedToRef"))
                handler = handler_id(self.node, node)
                if activity is not None and handler in specs:
                    activity.compensation_handler = handler
            elif kind in _THROWS and node.get("id") in specs:
                _mark_throw(specs[node.get("id")], node)

    def _add_handlers(self) -> None:
        """Give this scope a spec of each handler it may start: its own, and
        those nested in its sub-processes (an event sub-process's body: those
        of the scopes its compensation throws compensate too)."""
        nodes = []
        for scope in _compensated_scopes(self.node):
            nodes += [
                e
                for e in scope
                if isinstance(e.tag, str)
                and local_name(e) in COMPENSABLE
                and is_handler(e)
            ]
            nodes += _nested_handlers(scope)
        for node in nodes:
            if local_name(node) in COMPENSABLE:
                handler = self.parse_node(node)
            elif _is_compensation_event_subprocess(node):
                handler = self._event_subprocess_runner(node)
            else:
                continue
            handler.compensation_handler_of = True
            # No flow leads to a handler; SpiffWorkflow refuses to ready a
            # spec without inputs. The start is not given it as an output,
            # so nothing ever predicts or reaches the handler by flow.
            handler.inputs = [self.spec.start]

    def _event_subprocess_runner(self, node: etree._Element) -> Any:
        """Parse a compensation event sub-process as a task of this scope that
        runs its body like an embedded sub-process (`CompensationEventSubprocess`)."""
        body = str(node.get("id"))
        self.parser.create_parser(node, filename=self.filename)
        parsers = self.parser.process_parsers
        enclosing = parsers.get(node.getparent().get("id"))
        if enclosing is not None:
            parsers[body].parent = enclosing  # its data objects' scope
        return CompensationEventSubprocess(
            self.spec, body, subworkflow_spec=body, bpmn_name=node.get("name")
        )


def _compensated_scopes(scope: etree._Element) -> list[etree._Element]:
    """Return the scopes whose subscriptions a compensation throw directly in
    `scope` compensates: `scope`, and while it is an event sub-process, the
    scope it is in (Camunda 7: an event sub-process does not consume
    compensation, `collectCompensateEventSubscriptionsForScope` walks on)."""
    found = [scope]
    while scope.get("triggeredByEvent") == "true" and scope.getparent() is not None:
        scope = scope.getparent()
        found.append(scope)
    return found


def _mark_event_subprocess(specs: dict, node: etree._Element) -> None:
    """Note on a sub-process's specs the compensation event sub-process it has."""
    inner = compensation_event_subprocess(node)
    if inner is not None:
        for spec in specs.values():  # a multi-instance one's instances too
            if spec.bpmn_id == node.get("id"):
                spec.compensation_event_subprocess = inner.get("id")


def _mark_throw(spec: Any, node: etree._Element) -> None:
    definition = compensation_definition(node)
    if definition is not None:
        spec.__class__ = _mixed(CompensationThrow, type(spec))
        spec.compensate_ref = definition.get("activityRef") or None
    elif node.find(_CANCEL) is not None:
        spec.__class__ = _mixed(CancelEnd, type(spec))


def _unhook(spec: Any, name: str) -> None:
    """Take SpiffWorkflow's task of a compensation event sub-process out of its
    sub-process: it would start with the sub-process (its compensation start
    event reads as a none start). It runs when the completed sub-process is
    compensated, from the scope that compensates it."""
    if spec.task_specs.pop(name, None) is None:
        return
    for other in spec.task_specs.values():  # flows are kept as spec names
        other._outputs = [o for o in other._outputs if o != name]
        other._inputs = [i for i in other._inputs if i != name]


def _nested_handlers(scope: etree._Element) -> list[etree._Element]:
    """Return the handlers and compensation event sub-processes inside the
    embedded sub-processes of `scope`, at any depth (not inside event
    sub-processes).

    Compensating a completed sub-process starts them from this scope, so this
    scope's spec gets a spec of each (the sub-process's own spec has one too).
    """
    found: list[etree._Element] = []
    for sub in scope:
        if (
            isinstance(sub.tag, str)
            and local_name(sub) in _SUB_PROCESSES
            and sub.get("triggeredByEvent") != "true"
        ):
            found.extend(
                e
                for e in sub
                if isinstance(e.tag, str)
                and is_handler(e)
                and local_name(e) not in _SUB_PROCESSES
            )
            esp = compensation_event_subprocess(sub)
            if esp is not None:
                found.append(esp)
            found.extend(_nested_handlers(sub))
    return found


# --- running ---------------------------------------------------------------


def _cancelled(task: Any) -> bool:
    """Whether the sub-process of `task` ended without completing in BPMN's sense.

    SpiffWorkflow completes a sub-process's task when its workflow ends, also
    when a cancel end event cancelled it (a transaction: `success` False), or
    an error or escalation end event ended it for an interrupting catcher
    outside it (`events._mark_interrupted` sets `success` False): Camunda 7
    cancels the scope there, with its compensation subscriptions, so such an
    activity is never compensated.
    """
    sub = task.workflow.top_workflow.subprocesses.get(task.id)
    return sub is not None and not sub.success


def _subscribe(workflow: Any, task: Any) -> None:
    """A compensable task completed: subscribe its handler in the task's scope.

    A multi-instance or loop activity subscribes once per completed instance
    when the whole activity has completed (Camunda 7: an activity still running
    is not compensated; its handler runs once per instance). A cancelled
    transaction subscribes nothing (Camunda 7 subscribes a handler when its
    activity completes, and a cancelled transaction did not).
    """
    spec = task.task_spec
    if _cancelled(task):
        return
    count = 1
    if isinstance(spec, LoopTask):
        count = len(task.internal_data.get("merged", []))
    root = task.workflow.task_tree
    subscriptions = root.internal_data.setdefault(SUBSCRIPTIONS, [])
    handler = spec.compensation_handler
    subscriptions.extend([spec.bpmn_id, handler] for _ in range(count))


def _handler_done(workflow: Any, task: Any) -> None:
    """A handler ended: let the throw event that started it continue when due."""
    thrower = task.parent
    waiting = thrower is not None and thrower.has_state(TaskState.WAITING)
    if waiting and isinstance(getattr(thrower, "task_spec", None), CompensationThrow):
        thrower.task_spec._update(thrower)


def _embedded(spec: Any) -> bool:
    return isinstance(spec, SubWorkflowTask) and not isinstance(
        spec,
        CallActivity | EventSubprocess | AdHocSubprocess | CompensationEventSubprocess,
    )


def _multi_instance(task: Any) -> Any:
    """Return the multi-instance task `task` is an instance of, if any."""
    parent = task.parent
    spec = getattr(parent, "task_spec", None)
    if isinstance(spec, LoopTask) and spec.task_spec == task.task_spec.name:
        return parent
    return None


def _scope_ended(workflow: Any, task: Any) -> None:
    """An embedded sub-process completed: keep its compensation for later.

    Camunda 7 keeps a completed sub-process's subscriptions, with a snapshot
    of its local variables, in an event scope: compensating the sub-process
    (a throw in the enclosing scope, with or without activityRef) compensates
    its completed activities. Here that is one subscription of the enclosing
    scope, [sub-process id, {"scope": its subscriptions, "locals": its
    variables}]; an instance of a multi-instance sub-process adds its own when
    the whole activity completes. With a compensation handler of its own the
    sub-process also subscribes that handler, and only a throw without
    activityRef compensates the activities inside too ("unnamed": Camunda 7's
    activityRef resolves to the handler's subscription).
    """
    owner = _multi_instance(task)
    activity = owner.task_spec if owner is not None else task.task_spec
    own_handler = bool(getattr(activity, "compensation_handler", None))
    if own_handler and owner is not None:
        return  # refused at upload with subscriptions inside (compensation_checks)
    sub = task.workflow.top_workflow.subprocesses.get(task.id)
    if sub is None or _cancelled(task):
        return
    inner = sub.task_tree.internal_data.get(SUBSCRIPTIONS) or []
    # Camunda 7 keeps the event scope of a sub-process with a compensation
    # event sub-process even when nothing inside subscribed.
    esp = getattr(task.task_spec, "compensation_event_subprocess", None)
    if not inner and esp is None:
        return
    snapshot = {
        **task_locals(task),
        **sub.task_tree.internal_data.get(SCOPE_LOCALS, {}),
    }
    scope: dict[str, Any] = {"scope": deepcopy(inner), "locals": deepcopy(snapshot)}
    if esp is not None:
        scope["handler"] = esp
    if own_handler:
        # Camunda 7 compensates it (besides running its handler) for a throw
        # without activityRef only: activityRef resolves to the handler.
        scope["unnamed"] = True
    group = [activity.bpmn_id, scope]
    if owner is not None:
        owner.internal_data.setdefault(_ENDED_INSTANCES, []).append(group)
    else:
        root = task.workflow.task_tree
        root.internal_data.setdefault(SUBSCRIPTIONS, []).append(group)


def _instances_ended(workflow: Any, task: Any) -> None:
    """A multi-instance activity completed: its instances' scopes join its scope."""
    ended = task.internal_data.pop(_ENDED_INSTANCES, None)
    if ended:
        root = task.workflow.task_tree
        root.internal_data.setdefault(SUBSCRIPTIONS, []).extend(ended)


def connect(task_spec: Any) -> None:
    """Connect the compensation handlers of one spec (`semantics.adapt_specs`)."""
    event = task_spec.completed_event
    # A sub-process's own handler subscribes after its scope (Camunda 7's
    # SubProcessActivityBehavior.doLeave), so it starts first.
    for wanted, handler in (
        (_embedded(task_spec), _scope_ended),
        (isinstance(task_spec, LoopTask), _instances_ended),
        (getattr(task_spec, "compensation_handler", None), _subscribe),
    ):
        if wanted and not event.is_connected(handler):
            event.connect(handler)
    if getattr(task_spec, "compensation_handler_of", False):
        for ended in (event, task_spec.cancelled_event):  # an admin may cancel it
            if not ended.is_connected(_handler_done):
                ended.connect(_handler_done)


def _scopes_with_subscriptions(workflow: Any) -> list[Any]:
    return [
        scope.task_tree
        for scope in (workflow, *workflow.subprocesses.values())
        if scope.task_tree.internal_data.get(SUBSCRIPTIONS)
    ]


def subscriptions_unmigratable(
    workflow: Any, new_specs: Any, mapping: Any
) -> list[tuple[str, str]]:
    """Return (activity, why) for each subscription the target version cannot take.

    A completed task that can still be compensated needs, in the target, its
    counterpart (same id unless mapped) with a compensation handler; a
    completed sub-process that can still be compensated does not move.
    """
    found = []
    for root in _scopes_with_subscriptions(workflow):
        for activity, handler in root.internal_data[SUBSCRIPTIONS]:
            name = mapping.get(activity, activity)
            spec = new_specs.get(name)
            if isinstance(handler, dict):
                found.append((activity, _SCOPE_UNMIGRATABLE))
            elif spec is None or not getattr(spec, "compensation_handler", None):
                found.append(
                    (
                        activity,
                        f"the target version's “{name}” has no compensation "
                        "handler: map it to a task of the target version that "
                        "has one.",
                    )
                )
    return found


_SCOPE_UNMIGRATABLE = (
    "it is a completed sub-process whose activities can still be compensated, "
    "which cannot move to another version: migrate the case after the "
    "compensation, or when the case has no compensation left to run."
)


def subscriptions_migrate(workflow: Any, new_specs: Any, mapping: Any) -> None:
    """Point the subscriptions at the target version's tasks and handlers."""
    for root in _scopes_with_subscriptions(workflow):
        moved = []
        for activity, _ in root.internal_data[SUBSCRIPTIONS]:
            name = mapping.get(activity, activity)
            moved.append([name, new_specs[name].compensation_handler])
        root.internal_data[SUBSCRIPTIONS] = moved


def _pending(task: Any) -> bool:
    """Whether a handler `task` started has not finished (a failed one waits)."""
    done = TaskState.COMPLETED | TaskState.CANCELLED
    return any(
        getattr(child.task_spec, "compensation_handler_of", False)
        and not child.has_state(done)
        for child in task.children
    )


def _compensated_roots(workflow: Any) -> list[Any]:
    """Return the roots of the scopes a throw in `workflow` compensates,
    outermost first: its own, and while it is an event sub-process's body,
    the enclosing scope's (`_compensated_scopes`)."""
    roots = [workflow.task_tree]
    while workflow.parent_task_id is not None:
        owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if not isinstance(owner.task_spec, EventSubprocess):
            break
        workflow = owner.workflow
        roots.insert(0, workflow.task_tree)
    return roots


def _named(subscription: list, activity: str) -> bool:
    """Whether a throw with activityRef `activity` compensates `subscription`."""
    name, handler = subscription
    return name == activity and not (
        isinstance(handler, dict) and handler.get("unnamed")
    )


def _throw(task: Any, activity: str | None) -> bool:
    """Start the handlers of the scope's subscriptions; return whether any started."""
    chosen = []
    for root in _compensated_roots(task.workflow):
        subscriptions = root.internal_data.get(SUBSCRIPTIONS, [])
        mine = [s for s in subscriptions if activity is None or _named(s, activity)]
        if mine:
            root.internal_data[SUBSCRIPTIONS] = [
                s for s in subscriptions if s not in mine
            ]
            chosen += mine
    if not chosen:
        return False
    specs = task.workflow.spec.task_specs
    for handler, snapshot, seed in _handlers(chosen, {}):
        spec = specs[handler]
        child = task._add_child(spec, TaskState.FUTURE)
        if seed is not None:
            child.internal_data[_SEED] = deepcopy({"scope": seed, "locals": snapshot})
        elif snapshot:
            child.internal_data[SNAPSHOT_LOCALS] = sorted(snapshot)
            child.data.update(deepcopy(snapshot))
        spec._update(child)
    return True


def _handlers(
    subscriptions: list, snapshot: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any], list | None]]:
    """Yield (handler, sub-process variables, its subscriptions) to start, last
    completed first.

    A completed sub-process without a handler of its own is compensated by
    compensating its completed activities (at any depth), last completed
    first, where it stands in its scope's order (Camunda 7's event scopes);
    their handlers see its variables as they were when it completed. One with
    a compensation event sub-process runs that instead, with the sub-process's
    subscriptions (the third item; None for a handler task).
    """
    for _, handler in reversed(subscriptions):
        if isinstance(handler, dict):
            inner = {**snapshot, **handler["locals"]}
            if "handler" in handler:
                yield handler["handler"], inner, handler["scope"]
            else:
                yield from _handlers(handler["scope"], inner)
        else:
            yield handler, snapshot, None


class CompensationEventSubprocess(EmbeddedTask):
    """A compensation event sub-process, run when its completed sub-process is
    compensated (Camunda 7: instead of compensating the activities inside).

    It runs from the scope that compensates the sub-process, as a handler of
    the throw event (which waits for it), like an embedded sub-process whose
    variables are the sub-process's snapshot (what Camunda 7's event scope
    execution holds) and whose subscriptions are the sub-process's: a
    compensation throw inside compensates the sub-process's completed
    activities. What it does not compensate is dropped when it ends.
    """

    def start_workflow(self, my_task: Any) -> None:
        top = my_task.workflow.top_workflow
        subworkflow = top.create_subprocess(my_task, self.spec)
        subworkflow.completed_event.connect(self._on_subworkflow_completed, my_task)
        seed = my_task.internal_data.pop(_SEED, None) or {"scope": [], "locals": {}}
        root = subworkflow.task_tree
        root.internal_data[SUBSCRIPTIONS] = seed["scope"]
        self.copy_data(my_task, subworkflow)
        if seed["locals"]:
            scope_locals_set(subworkflow, seed["locals"])
        subworkflow.get_next_task(spec_name="Start").run()


class CompensationThrow:
    """A compensation throw (intermediate or end) event: compensate, wait, go on.

    Mixed into the parsed spec's own class (`_mixed`), so the event keeps
    everything else it does (an end event still ends its path).
    """

    compensate_ref: str | None = None

    def _update_hook(self, my_task: Any) -> bool:
        if not my_task.internal_data.get(_THROWN):
            if not super()._update_hook(my_task):  # type: ignore[misc]
                return False
            my_task.internal_data[_THROWN] = True
            # Reached from a predicted state (a boundary event's path): definite
            # before it gets the handlers as children.
            my_task._set_state(TaskState.WAITING)
            return not _throw(my_task, self.compensate_ref)
        if _pending(my_task):
            return False
        my_task._inherit_data()  # what the handlers wrote
        return True


def _interrupt_others(task: Any) -> None:
    """Cancel every unfinished task of the transaction but `task`'s own path."""
    workflow = task.workflow
    for other in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if (
            other is task
            or other.id not in workflow.tasks
            or other.has_state(TaskState.FINISHED_MASK)
            or other.is_descendant_of(task)
            or task.is_descendant_of(other)
        ):
            continue
        other.cancel()


class CancelEnd(CompensationThrow):
    """A cancel end event of a transaction, as Camunda 7 runs it.

    It interrupts the transaction's other paths, compensates the transaction's
    completed tasks (handlers as for a compensation throw, waited for), and
    only then throws the cancel event, which the transaction's cancel boundary
    event catches: the case leaves the transaction on that event's flows.
    """

    def _update_hook(self, my_task: Any) -> bool:
        if not my_task.internal_data.get(_THROWN):
            _interrupt_others(my_task)
        return super()._update_hook(my_task)


_MIXED: dict[tuple[type, type], type] = {}


def _mixed(mixin: type, base: type) -> type:
    if issubclass(base, mixin):
        return base
    if (mixin, base) not in _MIXED:
        name = f"{mixin.__name__}{base.__name__}"
        _MIXED[mixin, base] = type(name, (mixin, base), {})
    return _MIXED[mixin, base]
