"""BPMN 2.0 compensation as Camunda 7 runs it, on SpiffWorkflow's task tree.

SpiffWorkflow 3.2 has no compensation: its parser raises on a compensation
boundary event, never reaches a handler (it has no incoming flow) and reads a
compensation throw as a none event. Laneway runs the common subset:

* **Subscribe.** A compensation boundary event on a task (user, manual,
  service, script, send, receive, business rule or plain task) names its
  handler, an activity with isForCompensation="true", through an association.
  Each time the task *completes* (not when it is interrupted or cancelled), a
  subscription (activity, handler) is appended to the list of its scope: the
  internal data of the root task of its (sub-)workflow, which the prune always
  keeps (prune.py, I5) and the serializer stores with the case. A task in a
  loop subscribes once per completion; a multi-instance (or standard loop)
  task once per completed instance, when the whole activity completes.
* **Throw.** A compensation intermediate throw or end event takes the
  subscriptions of its own scope (all of them, or only `activityRef`'s),
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
  (Camunda 7 snapshots only embedded sub-processes, which are not compensable
  here).

* **Transactions.** A cancel end event (`CancelEnd`) directly in a
  transaction interrupts the transaction's other paths, compensates the
  transaction's completed tasks like a compensation throw (and waits), then
  throws the cancel event; SpiffWorkflow's cancel boundary event on the
  transaction catches it and the case leaves on its flows (Camunda 7's order:
  interrupt, compensate, leave).

A handler that fails keeps its throw event waiting (the incident's retry runs
it again). Everything outside that subset is refused at upload, located
(`compensation_checks.py`): compensating a sub-process or call activity, a
compensation throw whose scope holds a
sub-process with compensation handlers inside (Camunda compensates those
recursively), compensation inside an event sub-process, handlers that are not
plain tasks, and compensation event sub-processes (checks.py).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import SpiffProcessParser
from SpiffWorkflow.util.task import TaskState

from .xml import BPMN, NSMAP, local_name

SUBSCRIPTIONS = "laneway_compensation"
_THROWN = "laneway_compensation_thrown"
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
        specs = self.spec.task_specs
        children = [e for e in self.node if isinstance(e.tag, str)]
        for node in children:
            if is_handler(node) and local_name(node) in COMPENSABLE:
                handler = self.parse_node(node)
                handler.compensation_handler_of = True
                # No flow leads to a handler; SpiffWorkflow refuses to ready a
                # spec without inputs. The start is not given it as an output,
                # so nothing ever predicts or reaches the handler by flow.
                handler.inputs = [self.spec.start]
        for node in children:
            if (
                local_name(node) == "boundaryEvent"
                and compensation_definition(node) is not None
            ):
                activity = specs.get(node.get("attachedToRef"))
                handler = handler_id(self.node, node)
                if activity is not None and handler in specs:
                    activity.compensation_handler = handler
            elif local_name(node) in _THROWS:
                definition = compensation_definition(node)
                spec = specs.get(node.get("id"))
                if spec is None:
                    continue
                if definition is not None:
                    spec.__class__ = _mixed(CompensationThrow, type(spec))
                    spec.compensate_ref = definition.get("activityRef") or None
                elif node.find(_CANCEL) is not None:
                    spec.__class__ = _mixed(CancelEnd, type(spec))


# --- running ---------------------------------------------------------------


def _subscribe(workflow: Any, task: Any) -> None:
    """A compensable task completed: subscribe its handler in the task's scope.

    A multi-instance or loop activity subscribes once per completed instance
    when the whole activity has completed (Camunda 7: an activity still running
    is not compensated; its handler runs once per instance).
    """
    spec = task.task_spec
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


def connect(task_spec: Any) -> None:
    """Connect the compensation handlers of one spec (`semantics.adapt_specs`)."""
    event = task_spec.completed_event
    if getattr(task_spec, "compensation_handler", None):
        if not event.is_connected(_subscribe):
            event.connect(_subscribe)
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
    counterpart (same id unless mapped) with a compensation handler.
    """
    found = []
    for root in _scopes_with_subscriptions(workflow):
        for activity, _ in root.internal_data[SUBSCRIPTIONS]:
            name = mapping.get(activity, activity)
            spec = new_specs.get(name)
            if spec is None or not getattr(spec, "compensation_handler", None):
                found.append((activity, name))
    return found


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


def _throw(task: Any, activity: str | None) -> bool:
    """Start the handlers of the scope's subscriptions; return whether any started."""
    root = task.workflow.task_tree
    subscriptions = root.internal_data.get(SUBSCRIPTIONS, [])
    chosen = [s for s in subscriptions if activity is None or s[0] == activity]
    if not chosen:
        return False
    root.internal_data[SUBSCRIPTIONS] = [s for s in subscriptions if s not in chosen]
    specs = task.workflow.spec.task_specs
    for _, handler in reversed(chosen):
        spec = specs[handler]
        child = task._add_child(spec, TaskState.FUTURE)
        spec._update(child)
    return True


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
