"""Event sub-processes and boundary events as BPMN 2.0 runs them.

SpiffWorkflow 3.2 departs from BPMN here; each departure is corrected:

* It looks for a namespaced `bpmn:triggeredByEvent`, so every event
  sub-process is parsed as a plain sub-process (`ScopedSubWorkflowParser`).
* Only event sub-processes with a none or timer start are armed when their
  scope starts; message/signal ones start only from the top workflow's
  `update_collaboration` (so they never show as waiting: no subscription, and
  a nested one never fires); error/escalation starts are not parsed at all
  (`ScopedStartEventParser`). Here every event sub-process is armed when its
  scope starts (its start event waits like any catching event) and disarmed
  when the scope's flow ends (`ScopedEndJoin`), so a waiting one never keeps a
  finished scope open.
* `isInterrupting` is ignored: an interrupting event sub-process ran beside the
  main flow. `ScopedStartEvent` cancels the rest of its scope when it fires; a
  non-interrupting one re-arms, so each occurrence starts an instance.
* A non-interrupting boundary event fires once; `RepeatingBoundaryEvent`
  re-arms it while its activity is open (message, signal, escalation,
  conditional).
* A firing event sub-process or boundary event carried the data of the moment
  it was armed; it now carries the scope's current variables (`_refresh`).
* Errors and escalations of the Spiff dialect are thrown without a target, so
  every catcher of the whole case fired (two boundary events on one activity
  both fire; an outer event sub-process beats the inner one).
  `ScopedEndEvent`/`ScopedThrowEvent` throw them at their own workflow, and
  `ScopedEventManager` routes them by scope, innermost first: the scope's
  event sub-processes, then the boundary events of the activity that is the
  scope; at each level the catcher naming the code wins over a catch-all, and
  only one catches. This is Camunda 7's order too (ErrorEventDefinition's
  precedence: an event sub-process's error start before a boundary event of
  the same scope, one naming the code before a catch-all). Two escalation
  catchers of one level that could both catch a code (the same code, or one
  for any code) are refused at upload as Camunda 7 refuses them
  (`ref_checks.py`), so for escalations a level never has to choose. An
  escalation event sub-process does not catch an escalation thrown directly
  in it (Camunda 7's isReThrowingEscalationEventSubprocess): it goes on to the
  next catcher, where SpiffWorkflow started the same event sub-process anew.
* A conditional catch is evaluated only when it starts waiting;
  `conditions_refresh` evaluates the waiting conditional events (catches,
  boundary events, event sub-process starts) on each step's variable events
  (conditional_events.py).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    CodeEventDefinition,
    EscalationEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import (
    CallActivity,
    EventSubprocess,
)
from SpiffWorkflow.bpmn.util.event import BpmnEvent, EventManager
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateThrowEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.task_spec import SubWorkflowParser
from SpiffWorkflow.spiff.specs.defaults import SubWorkflowTask, TransactionSubprocess
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import conditional_events
from .call_data import MappedCallActivity, mapped_variables
from .common import CYCLE_HANDOVER
from .end_events import SignalEndEventParser
from .error_variables import error_variables, error_variables_set
from .event_names import keep_names
from .implicit_ends import subprocess_spec
from .process_end import process_ended
from .uncaught_errors import thrower_note
from .variables import variables_of

_EVENT_XPATHS = (
    ".//bpmn:messageEventDefinition",
    ".//bpmn:signalEventDefinition",
    ".//bpmn:timerEventDefinition",
    ".//bpmn:conditionalEventDefinition",
    ".//bpmn:errorEventDefinition",
    ".//bpmn:escalationEventDefinition",
)
_MISSING = object()
_FIRED = TaskState.READY | TaskState.STARTED | TaskState.COMPLETED


def _repeats(definition: Any) -> bool:
    """Return whether a non-interrupting catch re-arms after it fired.

    Timers do not: a duration fires once, and SpiffWorkflow repeats a cycle on
    the waiting task itself. A conditional one does, and is not evaluated
    when re-armed (conditional_events.py).
    """
    return not isinstance(definition, TimerEventDefinition)


def event_subprocess_task(task: Any) -> Any | None:
    """Return the event sub-process task whose workflow `task` runs in, if any."""
    workflow = task.workflow
    if workflow.parent_task_id is None:
        return None
    parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return parent if isinstance(parent.task_spec, EventSubprocess) else None


def armed_event_subprocess(task: Any) -> bool:
    """Return whether `task` is an event sub-process still waiting for its event."""
    if not isinstance(task.task_spec, EventSubprocess):
        return False
    sub = task.workflow.top_workflow.subprocesses.get(task.id)
    if sub is None:
        return True
    return not any(
        isinstance(t.task_spec, StartEvent) and t.has_state(_FIRED)
        for t in sub.get_tasks(skip_subprocesses=True)
        if t.task_spec.bpmn_id
    )


def _interrupt(esp_task: Any) -> None:
    """Cancel everything in the event sub-process's scope but the sub-process."""
    for task in list(esp_task.workflow.get_tasks(skip_subprocesses=True)):
        if task is esp_task or task.has_state(TaskState.FINISHED_MASK):
            continue
        if task.is_descendant_of(esp_task) or esp_task.is_descendant_of(task):
            continue
        task.cancel()


def _rearm(
    esp_task: Any, cycle: dict[str, Any] | None = None, fired: Any = None
) -> None:
    """Arm a fresh instance of a non-interrupting event sub-process (a timer
    cycle's: waiting for the `cycle` value's next occurrence; one named by an
    expression: for the name its `fired` start event waited for; a conditional
    one's: owing what the `fired` start event still owes)."""
    child = esp_task.parent._add_child(esp_task.task_spec, TaskState.FUTURE)
    if cycle is not None:
        child.internal_data[CYCLE_HANDOVER] = cycle
    if fired is not None:
        keep_names(fired, child)
        conditional_events.carry(fired, child)
    child.task_spec._update(child)


def _scope_of(task: Any) -> Any:
    esp_task = event_subprocess_task(task)
    return esp_task.workflow if esp_task is not None else task.workflow


def _level(workflow: Any) -> int:
    level = 0
    while workflow.parent_workflow is not None:
        workflow, level = workflow.parent_workflow, level + 1
    return level


def _top_down(task: Any) -> tuple[int, int]:
    """Camunda 7's order of evaluation: outer scopes first, and in a scope its
    event sub-processes before the events of its activities."""
    esp_task = event_subprocess_task(task)
    if esp_task is not None and isinstance(task.task_spec, StartEvent):
        return _level(esp_task.workflow), 0
    return _level(task.workflow), 1


def _non_interrupting(task: Any) -> bool:
    spec = task.task_spec
    if isinstance(spec, BoundaryEvent):
        return not spec.cancel_activity
    return isinstance(spec, StartEvent) and not getattr(spec, "interrupting", True)


def _interrupts(task: Any) -> bool:
    spec = task.task_spec
    if isinstance(spec, BoundaryEvent):
        return bool(spec.cancel_activity)
    return isinstance(spec, StartEvent) and getattr(spec, "interrupting", True)


def _bring_up_to_date(task: Any) -> None:
    latest = _scope_of(task).last_task
    if variables_of(task.workflow) is not None:
        return  # shared variables: the waiting task is current (variables.py)
    if latest is not None and latest is not task:
        # Not task_spec._update: it re-inherits the parent's (stale) data.
        task.data = deepcopy(latest.data)


def conditions_refresh(workflow: Any) -> bool:
    """Evaluate the waiting conditional events on the variable events of a step.

    SpiffWorkflow evaluates a conditional event only when it starts waiting.
    Here each one looks at its scope's variables as they are now, top-down
    (`_top_down`), and fires as often as its variable events say
    (conditional_events.firings_owed). An interrupting one cancels what it
    interrupts at once, so the events in there never fire. Called after every
    task the engine runs and after each command (stepping.py). Return whether
    any fired (the engine must then run on).
    """
    waiting = [
        task
        for task in list(workflow.top_workflow.event_manager.tasks.values())
        if isinstance(task.task_spec.event_definition, ConditionalEventDefinition)
        and not getattr(task.task_spec.event_definition, "process_start", False)
    ]
    written_for = conditional_events.take_written(workflow)
    fired = False
    for task in sorted(waiting, key=_top_down):
        if not task.has_state(TaskState.WAITING):
            continue  # cancelled by an interrupting event of this pass
        _bring_up_to_date(task)
        written = written_for.get(task.id, frozenset())
        times = conditional_events.firings_owed(task, written)
        if not times:
            continue
        conditional_events.fire(task, times, repeats=_non_interrupting(task))
        fired = True
        if _interrupts(task):
            _interrupt_now(task)
    return fired


def _interrupt_now(task: Any) -> None:
    """Cancel what an interrupting conditional event interrupts before anything
    else runs (Camunda 7 interrupts while dispatching the variable event: the
    activity after the one that set the variable never starts)."""
    if isinstance(task.task_spec, BoundaryEvent):
        _interrupt_activity(task)
        return
    esp_task = event_subprocess_task(task)
    if esp_task is not None:
        _interrupt(esp_task)


def _refresh(my_task: Any, latest: Any) -> None:
    """Give a firing catch event the current variables of `latest`.

    The event was armed earlier (an event sub-process when its scope started,
    a boundary event when its activity started), so it holds the data of that
    moment; BPMN variables are the scope's as they are now, including those a
    sub-process set before it was interrupted. What the event itself brought
    (a message payload) is kept on top.
    """
    if (
        latest is None
        or latest is my_task
        or variables_of(my_task.workflow) is not None
    ):
        return  # with shared variables the waiting event is current (variables.py)
    armed = my_task.parent.data if my_task.parent is not None else {}
    brought = {k: v for k, v in my_task.data.items() if armed.get(k, _MISSING) != v}
    my_task.data = {**deepcopy(latest.data), **brought}


class ScopedStartEvent(StartEvent):
    """A start event that honours `isInterrupting` inside an event sub-process.

    A process's start events are alternatives (BPMN 2.0 §10.5.2; Camunda 7:
    each starts its own instance): when one fires, the others of the same
    process stop waiting in this case. SpiffWorkflow left them waiting, so a
    case started by a message still waited at its timer or signal start
    event (caught a later signal meant to start a new case, never completed).
    """

    interrupting = True

    def _run_hook(self, my_task: Any) -> bool:
        esp_task = event_subprocess_task(my_task)
        if esp_task is not None:
            _refresh(my_task, esp_task.workflow.last_task)
            if self.interrupting:
                _interrupt(esp_task)
            elif hasattr(self.event_definition, "following"):
                # A timer cycle (timers.EventSubprocessCycleTimer): the next
                # instance waits for the following occurrence, if any.
                following = self.event_definition.following(my_task)
                if following is not None:
                    _rearm(esp_task, following)
            elif _repeats(self.event_definition):
                _rearm(esp_task, fired=my_task)
        else:
            _cancel_other_starts(my_task)
        return super()._run_hook(my_task)


def _cancel_other_starts(my_task: Any) -> None:
    parent = my_task.parent
    for sibling in list(parent.children) if parent is not None else []:
        if (
            sibling is not my_task
            and isinstance(sibling.task_spec, StartEvent)
            and not sibling.has_state(TaskState.FINISHED_MASK)
        ):
            sibling.cancel()


def _activity_latest(my_task: Any, split: Any) -> Any | None:
    """Return the latest task inside the boundary's embedded sub-process, if any.

    An embedded sub-process shares its variables with its scope, so what it set
    before it was interrupted is kept. A called process does not (only what it
    maps out), and any other activity's variables are those it started with.
    """
    top = my_task.workflow.top_workflow
    for sibling in split.children:
        if isinstance(sibling.task_spec, (BoundaryEvent, CallActivity)):
            continue
        sub = top.subprocesses.get(sibling.id)
        if sub is not None:
            return sub.last_task
    return None


def _interrupt_activity(boundary: Any) -> None:
    """Cancel the activity an interrupting boundary event fired on, at once."""
    for sibling in boundary.parent.children:
        if not isinstance(sibling.task_spec, BoundaryEvent):
            sibling.cancel()


class RepeatingBoundaryEvent(BoundaryEvent):
    """A boundary event that, non-interrupting, fires for every occurrence.

    An interrupting conditional one whose condition holds when its activity
    is entered cancels the activity before it runs: Camunda 7 evaluates the
    condition on scope instantiation, before the activity executes (a script
    task's script never runs); SpiffWorkflow ran the activity first.
    """

    def _update_hook(self, my_task: Any) -> bool:
        fires = bool(super()._update_hook(my_task))
        if (
            fires
            and self.cancel_activity
            and isinstance(self.event_definition, ConditionalEventDefinition)
        ):
            _interrupt_activity(my_task)
        return fires

    def _run_hook(self, my_task: Any) -> bool:
        split = my_task.parent
        _refresh(my_task, _activity_latest(my_task, split))
        if (
            not self.cancel_activity
            and _repeats(self.event_definition)
            and isinstance(split.task_spec, BoundaryEventSplit)
            and any(
                not isinstance(t.task_spec, BoundaryEvent)
                and not t.has_state(TaskState.FINISHED_MASK)
                for t in split.children
            )
        ):
            # MAYBE, as the split predicts its boundary events: _update then
            # predicts the outgoing path (a FUTURE task would get none).
            again = split._add_child(self, TaskState.MAYBE)
            keep_names(my_task, again)  # the subscription outlives the occurrence
            conditional_events.carry(my_task, again)
            again.task_spec._update(again)
        return super()._run_hook(my_task)


class _ScopedThrow(ThrowingEvent):
    """Throw errors and escalations at the thrower's own scope."""

    def _run_hook(self, my_task: Any) -> bool:
        definition = self.event_definition
        if not isinstance(definition, CodeEventDefinition):
            return super()._run_hook(my_task)
        super(ThrowingEvent, self)._run_hook(my_task)
        expression = getattr(definition, "expression", None)
        payload = (
            my_task.workflow.script_engine.evaluate(my_task, expression)
            if expression
            else None
        )
        event = BpmnEvent(definition, payload=payload, target=my_task.workflow)
        thrower_note(event, my_task)  # named if nothing catches it
        my_task.workflow.top_workflow.catch(event)
        return True


class ScopedEndEvent(_ScopedThrow, EndEvent):
    """An end event whose error/escalation is caught innermost scope first."""

    def _on_complete_hook(self, my_task: Any) -> None:
        super()._on_complete_hook(my_task)
        if isinstance(self.event_definition, TerminateEventDefinition):
            process_ended(my_task)  # after what it cancelled


class ScopedThrowEvent(_ScopedThrow, IntermediateThrowEvent):
    """An intermediate throw event whose escalation is caught by scope."""


class ScopedEndJoin(_EndJoin):
    """The end of a scope: armed event sub-processes do not keep it open."""

    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        armed = []
        for task in TaskIterator(
            my_task.workflow.task_tree,
            state=TaskState.NOT_FINISHED_MASK,
            end_at_spec=self.name,
        ):
            if task == my_task:
                continue
            if armed_event_subprocess(task):
                armed.append(task)
                continue
            if any(task.is_descendant_of(a) for a in armed):
                continue
            return False
        for task in armed:
            task.cancel()
        return True

    def _run_hook(self, my_task: Any) -> bool:
        """Take the shared variables, never a finished branch's stale copy.

        SpiffWorkflow deep-merges the data every earlier end of the scope had
        into this one (in place, into the very list objects the tasks share):
        a branch that ended before another changed a list put the old list
        back, and the case ended with it. With a store (`variables.py`) the
        variables are already one set, so nothing is merged.
        """
        if variables_of(my_task.workflow) is None:
            result = bool(super()._run_hook(my_task))
        else:
            for task in list(my_task.workflow.tasks.values()):
                if (
                    task.task_spec == self
                    and task.has_state(TaskState.COMPLETED)
                    and not my_task.is_descendant_of(task)
                ):
                    task._drop_children(force=True)  # as SpiffWorkflow: reset leftovers
            my_task._inherit_data()
            result = True
        process_ended(my_task)  # its instance's last path has ended
        return result


class ScopedStartEventParser(SpiffStartEventParser):
    """Parse error/escalation starts and `isInterrupting` (SpiffWorkflow skips both)."""

    def create_task(self) -> Any:
        definition = self.get_event_definition(list(_EVENT_XPATHS))
        task = self._create_task(definition)
        task.interrupting = self.node.get("isInterrupting", "true").lower() == "true"
        task.error_variables = error_variables(self.node)
        self.spec.start.connect(task)
        return task


class ErrorVariablesBoundaryEventParser(SpiffBoundaryEventParser):
    """A boundary event that keeps camunda:errorCodeVariable / errorMessageVariable
    (an escalation boundary event: camunda:escalationCodeVariable)."""

    def create_task(self) -> Any:
        task = super().create_task()
        task.error_variables = error_variables(self.node)
        return task


class ScopedSubWorkflowParser(SubWorkflowParser):
    """Parse a sub-process, event sub-process or transaction: event
    sub-processes get their class (SpiffWorkflow looks for a namespaced
    `bpmn:triggeredByEvent` attribute, so every one parsed as a plain
    sub-process), and none needs an end event (`implicit_ends.py`)."""

    def create_task(self) -> Any:
        extensions = self.parse_extensions()
        event = self.node.get("triggeredByEvent", "false").lower() == "true"
        return (self.EVENT_SUBPROCESS_CLASS if event else self.spec_class)(
            self.spec,
            self.bpmn_id,
            subworkflow_spec=subprocess_spec(self),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


EVENT_PARSER_CLASSES = {
    full_tag("subProcess"): (ScopedSubWorkflowParser, SubWorkflowTask),
    full_tag("transaction"): (ScopedSubWorkflowParser, TransactionSubprocess),
    full_tag("startEvent"): (ScopedStartEventParser, ScopedStartEvent),
    full_tag("boundaryEvent"): (
        ErrorVariablesBoundaryEventParser,
        RepeatingBoundaryEvent,
    ),
    full_tag("endEvent"): (SignalEndEventParser, ScopedEndEvent),
    full_tag("intermediateThrowEvent"): (
        SpiffIntermediateThrowEventParser,
        ScopedThrowEvent,
    ),
}


def arm_event_subprocesses(spec: Any) -> Any:
    """Wire every event sub-process of `spec` to start with its scope (idempotent)."""
    start = spec.start
    for name in list(start.trigger_specs):
        task_spec = spec.task_specs[name]
        start.connect(task_spec)
        task_spec.connect(spec.end)
    start.trigger_specs.clear()
    if type(spec.end) is _EndJoin:
        # The spec is built by SpiffWorkflow's BpmnProcessSpec; only the join's
        # threshold changes, so the instance is re-classed in place.
        spec.end.__class__ = ScopedEndJoin
    return spec


def _esp_catchers(manager: EventManager, scope: Any, event: Any) -> list[Any]:
    found = []
    for task in manager.tasks.values():
        esp = event_subprocess_task(task)
        if (
            esp is not None
            and esp.workflow is scope
            and isinstance(task.task_spec, StartEvent)
            and task.task_spec.catches(task, event)
        ):
            found.append(task)
    return found


def _boundary_catchers(activity: Any, event: Any) -> list[Any]:
    if activity.parent is not None and isinstance(activity.parent.task_spec, LoopTask):
        # One instance of a multi-instance or loop activity: its boundary
        # events are the whole activity's (BPMN 2.0 §10.2.8, Camunda 7: they
        # interrupt every instance).
        activity = activity.parent
    split = activity.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return []
    return [
        t
        for t in split.children
        if isinstance(t.task_spec, BoundaryEvent) and t.task_spec.catches(t, event)
    ]


def _most_specific(catchers: list[Any], event: Any) -> Any | None:
    if not catchers:
        return None
    code = event.event_definition.code
    exact = [c for c in catchers if c.task_spec.event_definition.code == code]
    return (exact or catchers)[0]


def _rethrowing_event_subprocess(event: Any) -> Any | None:
    """The escalation event sub-process an escalation is thrown directly in.

    Camunda 7's EscalationEventDefinitionFinder skips it
    (isReThrowingEscalationEventSubprocess: the catcher's handler is the
    thrower's flow scope): an escalation event sub-process throwing its own
    code again does not start itself anew, the escalation goes on to the next
    catcher. Only a throw directly inside it (Camunda compares the flow scope);
    errors are not concerned (an error event sub-process interrupts, so it no
    longer waits when its content throws).
    """
    if not isinstance(event.event_definition, EscalationEventDefinition):
        return None
    scope = event.target
    if scope.parent_task_id is None:
        return None
    owner = scope.top_workflow.get_task_from_id(scope.parent_task_id)
    return owner if isinstance(owner.task_spec, EventSubprocess) else None


def _same_event_subprocess(start: Any, esp: Any) -> bool:
    """Whether the waiting start event `start` arms another instance of `esp`."""
    own = event_subprocess_task(start)
    return own is not None and own.task_spec is esp.task_spec


def scoped_catcher(event: Any, activity: Any = None) -> Any | None:
    """Return the one task that catches an error/escalation thrown at `event.target`.

    BPMN scoping: the boundary events of `activity` (the throwing activity, if
    it can have any), then per scope, innermost first, the scope's event
    sub-processes and the boundary events of the activity that is the scope.
    At each level the catcher naming the code wins over a catch-all.
    """
    if activity is not None:
        found = _most_specific(_boundary_catchers(activity, event), event)
        if found is not None:
            return found
    scope = event.target
    manager = scope.top_workflow.event_manager
    rethrower = _rethrowing_event_subprocess(event)
    while scope is not None:
        esps = _esp_catchers(manager, scope, event)
        if rethrower is not None:
            esps = [c for c in esps if not _same_event_subprocess(c, rethrower)]
        found = _most_specific(esps, event)
        if found is None and scope.parent_task_id is not None:
            owner = scope.top_workflow.get_task_from_id(scope.parent_task_id)
            found = _most_specific(_boundary_catchers(owner, event), event)
        if found is not None:
            return found
        scope = scope.parent_workflow
    return None


class ScopedEventManager(EventManager):
    """Route errors and escalations by BPMN scope (`scoped_catcher`), one catcher."""

    def catch(self, event: Any, internal: bool = True) -> int:
        if event.target is None or not isinstance(
            event.event_definition, CodeEventDefinition
        ):
            return super().catch(event, internal)
        task = scoped_catcher(event)
        if task is None:
            if internal:
                self.workflow.bpmn_events.append(event)
            return 0
        task.task_spec.catch(task, event)
        error_variables_set(task, event)
        _mark_interrupted(event.target, task)
        task.task_spec._update(task)
        call_outputs_pass(event.target, task)
        return 1


def _mark_interrupted(scope: Any, catcher: Any) -> None:
    """Mark the scopes an interrupting catch of an error or escalation ends.

    SpiffWorkflow ends the thrower's (sub-)workflow normally at an error or
    escalation end event and completes its task; Camunda 7 cancels every
    scope between the throw and an interrupting catcher (a boundary event
    with cancelActivity, an interrupting event sub-process's start). Such a
    scope never completed, so it is never compensated (compensation.py reads
    `success` as SpiffWorkflow's cancel end event leaves it).
    """
    spec = catcher.task_spec
    esp = event_subprocess_task(catcher)
    if isinstance(spec, BoundaryEvent):
        interrupting, interrupted = spec.cancel_activity, catcher.workflow
    elif esp is not None:  # it interrupts the scope the event sub-process is in
        interrupting = getattr(spec, "interrupting", True)
        interrupted = esp.workflow
    else:
        return
    if not interrupting:
        return
    while scope is not None and scope is not interrupted:
        if scope.parent_task_id is None:
            return
        scope.success = False
        scope = scope.parent_workflow


def call_outputs_pass(scope: Any, catcher: Any, source: Any = None) -> None:
    """Run `camunda:out` of every call activity the event left to reach `catcher`.

    Camunda 7 propagates errors and escalations with an OutputVariablesPropagator
    (BpmnExceptionHandler.propagateError, EscalationHandler.propagateEscalation):
    crossing a called process instance on the way to the catcher passes its
    output variables to the call activity, so the catching path sees them (also
    for a non-interrupting escalation, whose called process goes on).
    `source` is the throwing task (default: the scope's last task), whose
    data are the called process's variables as they are now.
    """
    passed: dict = {}
    source = source if source is not None else scope.last_task
    while scope is not catcher.workflow and scope.parent_task_id is not None:
        owner = scope.top_workflow.get_task_from_id(scope.parent_task_id)
        spec = owner.task_spec
        if isinstance(spec, MappedCallActivity) and spec.outs and source is not None:
            # local="true" ones would set the call activity's own scope,
            # which the event cancels (no output parameter maps them out).
            shared = tuple(rule for rule in spec.outs if not rule.local)
            passed = mapped_variables(source, source.data, shared)
            owner.data.update(passed)
        source, scope = owner, scope.parent_workflow
    if passed:
        catcher.data.update(deepcopy(passed))


def _task_or_none(workflow: Any, task_id: Any) -> Any | None:
    if task_id is None:
        return None
    try:
        return workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None


def engine_steps(workflow: Any, did_complete: Any) -> bool:
    """SpiffWorkflow's `BpmnWorkflow._do_engine_steps`, for one pass; return
    whether anything ran or a sub-process started.

    It lists the running sub-processes once and then runs each; an error or
    escalation caught on a multi-instance activity (`_boundary_catchers`)
    removes the activity's instances, sub-processes included, during the
    pass, and SpiffWorkflow then fails looking up a removed one's task (the
    throwing instance's too). Here a sub-process removed meanwhile is skipped.
    """

    def update(wf: Any) -> int:
        count = 0
        for task in wf.get_tasks(state=TaskState.READY):
            # A task cancelled earlier in this pass does not run: a join
            # instance whose token an earlier firing took, or one a
            # conditional event fired after an earlier task interrupted
            # (conditions_refresh).
            if not task.task_spec.manual and task.state == TaskState.READY:
                task.run()
                count += 1
                did_complete(task)
        return count

    active = workflow.get_active_subprocesses()
    for sub in sorted(active, key=lambda v: v.depth, reverse=True):
        if workflow.subprocesses.get(sub.parent_task_id) is not sub:
            continue  # removed with its activity earlier in this pass
        while update(sub) > 0:
            pass
        task = _task_or_none(workflow, sub.parent_task_id)
        if task is not None:  # None: its activity ended while it ran
            task.task_spec._update(task)
    count = update(workflow)
    return count > 0 or len(workflow.get_active_subprocesses()) > len(active)


def scoped_events(workflow: Any) -> Any:
    """Give `workflow` the scope-aware event manager (keeps its waiting tasks)."""
    if not isinstance(workflow.event_manager, ScopedEventManager):
        manager = ScopedEventManager(workflow)
        manager.tasks = workflow.event_manager.tasks
        workflow.event_manager = manager
    return workflow
