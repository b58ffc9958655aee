"""Run a case: start, complete a human task, apply a service result, cancel.

Every command loads the stored state onto the cached spec (restricted script
engine attached), applies itself, runs the engine and returns an AdvanceOutcome
with the new state. Script and condition failures are returned, not raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .called import called_owner, owner_of, workflow_processes
from .cancel_listeners import skip_custom_listeners as skip_custom_listeners_of
from .common import ACTIVE, json_safe
from .compiled import CompiledProcess
from .conditional_events import note_written
from .error_variables import error_variables_set
from .errors import (
    AssignmentListenerFailed,
    EndListenerFailed,
    ServiceErrorNotCaught,
    TaskNotReady,
)
from .events import call_outputs_pass
from .io_mapping import outputs_failed, outputs_retry
from .multi_instance import instance_locals, instances_budget_reset, shared_data
from .prune import prune_workflow
from .reached_failures import failure_text, reached_failure
from .receive_waits import waiting_receives
from .sent_messages import sent_messages
from .serialization import new_workflow, state_dump, state_load
from .service_tasks import (
    CALL_KEY,
    error_catcher,
    service_error_event,
    service_scope_names,
    service_task_spec,
    service_variables,
)
from .signal_payloads import thrown_with_payloads
from .signals import process_waits_for_events, waiting_signals
from .stepping import EngineLimitExceeded, check_depth, halt, run_engine, too_deep
from .task_names import task_description, task_name
from .timer_starts import hold_timer_starts
from .timers import next_due
from .types import (
    AdvanceOutcome,
    FailureKind,
    HumanTaskMeta,
    JsonObject,
    PendingServiceCall,
    ReadyUserTask,
    StepRecord,
    TaskFailure,
    ThrownSignal,
)
from .uncaught_errors import path_can_end, path_end, uncaught_errors
from .variables import (
    human_task_locals,
    publish,
    refresh,
    scope_set,
    variables_assign,
    variables_of,
    variables_refresh,
)
from .waiting import waiting_messages

# Prune finished history after every command (research/pruning). Only the
# benchmark and the depth-limit tests switch it off.
PRUNE = True


def _step(task: Any) -> StepRecord:
    spec = task.task_spec
    return StepRecord(
        task_id=str(task.id),
        bpmn_id=spec.bpmn_id or "",
        name=spec.bpmn_name or spec.bpmn_id or "",
        kind=type(spec).__name__,
    )


def _record(steps: list[StepRecord], task: Any) -> None:
    # SpiffWorkflow reports every task it ran, also one left STARTED (a service
    # task waiting for its worker): that one completes when its result arrives.
    # Internal Start/End specs have no BPMN id.
    if task.task_spec.bpmn_id and task.has_state(TaskState.COMPLETED):
        steps.append(_step(task))


def _ready_user_tasks(
    active: list[Any], process: CompiledProcess
) -> tuple[ReadyUserTask, ...]:
    ready = []
    for task in active:
        if task.state != TaskState.READY or not task.task_spec.manual:
            continue
        spec = task.task_spec
        owner, called = called_owner(task.workflow)
        meta = owner.task_meta.get(spec.bpmn_id) or HumanTaskMeta(
            bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane
        )
        local = human_task_locals(task)  # mostly none: no JSON round trip then
        ready.append(
            ReadyUserTask(
                str(task.id),
                spec.bpmn_id,
                task_name(task, meta.name),
                meta.lane or spec.lane,
                meta,
                local_data=json_safe(local) if local else {},
                called=dict(called) if called is not None else None,
                documentation=task_description(task),
            )
        )
    return tuple(ready)


def _attempts(retries: int | None) -> int | None:
    return None if retries is None else max(int(retries), 0) + 1


def _retries(spec: Any) -> dict[str, Any]:
    cycle = spec.retry_cycle  # camunda:failedJobRetryTimeCycle wins
    if cycle is not None:
        return {"max_attempts": cycle.attempts, "retry_intervals": cycle.intervals}
    return {
        "max_attempts": _attempts(spec.retries),
        "backoff_seconds": spec.retry_backoff_base,
    }


def _pending_calls(active: list[Any]) -> tuple[PendingServiceCall, ...]:
    calls = []
    for task in active:
        if task.state != TaskState.STARTED:
            continue
        call = task.internal_data.get(CALL_KEY)
        if call:
            calls.append(
                PendingServiceCall(
                    task_id=str(task.id),
                    bpmn_id=task.task_spec.bpmn_id or "",
                    operation=call["operation"],
                    params=json_safe(call["params"]),
                    result_variable=(
                        task.task_spec.result_variable
                        if task.task_spec.explicit_result
                        else ""
                    ),
                    **_retries(task.task_spec),
                )
            )
    return tuple(calls)


def _failure(exc: Exception, task: Any = None) -> TaskFailure:
    task = task if task is not None else getattr(exc, "task", None)
    spec = task.task_spec if task is not None else None
    return TaskFailure(
        task_id=str(task.id) if task is not None else "",
        bpmn_id=(spec.bpmn_id or "") if spec is not None else "",
        name=(spec.bpmn_name or spec.bpmn_id or "") if spec is not None else "",
        error_type=getattr(exc, "error_type", "") or type(exc).__name__,
        message=failure_text(exc),
        kind=(
            FailureKind.ENGINE_LIMIT
            if isinstance(exc, EngineLimitExceeded)
            else FailureKind.SCRIPT
        ),
    )


def _case_data(wf: Any, completed: bool) -> JsonObject:
    # The case's variables are the store's, completed or not: SpiffWorkflow
    # copies a path's data into `wf.data` only at an end event (its EndJoin),
    # so a case whose last path ended at an activity without outgoing flow
    # (BPMN's implicit end) had no data once completed. What else it keeps
    # there (its data objects) stays in a completed case's data.
    store = variables_of(wf)
    if completed:
        return json_safe({**wf.data, **(store or {})})
    if store is not None:
        return json_safe(store)
    last = wf.last_task
    return json_safe(shared_data(last)) if last is not None else {}


def _outcome(
    wf: Any,
    process: CompiledProcess,
    steps: list[StepRecord],
    failure: TaskFailure | None,
    also_failed: tuple[TaskFailure, ...] = (),
) -> AdvanceOutcome:
    # One walk: the READY and STARTED tasks are these, in the same order (the
    # walk is the same for any of these states: SpiffWorkflow's TaskIterator).
    tasks = wf.get_tasks(state=ACTIVE)
    active = {t.task_spec.bpmn_id for t in tasks if t.task_spec.bpmn_id}
    uncaught = uncaught_errors(wf)
    sent = sent_messages(
        wf, process, steps
    )  # before the dump: it takes them out of the state
    state = state_dump(wf)
    # Not completed is not remembered by SpiffWorkflow: each call walks the tree.
    completed = bool(wf.is_completed())
    return AdvanceOutcome(
        state=state,
        completed=completed,
        data=_case_data(wf, completed),
        ready_user_tasks=_ready_user_tasks(tasks, process),
        pending_service_calls=_pending_calls(tasks),
        steps=tuple(steps),
        failure=failure,
        also_failed=also_failed,
        next_timer_at=None if completed else next_due(wf),
        active_elements=tuple(sorted(active)),
        waiting_messages=waiting_messages(wf),
        waiting_receives=waiting_receives(wf),
        waiting_signals=waiting_signals(wf),
        thrown_signals=tuple(
            ThrownSignal(n, json_safe(p)) for n, p in thrown_with_payloads(wf)
        ),
        sent_messages=sent,
        uncaught_errors=uncaught,
        called_may_wait=any(
            process_waits_for_events(p) for p in workflow_processes(wf)[1:]
        ),
        called_versions=tuple(
            (task.task_spec.bpmn_id or "", dict(ref))
            for task, ref in getattr(wf, "laneway_calls", ())
        ),
    )


_LEAKED = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    IndexError,
    ZeroDivisionError,
)


def workflow_outcome(wf: Any, process: CompiledProcess) -> AdvanceOutcome:
    """Return what a loaded workflow looks like now, without running anything."""
    return _outcome(wf, process, [], None)


def run_command(
    wf: Any, process: CompiledProcess, command: Callable[[list[StepRecord]], None]
) -> AdvanceOutcome:
    """Apply `command` to a loaded workflow, run the engine, return the outcome.

    The one way every command of the adapter runs: failures of scripts,
    conditions and limits come back in the outcome, never raised.
    """
    steps: list[StepRecord] = []
    failure = None
    instances_budget_reset(wf)  # the command itself may start instances
    try:
        command(steps)
        run_engine(wf, lambda task: _record(steps, task), prune=PRUNE)
    except SpiffWorkflowException as exc:
        failure = _failure(exc)
    except EngineLimitExceeded as exc:
        failure = _failure(exc, halt(wf))
    except RecursionError:
        # Last line of defence; the depth checks should have stopped it first.
        failure = _failure(too_deep(-1), halt(wf))
    except _LEAKED as exc:
        # SpiffWorkflow leaks plain exceptions from some specs (e.g. a TypeError
        # when a multi-instance collection variable is missing): a failure of
        # the case, never a server error.
        errored = wf.get_tasks(state=TaskState.ERROR)
        failure = _failure(exc, errored[0] if errored else halt(wf))
    also: list[TaskFailure] = []
    if failure is None:  # tasks that failed as they were reached; the engine ran on
        while (reached := reached_failure(wf)) is not None:
            also.append(_failure(reached))
        failure = also.pop(0) if also else None
    if PRUNE:
        prune_workflow(wf)
    if failure is None:
        try:
            check_depth(wf)
        except EngineLimitExceeded as exc:
            failure = _failure(exc, halt(wf))
    return _outcome(wf, process, steps, failure, tuple(also))


def workflow_start(
    process: CompiledProcess, *, data: Mapping[str, Any], initiator: str = ""
) -> AdvanceOutcome:
    """Create a new workflow with `data` as its first variables and run it.

    `initiator` (the starter's username) goes into the variable the start
    event's `camunda:initiator` names, as in Camunda 7.
    """
    wf = new_workflow(process)
    if process.meta.initiator_variable and initiator:
        data = {**data, process.meta.initiator_variable: initiator}
    hold_timer_starts(wf, process)  # another start event starts this case
    wf.task_tree.data.update(json_safe(dict(data)))
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(json_safe(dict(data)))
    return run_command(wf, process, lambda steps: None)


def _ready_human_task(wf: Any, task_id: str) -> Any:
    try:
        task = wf.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        raise TaskNotReady(f"task {task_id} is not part of this case") from None
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(
            f"task {task_id} is {TaskState.get_name(task.state)}, not READY"
        )
    return task


def has_assignment_listener(process: CompiledProcess, bpmn_id: str) -> bool:
    """Whether the human task `bpmn_id` runs assignment listeners (True when it
    may be a task of a called process: the version its child runs knows)."""
    meta = process.task_meta.get(bpmn_id)
    if meta is None:
        return bool(process.calls_outside)
    return bool(meta.assignment_script)


def _run_assignment(
    wf: Any, process: CompiledProcess, task: Any, assignee: str
) -> None:
    """Run the task's assignment listeners for its new assignee ("": nobody), and
    share what they set at once with the case and every waiting task."""
    meta = owner_of(task.workflow).task_meta.get(task.task_spec.bpmn_id)
    if meta is None or not meta.assignment_script:
        return
    context = {meta.assignment_assignee: assignee or None}
    try:
        wf.script_engine.execute(task, meta.assignment_script, context)
    except Exception as exc:  # the caller's transaction changes nothing
        raise AssignmentListenerFailed(failure_text(exc)) from None
    publish(task)


def workflow_assign(
    process: CompiledProcess, state: dict, *, task_id: str, assignee: str
) -> AdvanceOutcome:
    """Run a READY human task's assignment listeners: its assignee became
    `assignee` ("" when it was given back); nothing else runs.

    Raises:
        TaskNotReady: when the task is not a READY human task of this case.
        AssignmentListenerFailed: a listener failed (nothing is changed).
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    task = _ready_human_task(wf, task_id)
    _run_assignment(wf, process, task, assignee)
    return workflow_outcome(wf, process)


def workflow_complete_user_task(
    process: CompiledProcess,
    state: dict,
    *,
    task_id: str,
    data: Mapping[str, Any],
    assignee: str | None = None,
) -> AdvanceOutcome:
    """Complete a READY human task with the submitted data and run the engine on.

    `assignee` is set when completing assigns the task (it had no assignee): its
    assignment listeners run first, as if it had been claimed.

    Raises:
        TaskNotReady: when the task is not a READY human task of this case.
        AssignmentListenerFailed: an assignment listener failed.
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    task = _ready_human_task(wf, task_id)
    if assignee is not None:
        _run_assignment(wf, process, task, assignee)

    def command(steps: list[StepRecord]) -> None:
        note_written(wf, data)
        task.data.update(json_safe(dict(data)))
        task.run()
        steps.append(_step(task))

    return run_command(wf, process, command)


def _started_service_task(wf: Any, task_id: str) -> Any:
    try:
        task = wf.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        raise TaskNotReady(f"task {task_id} is not part of this case") from None
    if task.state != TaskState.STARTED or CALL_KEY not in task.internal_data:
        raise TaskNotReady(f"service task {task_id} is not waiting for a result")
    return task


def workflow_apply_service_result(
    process: CompiledProcess,
    state: dict,
    *,
    task_id: str,
    result: Any,
    local: Mapping[str, Any] | None = None,
) -> AdvanceOutcome:
    """Apply a service call's result to its STARTED task, complete it and run on.

    Camunda external-task semantics (`service_tasks.service_variables`): the
    result goes to the task's result variable, or is mapped by its output
    parameters, or (a dict) is merged into the case variables. `local` are set
    on the task's execution, as Camunda's setVariablesLocal: the task's own
    scope (its output parameters see them), its sub-process's, or the case.

    Raises:
        TaskNotReady: when the task is not a STARTED service task of this case.
        ServiceResultRejected: when the result cannot be applied so (nothing
            is changed).
        LocalVariablesRefused: `local` where Laneway cannot place them (a
            parallel branch; nothing is changed).
    """
    wf = state_load(state, process)
    task = _started_service_task(wf, task_id)

    variables = json_safe(
        service_variables(task, json_safe(result), local=json_safe(dict(local or {})))
    )

    def command(steps: list[StepRecord]) -> None:
        note_written(wf, variables)
        task.data.update(variables)
        task.internal_data.pop(CALL_KEY, None)
        task.complete()
        steps.append(_step(task))

    return run_command(wf, process, command)


def workflow_service_scope_names(
    process: CompiledProcess, state: dict, *, task_id: str, bpmn_id: str
) -> frozenset[str]:
    """`service_scope_names` of a case's service task, also of one in a called
    version (its state is loaded then to find the version its child runs).

    Raises:
        TaskNotReady: when the task is not a STARTED service task of this case.
    """
    if service_task_spec(process, bpmn_id) is not None or not process.calls_outside:
        return service_scope_names(process, bpmn_id)
    task = _started_service_task(state_load(state, process), task_id)
    names: frozenset[str] = task.task_spec.scope_names
    return names


def workflow_throw_service_error(
    process: CompiledProcess,
    state: dict,
    *,
    task_id: str,
    code: str,
    message: str = "",
    data: Any = None,
    variables: Mapping[str, Any] | None = None,
) -> AdvanceOutcome:
    """Throw a BPMN error with `code` at a STARTED service task and run on.

    An error boundary event on the task (or on an enclosing subprocess) whose
    errorCode is `code`, or one without a code, takes over; the service task is
    cancelled. The `spiffworkflow:variableName` of the caught `bpmn:error`
    receives {"code", "message", "data"}.

    `variables` (an external task's handleBpmnError variables) are set first
    as Camunda 7's ExternalTaskEntity.bpmnError sets them on the task's
    execution: in the process instance the task runs in (a called process's
    own, which the caller sees only through camunda:out), not the case's.

    Raises:
        TaskNotReady: when the task is not a STARTED service task of this case.
        ServiceErrorNotCaught: when no error boundary event catches the code
            and the path does not end (`uncaught_errors.path_can_end`: a
            Camunda diagram's path ends as at a none end event, reported in
            the outcome's `uncaught_errors`); nothing is changed.
    """
    wf = state_load(state, process)
    task = _started_service_task(wf, task_id)
    payload = json_safe({"code": code, "message": message, "data": data})
    event = service_error_event(code, payload)
    catcher = error_catcher(task, event)
    if catcher is None and not path_can_end(task):
        raise ServiceErrorNotCaught(
            f"no error boundary event catches error code '{code}' "
            f"at '{task.task_spec.bpmn_id}'"
        )

    def uncaught(steps: list[StepRecord]) -> None:
        task.internal_data.pop(CALL_KEY, None)
        if variables:
            scope_set(task.workflow, variables)
        path_end(task, event)
        steps.append(_step(task))

    if catcher is None:
        return run_command(wf, process, uncaught)

    def command(steps: list[StepRecord]) -> None:
        task.internal_data.pop(CALL_KEY, None)
        if variables:
            scope_set(task.workflow, variables)
        catcher.task_spec.catch(catcher, event)
        error_variables_set(catcher, event)
        catcher.task_spec._update(catcher)
        call_outputs_pass(event.target, catcher, task)

    return run_command(wf, process, command)


def workflow_retry(
    process: CompiledProcess, state: dict, *, task_id: str
) -> AdvanceOutcome:
    """Reset a task in ERROR (failed script, condition or engine bound) and run on.

    The task gets its parent's data again, so a failed script starts afresh.
    A task whose camunda:inputOutput output parameters failed when it
    completed is not run again: its outputs are evaluated again
    (io_mapping.outputs_retry), over the data it completed with and the
    case's variables as they are now.

    Raises:
        TaskNotReady: when the task is not an ERROR task of this case.
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    try:
        task = wf.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        raise TaskNotReady(f"task {task_id} is not part of this case") from None
    if task.state != TaskState.ERROR:
        raise TaskNotReady(
            f"task {task_id} is {TaskState.get_name(task.state)}, not ERROR"
        )

    def command(steps: list[StepRecord]) -> None:
        if outputs_failed(task):  # the task itself ran: map its outputs again
            outputs_retry(task)
            steps.append(_step(task))
            return
        # A multi-instance instance keeps its element variable and loopCounter
        # (the reset would give it only its activity's data).
        own = instance_locals(task)
        data = {**deepcopy(task.parent.data), **deepcopy(own)} if own else None
        wf.reset_from_task_id(task.id, data=data)
        variables_refresh(wf)  # the reset copied its parent's (older) data

    return run_command(wf, process, command)


def workflow_complete_failed_task(
    process: CompiledProcess, state: dict, *, task_id: str, data: Mapping[str, Any]
) -> AdvanceOutcome:
    """Complete a script task in ERROR with `data` instead of its script; run on.

    For a process admin who supplies what the failed script would have set. Only
    script tasks: a gateway in ERROR must choose a path, which this does not do.

    Raises:
        TaskNotReady: when the task is not a script task in ERROR of this case.
    """
    wf = state_load(state, process)
    try:
        task = wf.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        raise TaskNotReady(f"task {task_id} is not part of this case") from None
    if task.state != TaskState.ERROR or not hasattr(task.task_spec, "script"):
        raise TaskNotReady(f"task {task_id} is not a failed script task")

    def command(steps: list[StepRecord]) -> None:
        store = variables_of(wf)
        if store is not None:
            refresh(task, store)  # drop what the failed script half did
        task.data.update(json_safe(dict(data)))
        task.complete()
        steps.append(_step(task))

    return run_command(wf, process, command)


def workflow_fire_timers(process: CompiledProcess, state: dict) -> AdvanceOutcome:
    """Fire every timer that is due now and run the engine on.

    Raises:
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    return run_command(wf, process, lambda steps: wf.refresh_timers())


def workflow_cancel(
    process: CompiledProcess, state: dict, *, skip_custom_listeners: bool = False
) -> AdvanceOutcome:
    """Cancel every unfinished task of the workflow, running the end listeners
    of the activities that were active, innermost first, unless skipped
    (cancel_listeners.py).

    Raises:
        EndListenerFailed: a listener failed (nothing is changed).
        StateCorrupt: when the stored state cannot be loaded.
    """
    wf = state_load(state, process)
    if skip_custom_listeners:
        skip_custom_listeners_of(wf)
    try:
        wf.cancel()
    except SpiffWorkflowException as exc:  # the caller's transaction changes nothing
        raise EndListenerFailed(failure_text(exc)) from None
    return _outcome(wf, process, [], None)


def workflow_set_data(
    process: CompiledProcess,
    state: dict,
    *,
    values: dict[str, Any],
    remove: list[str],
    run: bool = False,
) -> AdvanceOutcome:
    """Set and remove case variables where the case goes on from.

    The case's shared variables and the data of every unfinished task change
    (`variables.py`), so the next step sees the new values. With `run`, the
    conditional events waiting are evaluated again on them and the case runs on
    from those that fire (Camunda 7 evaluates them on each variable change);
    without it nothing runs (a suspended case; a business error about to be
    thrown, which runs the engine itself).
    """
    wf = state_load(state, process)
    if run:
        note_written(wf, values)
        return run_command(
            wf, process, lambda steps: variables_assign(wf, values, remove)
        )
    variables_assign(wf, values, remove)
    return _outcome(wf, process, [], None)
