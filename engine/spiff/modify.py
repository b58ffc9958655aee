"""Move a running case: Camunda 7's process instance modification.

`workflow_modify` applies a list of instructions, in order, to one loaded case and
then runs the engine once, so they take effect together or not at all:

* `cancel X`: every active instance of element X ends (a user task leaves the
  inbox, a waiting service call is discarded by the caller, a sub-process ends with
  everything inside it). A task's boundary events go with it.
* `start_before X`: a new token arrives at X, as if a sequence flow had just
  entered it; X runs as usual (a user task is offered, a service task called).
* `start_after X`: a new token leaves X on its one outgoing sequence flow (X does
  not run); Camunda refuses it for an element with several outgoing flows, and so
  does this.
* `start_transition F`: a new token on sequence flow F (Camunda's
  startTransition): it arrives at F's target as if F's source had just completed,
  which is how a process admin takes a chosen path past a failed gateway.
* `cancel_task T`: the one active task with id T (an incident's task), not every
  instance of its element.

As Camunda 7's ProcessInstanceModificationBuilder, custom listeners run unless
skipped (`skip_custom_listeners`, its execute(skipCustomListeners, ...)): what is
cancelled runs its delete task listeners and end execution listeners, innermost
first (cancel_listeners.py); what is started runs its start listeners (its
pre-script) as it is entered. Skipping them, a cancellation runs none, and a start
that would run listeners of its own (an element with start or create listeners,
a sub-process or call activity, whose inner ones could not be told apart) is
refused.

Tokens carry the case's current variables, plus the `data` given. What the engine
cannot do faithfully is refused with the instruction's position, the element and
the reason, and nothing changes:

* an id that is no element of the process;
* `cancel` of an element that is not active, of a boundary event (it ends with
  its activity), or of one instance inside a multi-instance body (cancel the
  multi-instance activity);
* a start inside a multi-instance body, inside a sub-process that is not running
  exactly once, at a boundary event, or before a parallel or inclusive join with
  several incoming flows (it could not tell which flow the token came on: start
  after the element on that flow instead);
* instructions that leave the case, or a running sub-process, with no token: end a
  case by cancelling it.

Parallel joins count tokens per incoming flow, as in BPMN and Camunda: cancelling
the work of one branch does not release the join, which keeps waiting for that
branch. To go on without it, cancel its element and start after the branch's last
element in the same modification (the join then has that flow's token).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway, ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .cancel_listeners import custom_listeners_skipped
from .common import ACTIVE, json_safe
from .compiled import CompiledProcess
from .errors import SpiffAdapterError
from .multi_instance import shared_data
from .reached_failures import failure_text
from .runtime import run_command
from .serialization import state_load
from .types import AdvanceOutcome, SequenceFlow, StepRecord
from .variables import variables_assign

KINDS = ("cancel", "start_before", "start_after", "start_transition", "cancel_task")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One step of a modification: `kind` is one of KINDS; `element` a BPMN id."""

    kind: str
    element: str


@dataclass(frozen=True, slots=True)
class Modified:
    """The outcome of a modification and the tasks it cancelled (their ids)."""

    outcome: AdvanceOutcome
    cancelled_task_ids: tuple[str, ...]


class ModificationRefused(SpiffAdapterError):
    """An instruction cannot be applied; nothing was changed."""

    def __init__(self, index: int, element: str, reason: str) -> None:
        self.index, self.element, self.reason = index, element, reason
        super().__init__(f"instruction {index + 1} ({element}): {reason}")


def _in_loop_body(task: Any) -> bool:
    """Is the task (or the sub-process it runs in) one instance of a loop/MI?"""
    while task is not None:
        if task.parent is not None and isinstance(task.parent.task_spec, LoopTask):
            return True
        workflow = task.workflow
        if workflow.parent_task_id is None:
            return False
        task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return False


class _Modifier:
    def __init__(
        self, wf: Any, process: CompiledProcess, data: dict, skip: bool
    ) -> None:
        self.wf, self.process, self.data = wf, process, data
        self.skip = skip  # Camunda's skipCustomListeners
        self.flows = process.meta.sequence_flows
        self.cancelled: list[str] = []
        self.index = 0

    def refuse(self, element: str, reason: str) -> ModificationRefused:
        return ModificationRefused(self.index, element, reason)

    def _spec(self, element: str) -> tuple[Any, Any]:
        """Return (task spec, the process spec that holds it)."""
        subs: Any = self.process.subprocess_specs
        specs = [self.process.spec, *subs.values()]
        for scope in specs:
            spec = scope.task_specs.get(element)
            if spec is not None and spec.bpmn_id == element:
                return spec, scope
        raise self.refuse(element, "there is no such element in this process")

    def _scope_workflow(self, element: str, scope: Any) -> Any:
        """Return the (sub)workflow a new token at `element` runs in."""
        if scope is self.process.spec:
            return self.wf
        running = [
            sub
            for sub in self.wf.subprocesses.values()
            if sub.spec.name == scope.name and not sub.completed
        ]
        if len(running) != 1:
            raise self.refuse(
                element,
                f"it is inside sub-process '{scope.name}', which is running "
                f"{len(running)} times, not once: start before the sub-process",
            )
        [sub] = running
        if _in_loop_body(self.wf.get_task_from_id(sub.parent_task_id)):
            raise self.refuse(element, "it is inside a multi-instance body")
        return sub

    def cancel(self, element: str) -> None:
        spec, _ = self._spec(element)
        if isinstance(spec, BoundaryEvent):
            raise self.refuse(element, "a boundary event ends with its activity")
        tasks = [t for t in self.wf.get_tasks(state=ACTIVE) if t.task_spec is spec]
        if not tasks:
            raise self.refuse(element, "it is not active in this case")
        self._cancel_tasks(element, tasks)

    def cancel_task(self, task_id: str) -> None:
        found = [t for t in self.wf.get_tasks(state=ACTIVE) if str(t.id) == task_id]
        if not found:
            raise self.refuse(task_id, "no active task of this case has this id")
        self._cancel_tasks(found[0].task_spec.bpmn_id or task_id, found)

    def _cancel_tasks(self, element: str, tasks: list[Any]) -> None:
        for task in tasks:
            if _in_loop_body(task):
                raise self.refuse(
                    element,
                    "it is one instance of a multi-instance body: cancel the "
                    "multi-instance activity",
                )
        for task in tasks:
            # A task with boundary events hangs under their split: cancel them all.
            split = isinstance(task.parent.task_spec, BoundaryEventSplit)
            target = task.parent if split else task
            before = {t.id for t in self.wf.get_tasks(state=ACTIVE)}
            # What it cancels runs its delete and end listeners, innermost
            # first, unless skipped (cancel_listeners.py), as Camunda 7's
            # ProcessInstanceModificationBuilder.execute(skipCustomListeners).
            skipping = custom_listeners_skipped(self.wf) if self.skip else nullcontext()
            try:
                with skipping:
                    self._cancel_one(target)
            except SpiffWorkflowException as exc:  # nothing is saved
                raise self.refuse(element, failure_text(exc)) from None
            after = {t.id for t in self.wf.get_tasks(state=ACTIVE)}
            self.cancelled.extend(str(i) for i in before - after)

    def _cancel_one(self, target: Any) -> None:
        if target.state == TaskState.ERROR:
            # ERROR counts as finished, so Task.cancel would leave it be.
            target._set_state(TaskState.CANCELLED)
            target._drop_children()
            target.task_spec._on_cancel(target)
        else:
            target.cancel()
        self._drop_orphans()

    def _drop_orphans(self) -> None:
        """End the sub-processes whose task is gone or cancelled.

        Task.cancel drops a multi-instance activity's unfinished instances
        without cancelling the sub-process each one runs.
        """
        wf = self.wf
        dropped = True
        while dropped:
            dropped = False
            for sub_id, sub in list(wf.subprocesses.items()):
                parent = wf.get_task_from_id(sub_id) if self._exists(sub_id) else None
                if parent is None or parent.state == TaskState.CANCELLED:
                    wf.cancel(sub)
                    del wf.subprocesses[sub_id]
                    dropped = True

    def _exists(self, task_id: Any) -> bool:
        if task_id in self.wf.tasks:
            return True
        return any(task_id in sub.tasks for sub in self.wf.subprocesses.values())

    def _token(self, workflow: Any, carrier_spec: Any, target: Any) -> None:
        """Add a completed `carrier_spec` task holding the case's data under the
        workflow's root, and a new task for `target` after it."""
        last = workflow.last_task
        data = shared_data(last) if last is not None else workflow.task_tree.data
        carrier = workflow.task_tree._add_child(carrier_spec, TaskState.COMPLETED)
        carrier.data = deepcopy(data)
        carrier.data.update(deepcopy(self.data))
        # The case's variables are read from the last finished task: now this one.
        workflow.last_task = carrier
        child = carrier._add_child(target, TaskState.FUTURE)
        # As Task.reset_branch: predict the branch after it, then let it run.
        target._predict(child, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
        target._update(child)

    def start_before(self, element: str) -> None:
        spec, scope = self._spec(element)
        self._startable(element, spec)
        if isinstance(spec, (ParallelGateway, InclusiveGateway)) and (
            len(spec.inputs) > 1
        ):
            raise self.refuse(
                element,
                "a join cannot tell which incoming flow a token started before it "
                "came on: start after the element on that flow instead",
            )
        workflow = self._scope_workflow(element, scope)
        entry = scope.task_specs.get(f"{element}.BoundaryEventSplit", spec)
        self._without_listeners(element, spec)
        carrier = entry.inputs[0] if entry.inputs else workflow.task_tree.task_spec
        self._token(workflow, carrier, entry)

    def start_after(self, element: str) -> None:
        spec, _ = self._spec(element)
        self._startable(element, spec)
        outgoing = [f for f in self.flows if f.source == element]
        if len(outgoing) != 1:
            raise self.refuse(
                element,
                f"it has {len(outgoing)} outgoing sequence flows, not one: start "
                "before the element you want instead",
            )
        self._transition(outgoing[0])

    def start_transition(self, flow_id: str) -> None:
        flow = next((f for f in self.flows if f.id == flow_id), None)
        if flow is None:
            raise self.refuse(flow_id, "there is no such sequence flow in this process")
        if flow.link:
            raise self.refuse(
                flow_id,
                "there is no such sequence flow in this process (Laneway joins the "
                f"link throw event '{flow.source}' to its catch event "
                f"'{flow.target}' with it): start after '{flow.source}' or before "
                f"'{flow.target}' instead",
            )
        self._transition(flow)

    def _transition(self, flow: SequenceFlow) -> None:
        flow_id = flow.id
        spec, scope = self._spec(flow.source)
        workflow = self._scope_workflow(flow.source, scope)
        # SpiffWorkflow connects the source itself to the next element (its
        # boundary events' join is a side branch); a target with boundary events
        # is entered through their split.
        entry = next(
            (
                s
                for s in spec.outputs
                if s.bpmn_id == flow.target
                or s.name == f"{flow.target}.BoundaryEventSplit"
            ),
            None,
        )
        if entry is None:
            raise self.refuse(flow_id, f"its target '{flow.target}' cannot be reached")
        target, _ = self._spec(flow.target)
        self._without_listeners(flow.target, target)
        self._token(workflow, spec, entry)

    def _startable(self, element: str, spec: Any) -> None:
        if isinstance(spec, BoundaryEvent):
            raise self.refuse(
                element,
                "a boundary event cannot be started: start its path's "
                "first element instead",
            )

    def _without_listeners(self, element: str, spec: Any) -> None:
        """Refuse to start `entry` skipping custom listeners where it would run
        some of its own: Laneway runs an element's start and create listeners
        as its pre-script, and a sub-process's or call's inner ones as drawn,
        which Camunda 7 would skip (skipCustomListeners)."""
        own = getattr(spec, "prescript", None) or spec.bpmn_name == "Listener"
        if self.skip and (own or isinstance(spec, SubWorkflowTask)):
            what = "a sub-process or call" if not own else "an element with listeners"
            raise self.refuse(
                element,
                f"it is {what}, which cannot be started without its custom "
                "listeners here: start it with them (untick Skip custom "
                "listeners), or start after it",
            )

    def check_tokens(self) -> None:
        active = self.wf.get_tasks(state=ACTIVE)
        if not active:
            raise ModificationRefused(
                self.index,
                "",
                "the case would have no active element left; add a start "
                "instruction, or cancel the case instead",
            )
        for sub in self.wf.subprocesses.values():
            parent = self.wf.get_task_from_id(sub.parent_task_id)
            if sub.completed or parent is None or parent.state != TaskState.STARTED:
                continue
            if not sub.get_tasks(state=ACTIVE):
                raise ModificationRefused(
                    self.index,
                    parent.task_spec.bpmn_id or "",
                    "nothing would be left running inside this sub-process: "
                    "cancel the sub-process itself",
                )


def workflow_modify(
    process: CompiledProcess,
    state: dict,
    *,
    instructions: Sequence[Instruction],
    data: Mapping[str, Any] | None = None,
    skip_custom_listeners: bool = False,
) -> Modified:
    """Apply the instructions in order, then run the engine once.

    `data` is set as case variables (shared by every branch, so every new token
    carries it). What is cancelled runs its delete and end listeners, what is
    started its start listeners, unless `skip_custom_listeners` (then a start
    that would run listeners of its own is refused).

    Raises:
        ModificationRefused: an instruction cannot be applied (nothing changed).
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    modifier = _Modifier(
        wf, process, json_safe(dict(data or {})), skip_custom_listeners
    )

    def command(steps: list[StepRecord]) -> None:
        if modifier.data:  # case variables, shared by every branch (variables.py)
            variables_assign(wf, modifier.data, [])
        for index, instruction in enumerate(instructions):
            modifier.index = index
            if instruction.kind not in KINDS:
                raise modifier.refuse(
                    instruction.element, f"unknown instruction '{instruction.kind}'"
                )
            getattr(modifier, instruction.kind)(instruction.element)
        modifier.check_tokens()

    outcome = run_command(wf, process, command)
    return Modified(outcome, tuple(modifier.cancelled))
