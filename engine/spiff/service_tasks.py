"""Service tasks run asynchronously: the engine leaves them STARTED for a worker.

The parser swaps SpiffWorkflow's synchronous Spiff service task for
`AsyncServiceTask`, whose `_execute` evaluates the parameters, records the call in
the task's internal data and returns None (STARTED). The worker later applies
the result with `runtime.workflow_apply_service_result`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.control import (
    BoundaryEventJoin,
    BoundaryEventSplit,
    EventSplit,
    StartEventJoin,
    _EndJoin,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    ParallelMultiInstanceTask,
)
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import (
    CallActivity,
    EventSubprocess,
)
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.event_parsers import SpiffSendTaskParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import (
    ScriptTaskParser,
    ServiceTaskParser,
    SpiffTaskParser,
)
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from .call_data import MappedCallActivity, MappedCallActivityParser
from .compensation import CompensationProcessParser
from .conditional_events import ConditionalFilterParserMixin
from .data_objects import DataObjectScopeMixin
from .dialect import is_camunda_dialect
from .dmn import DecisionParserMixin, DecisionTask, DecisionTaskParser
from .errors import LocalVariablesRefused, ServiceResultRejected
from .events import EVENT_PARSER_CLASSES, arm_event_subprocesses, scoped_catcher
from .gateways import LanewayExclusiveGateway, PassThroughTask
from .implicit_ends import implicit_ends
from .io_mapping import inputs_in_order, parse_io
from .listeners import LISTENER_SCRIPTS
from .multi_instance import loop_variables
from .people import parse_people
from .retry_cycle import RetryCycle, retry_cycle_of
from .scripting import with_engine_facts
from .signal_payloads import SignalPayloadParserMixin
from .task_names import parse_name
from .variables import scope_locals_set
from .xml import NSMAP, compiled_xpath, vendor_children

CALL_KEY = "laneway_call"


class AsyncServiceTask(ServiceTask):
    """A Spiff service task that waits in STARTED for an external worker.

    Where the result goes (`service_variables`): `explicit_result` stores it
    whole in `result_variable` (a resultVariable; SpiffArena's default
    otherwise); for a Camunda task without one a dict result is merged into
    the case variables (Camunda 7 external-task and delegate semantics), but
    for `scope_names` (the task's camunda:inputParameter names, local to its
    scope); a connector's response (`map_outputs`) stays in the connector's
    scope. Then `output_parameters` ((name, Python expression), in order) map
    onto the case, over what the result set: the first `connector_outputs`
    are the connector's (set on the task's scope), the others the task's.
    A connector's input parameters are evaluated over the task's scope
    (`connector_parameters`), kept with the call as "scope".
    """

    explicit_result: bool = True
    map_outputs: bool = False
    io_scope: bool = False  # a camunda:inputOutput: the task is its own scope
    scope_names: frozenset[str] = frozenset()
    output_parameters: tuple[tuple[str, str], ...] = ()
    connector_outputs: int = 0  # the first output_parameters are the connector's
    # A connector task's input parameters, (name, Python expression), in order:
    activity_inputs: tuple[tuple[str, str], ...] = ()  # the task's own
    connector_inputs: tuple[tuple[str, str], ...] = ()  # the connector's
    retry_cycle: RetryCycle | None = None  # camunda:failedJobRetryTimeCycle

    def _execute(self, task: Any) -> None:
        call: dict[str, Any] = {"operation": self.operation_name}
        if self.map_outputs and self.activity_inputs:
            call["scope"], call["params"] = connector_parameters(task)
        else:
            call["params"] = operation_variables(task)
        task.internal_data[CALL_KEY] = call
        return None


def service_scope_names(process: Any, bpmn_id: str) -> frozenset[str]:
    """Return the input parameter names of a service-like task (its scope's own).

    Camunda 7 sets a variable of one of these names in the task's scope, gone
    with it: a BPMN error's variables (`setVariables` on the task's execution
    before the error leaves it) of such a name never reach the case.
    """
    task_spec = service_task_spec(process, bpmn_id)
    return task_spec.scope_names if task_spec is not None else frozenset()


def service_task_spec(process: Any, bpmn_id: str) -> Any:
    """Return the spec of the service-like task `bpmn_id` of the process (and its
    sub-processes), None when it has none (another file's process has it)."""
    for spec in (process.spec, *process.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, AsyncServiceTask) and task_spec.bpmn_id == bpmn_id:
                return task_spec
    return None


def operation_variables(task: Any) -> dict[str, Any]:
    """Return the variables an operation sees, evaluated when its task starts.

    Camunda: the task's input parameters when it has any (camunda:inputOutput,
    a connector's or SpiffArena's parameters), else every variable visible at
    the task (the case's, and a multi-instance instance's own).
    """
    spec = task.task_spec
    if spec.operation_params and spec.io_scope:
        return _inputs_in_order(
            task, ((name, p["value"]) for name, p in spec.operation_params.items())
        )
    if spec.operation_params:
        return {name: p["value"] for name, p in spec.evaluate_params(task).items()}
    return {**loop_variables(task), **task.data}


def _inputs_in_order(
    task: Any,
    parameters: Iterable[tuple[str, str]],
    scope: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The task's (or its connector's, over `scope`) input parameters, in order
    (io_mapping.inputs_in_order)."""
    visible = {**loop_variables(task), **task.data, **(scope or {})}
    return inputs_in_order(task, parameters, visible)


def connector_parameters(task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a connector task's scope (its input parameters) and what it sends.

    Camunda 7 evaluates the task's input parameters over the process variables
    into the task's scope, then the connector's over that scope (a connector
    input reads the task's input of the same name, not the case variable).
    The operation receives both, the connector's winning a shared name.
    """
    spec = task.task_spec
    scope = _inputs_in_order(task, spec.activity_inputs)
    connector = _inputs_in_order(task, spec.connector_inputs, scope)
    return scope, {**scope, **connector}


def service_variables(
    task: Any, result: Any, *, local: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the case variables an operation's result sets (Camunda 7 rules).

    Camunda 7 runs a task with camunda:inputOutput as a scope whose local
    variables are its input parameters. The result is set as
    `execution.setVariable` / an external task's `complete(variables)` sets
    it: a name local to the task's scope (an input parameter) stays there,
    any other reaches the case. `local` (an external task's localVariables)
    are set after the result with `setVariablesLocal` on the task's execution
    (`local_variables_target`): the task's own scope, gone with it, the
    embedded sub-process it runs in, or the process instance. A connector's
    response stays in the connector's scope:
    its output parameters are evaluated there (the response over the task's
    scope) and set on the task's scope (a name that is an input parameter
    stays local there, any other reaches the case). The task's output
    parameters are then evaluated in the task's scope and set on the case,
    over what the result set; the task's scope ends with it.

    Raises:
        ServiceResultRejected: a result that is neither a dict nor None without
            a result variable, or an output parameter that cannot be evaluated.
        LocalVariablesRefused: localVariables where Camunda 7 would keep them
            on an execution Laneway does not keep apart (`local_variables_target`).
    """
    spec = task.task_spec
    local = dict(local or {})
    where = local_variables_target(task) if local else "task"
    if spec.explicit_result:
        produced = {spec.result_variable: result}
    elif result is None:
        produced = {}
    elif isinstance(result, dict):
        produced = dict(result)
    else:
        raise ServiceResultRejected(
            f"the operation returned {type(result).__name__} {str(result)[:80]}; "
            "without a result variable it must return a dict of variables (or "
            "nothing): set camunda:resultVariable, or return a dict"
        )
    call = task.internal_data.get(CALL_KEY) or {}
    params = call.get("params", {})
    # The task's scope: its input parameters (all the operation's parameters
    # when it has no connector), and what is set on it below.
    scope = dict(
        call.get("scope", {k: v for k, v in params.items() if k in spec.scope_names})
        if spec.map_outputs
        else params
    )
    variables: dict[str, Any] = {}
    if not spec.map_outputs:
        for name, value in produced.items():
            _set_variable(spec, scope, variables, name, value)
    if where == "task":
        scope.update(local)
    else:
        variables.update(local)  # the task's data has them (publish sorts them)
    outputs = spec.output_parameters
    for name, expression in outputs[: spec.connector_outputs]:
        visible = {**task.data, **variables, **scope, **produced}
        value = _output_value(task, name, expression, visible)
        _set_variable(spec, scope, variables, name, value)
    for name, expression in outputs[spec.connector_outputs :]:
        visible = {**task.data, **variables, **scope}
        variables[name] = _output_value(task, name, expression, visible)
    if where == "subprocess":
        scope_locals_set(task.workflow, local)
    return variables


def _set_variable(
    spec: Any, scope: dict[str, Any], variables: dict[str, Any], name: str, value: Any
) -> None:
    """`execution.setVariable` on a task's scope: a local name stays there."""
    if name in spec.scope_names:
        scope[name] = value
    else:
        variables[name] = value


def _output_value(task: Any, name: str, expression: str, visible: dict) -> Any:
    try:
        return task.workflow.script_engine.environment.evaluate(
            expression,
            {**loop_variables(task), **visible},
            with_engine_facts(task, expression, None),
        )
    except Exception as exc:  # noqa: BLE001 - any failure names the parameter
        raise ServiceResultRejected(
            f"output parameter '{name}' ({expression}) cannot be evaluated "
            f"against the result: {type(exc).__name__}: {exc}"
        ) from None


_LIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR
# Not paths: an activity's boundary events, the start and boundary splits and
# joins, and the process's end join (waiting for every path to end).
_EVENT_MACHINERY = (
    BoundaryEvent,
    EventSplit,
    BoundaryEventJoin,
    StartEventJoin,
    _EndJoin,
)
_KEPT_APART = (
    "Laneway keeps variables per case, called process and sub-process, not "
    "per parallel path or loop turn: send them as variables (they then reach "
    "the case), "
    "or give the task a camunda:inputOutput (its localVariables are then its "
    "own, read by its output parameters, gone when it completes)"
)


def local_variables_target(task: Any) -> str:
    """Return where Camunda 7's `setVariablesLocal` on the task's execution lands.

    "task": the task is a scope of its own (a camunda:inputOutput, or a
    boundary event attached; Camunda's developer guide, "Execution
    Structure") or an instance of a parallel multi-instance activity (its own
    concurrent execution): the variables end with it. With no other path
    running beside it: "subprocess", it runs in the execution of the embedded
    (or event) sub-process around it, whose variables they become
    (`variables.scope_locals_set`: seen inside, gone when it ends); "case",
    it runs in the process instance's execution (directly in the process, or
    in a called process), so they are process variables.

    Raises:
        LocalVariablesRefused: Camunda 7 would set them on an execution that
            outlives the task and that Laneway does not keep apart from the
            case: a parallel branch's (visible to the branch until its join),
            a sequential multi-instance or loop activity's (seen by its next
            instances).
    """
    spec = task.task_spec
    parent_spec = getattr(task.parent, "task_spec", None)
    if spec.io_scope or isinstance(parent_spec, BoundaryEventSplit):
        return "task"
    if isinstance(parent_spec, LoopTask) and spec.name == parent_spec.task_spec:
        if isinstance(parent_spec, ParallelMultiInstanceTask):
            return "task"
        raise LocalVariablesRefused(
            f"localVariables of {spec.bpmn_id}: Camunda 7 sets them on the "
            "sequential multi-instance (or loop) activity's execution, where the "
            f"next instances see them; {_KEPT_APART}."
        )
    if any(_runs_beside(task, other) for other in task.workflow.tasks.values()):
        raise LocalVariablesRefused(
            f"localVariables of {spec.bpmn_id}: another path of the process is "
            "running (a parallel branch, or a triggered event sub-process), so "
            "Camunda 7 sets them on this path's own execution, where its later "
            f"activities see them until it joins the others; {_KEPT_APART}."
        )
    owner = _owner_task(task.workflow)
    if owner is not None and not isinstance(owner.task_spec, CallActivity):
        return "subprocess"
    return "case"


def _owner_task(workflow: Any) -> Any:
    parent_id = workflow.parent_task_id
    if parent_id is None:
        return None
    return workflow.top_workflow.get_task_from_id(parent_id)


def _runs_beside(task: Any, other: Any) -> bool:
    """Whether `other` is another path running in `task`'s process (a token)."""
    if other is task or not other.has_state(_LIVE):
        return False
    if isinstance(other.task_spec, _EVENT_MACHINERY) or task.is_descendant_of(other):
        return False  # waiting for an event of an activity, or an ancestor
    if isinstance(other.task_spec, EventSubprocess):
        sub = task.workflow.top_workflow.subprocesses.get(other.id)
        return sub is not None and any(
            t.has_state(_LIVE) and not isinstance(t.task_spec, StartEvent)
            for t in sub.tasks.values()
        )  # triggered: runs beside the main flow
    return True


IO = "bpmn:extensionElements/x:inputOutput"
IO_INPUTS = IO + "/x:inputParameter"
CONNECTOR_OUTPUTS = "bpmn:extensionElements/x:connector/x:inputOutput/x:outputParameter"


def _service_spec(parser: Any) -> Any:
    """Create the service task spec with its result mapping (see normalize.py)."""
    spec = ServiceTaskParser.create_task(parser)
    operator = parser.node.find(
        "bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NSMAP
    )
    mapping = operator.get("resultMapping")  # set by normalize (Camunda tasks)
    # SpiffArena: the resultVariable, else SpiffWorkflow's spiff__<id>_result.
    spec.explicit_result = bool(operator.get("resultVariable")) or mapping is None
    # A connector's response stays in its scope (normalize: "outputs").
    spec.map_outputs = mapping == "outputs" and bool(
        vendor_children(parser.node, "bpmn:extensionElements/x:connector")
    )
    # Camunda 7: the task's input parameters are local variables of its scope.
    spec.io_scope = bool(vendor_children(parser.node, IO))
    spec.scope_names = frozenset(
        p.get("name", "") for p in vendor_children(parser.node, IO_INPUTS)
    )
    spec.output_parameters = tuple(
        (o.get("id", ""), o.get("value", ""))
        for o in operator.iterfind("spiffworkflow:outputParameter", NSMAP)
    )
    # normalize.py writes the task's input parameters before the connector's,
    # and the connector's output parameters before the task's.
    spec.connector_outputs = len(vendor_children(parser.node, CONNECTOR_OUTPUTS))
    parameters = tuple(
        (p.get("id", ""), p.get("value", ""))
        for p in operator.iterfind(
            "spiffworkflow:parameters/spiffworkflow:parameter", NSMAP
        )
    )
    own = len(vendor_children(parser.node, IO_INPUTS)) if spec.map_outputs else 0
    spec.activity_inputs, spec.connector_inputs = parameters[:own], parameters[own:]
    spec.retry_cycle = retry_cycle_of(parser.node)
    # Camunda 7 ends the path of an uncaught BPMN error (uncaught_errors.py);
    # elsewhere, and in versions stored before the dialect mark, an incident.
    spec.uncaught_error_ends = is_camunda_dialect(parser.node, unmarked=False)
    return spec


def _calls_operation(parser: Any) -> bool:
    return parser.parse_extensions().get("serviceTaskOperator") is not None


class _ManualTaskParser(SpiffTaskParser):
    """A manual task as the engine its diagram is drawn for runs it.

    Camunda 7 passes through it (ManualTaskActivityBehavior extends
    TaskActivityBehavior: the activity is left at once, no task is created),
    so in the Camunda dialect (Flowable's too: tidy makes it Camunda's) it is
    a none task. SpiffArena shows its instructions and waits until the user
    continues: in a SpiffArena or plain BPMN diagram, and in a version stored
    before the dialect mark, it stays an inbox task.
    """

    def create_task(self) -> Any:
        if is_camunda_dialect(self.node, unmarked=False):
            self.spec_class = PassThroughTask
        return super().create_task()


class _ServiceTaskParser(ServiceTaskParser):
    def create_task(self) -> Any:
        return _service_spec(self)


class _ScriptTaskParser(ScriptTaskParser):
    """A script task runs the scripts Camunda's execution listeners became
    (listeners.py marks it `LISTENER_SCRIPTS`); SpiffWorkflow 3.2's parser
    reads no pre- or post-script of a script task, so they were dropped.
    SpiffArena's own pre/post scripts on a script task stay unread, as there."""

    def create_task(self) -> Any:
        if self.node.get(LISTENER_SCRIPTS) != "true":
            return super().create_task()
        extensions = self.parse_extensions()
        script = next(
            (c.text for c in self.node if str(c.tag).endswith("script")), None
        )
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            script,
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class _SendTaskParser(SpiffSendTaskParser):
    """A send task with an operation (Camunda topic, class, ...) is a service task."""

    def create_task(self) -> Any:
        if not _calls_operation(self):
            return super().create_task()
        self.spec_class = AsyncServiceTask
        return _service_spec(self)


class _BusinessRuleTaskParser(DecisionTaskParser):
    """A business rule task with an operation instead of a decision: a service task."""

    def create_task(self) -> Any:
        if not _calls_operation(self):
            return super().create_task()
        self.spec_class = AsyncServiceTask
        return _service_spec(self)


class _BpmnOrderMixin:
    """BPMN flow semantics SpiffWorkflow's node parsers depart from.

    * Outgoing flows keep the model's (document) order: SpiffWorkflow sorts
      them by the drawing's y coordinate, so an exclusive gateway with several
      true conditions took the top-most one. A constant position keeps the
      stable sort in document order, as Camunda evaluates them.
    * Several plain flows out of an activity or event all run (BPMN's
      implicit parallel split); SpiffWorkflow refused them. Conditional flows
      out of an activity get an inclusive gateway at upload (implicit_splits.py).
    """

    def get_position(self, node: Any = None) -> Any:
        if node is not None and node is not self.node:  # type: ignore[attr-defined]
            return {"x": 0.0, "y": 0.0}
        return super().get_position(node)  # type: ignore[misc]

    def handles_multiple_outgoing(self) -> bool:
        return True


_EXTENSIONS = full_tag("extensionElements")


# The parsers share one prefix map (the parser's); its items, sorted, key the cache.
_last_namespaces: tuple[dict[str, str], tuple[tuple[str, str], ...]] = ({}, ())


def _namespaces(nsmap: dict[str, str]) -> tuple[tuple[str, str], ...]:
    global _last_namespaces
    known, items = _last_namespaces  # one tuple: read whole, even across threads
    if known is not nsmap:
        items = tuple(sorted(nsmap.items()))
        _last_namespaces = (nsmap, items)
    return items


class _CompiledXPathMixin:
    """SpiffWorkflow's node parsers evaluate their XPaths compiled once.

    `NodeParser._xpath` calls `node.xpath(path, namespaces=...)`, which compiles
    the expression each time: most of a node's parse for a large diagram. The
    same expressions, compiled once (lxml serializes a compiled XPath's
    evaluations), give the same nodes.
    """

    def _xpath(self, node: Any, xpath: str) -> Any:
        return compiled_xpath(xpath, _namespaces(self.nsmap))(node)  # type: ignore[attr-defined]

    def parse_extensions(self, node: Any = None) -> Any:
        # SpiffTaskParser reads ./bpmn:extensionElements/spiffworkflow:* (twice
        # per task, uncompiled): with no extensionElements child that is {}.
        target = self.node if node is None else node  # type: ignore[attr-defined]
        if isinstance(self, SpiffTaskParser) and target.find(_EXTENSIONS) is None:
            return {}
        return super().parse_extensions(node)  # type: ignore[misc]


class _IoMappingMixin:
    """A user task, script task, embedded sub-process or call activity keeps
    its camunda:inputOutput on its spec (io_mapping.py); a human task, its people
    read from variables (people.py)."""

    def create_task(self) -> Any:
        spec = super().create_task()  # type: ignore[misc]
        parse_io(spec, self.node)  # type: ignore[attr-defined]
        parse_people(spec, self.node)  # type: ignore[attr-defined]
        parse_name(spec, self.node)  # type: ignore[attr-defined]
        return spec


@functools.cache
def _in_bpmn_order(parser_class: type) -> type:
    return type(
        f"Laneway{parser_class.__name__}",
        (
            _BpmnOrderMixin,
            _CompiledXPathMixin,
            _IoMappingMixin,
            DataObjectScopeMixin,
            SignalPayloadParserMixin,
            ConditionalFilterParserMixin,
            parser_class,
        ),
        {},
    )


class LanewayParser(DecisionParserMixin, SpiffBpmnParser):
    """SpiffBpmnParser: async service tasks, BPMN flow order, event scoping, DMN.

    Send and business rule tasks that name an operation (normalize.py gives
    them a `serviceTaskOperator`, as it does service tasks) run as service
    tasks: on the worker, with the same parameters, retries and incidents.
    """

    def _get_parser_class(self, tag: str) -> Any:
        parser_class, spec_class = super()._get_parser_class(tag)
        if parser_class is None:
            return parser_class, spec_class
        return _in_bpmn_order(parser_class), spec_class

    PROCESS_PARSER_CLASS = CompensationProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        **EVENT_PARSER_CLASSES,
        full_tag("serviceTask"): (_ServiceTaskParser, AsyncServiceTask),
        full_tag("scriptTask"): (
            _ScriptTaskParser,
            SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("scriptTask")][1],
        ),
        full_tag("callActivity"): (MappedCallActivityParser, MappedCallActivity),
        full_tag("task"): (
            SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("task")][0],
            PassThroughTask,
        ),
        full_tag("manualTask"): (
            _ManualTaskParser,
            SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("manualTask")][1],
        ),
        full_tag("exclusiveGateway"): (
            SpiffBpmnParser.PARSER_CLASSES[full_tag("exclusiveGateway")][0],
            LanewayExclusiveGateway,
        ),
        full_tag("sendTask"): (
            _SendTaskParser,
            SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("sendTask")][1],
        ),
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, DecisionTask),
    }

    def create_parser(self, node: Any, filename: Any = None, lane: Any = None) -> None:
        """Create the parser of a (sub-)process once: a compensation event
        sub-process's is created by the scope that runs it or by its own
        sub-process, whichever parses first (compensation.py)."""
        existing = self.process_parsers.get(node.get("id"))
        if existing is None or existing.node is not node:
            super().create_parser(node, filename=filename, lane=lane)

    def get_spec(self, process_id: str, required: bool = True) -> Any:
        spec = super().get_spec(process_id, required)
        return spec if spec is None else implicit_ends(arm_event_subprocesses(spec))


def error_catcher(task: Any, event: Any) -> Any | None:
    """Return the waiting catcher of `event` thrown at `task` (BPMN scoping).

    The boundary events attached to the task, then per enclosing scope,
    innermost first, its error event sub-processes and the boundary events of
    the sub-process or call activity; a catcher naming the error's code wins
    over a catch-all (no errorRef or no errorCode). See `events.scoped_catcher`.
    """
    event.target = task.workflow
    return scoped_catcher(event, activity=task)


def service_error_event(code: str, payload: Any) -> Any:
    """Build the BPMN error event a service task throws for a business error."""
    return BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload)
