"""Service tasks run asynchronously: the engine leaves them STARTED for a worker.

The parser swaps SpiffWorkflow's synchronous Spiff service task for
`AsyncServiceTask`, whose `_execute` evaluates the parameters, records the call in
the task's internal data and returns None (STARTED). The worker later applies
the result with `runtime.workflow_apply_service_result`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.event_parsers import SpiffSendTaskParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import (
    ServiceTaskParser,
    SpiffTaskParser,
)
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition

from .call_data import MappedCallActivity, MappedCallActivityParser
from .compensation import CompensationProcessParser
from .dmn import DecisionParserMixin, DecisionTask, DecisionTaskParser
from .errors import ServiceResultRejected
from .events import EVENT_PARSER_CLASSES, arm_event_subprocesses, scoped_catcher
from .gateways import LanewayExclusiveGateway, PassThroughTask
from .multi_instance import loop_variables
from .retry_cycle import RetryCycle, retry_cycle_of
from .signal_payloads import SignalPayloadParserMixin
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
    onto the case, over what the result set.
    """

    explicit_result: bool = True
    map_outputs: bool = False
    scope_names: frozenset[str] = frozenset()
    output_parameters: tuple[tuple[str, str], ...] = ()
    retry_cycle: RetryCycle | None = None  # camunda:failedJobRetryTimeCycle

    def _execute(self, task: Any) -> None:
        task.internal_data[CALL_KEY] = {
            "operation": self.operation_name,
            "params": operation_variables(task),
        }
        return None


def operation_variables(task: Any) -> dict[str, Any]:
    """Return the variables an operation sees, evaluated when its task starts.

    Camunda: the task's input parameters when it has any (camunda:inputOutput,
    a connector's or SpiffArena's parameters), else every variable visible at
    the task (the case's, and a multi-instance instance's own).
    """
    spec = task.task_spec
    if spec.operation_params:
        return {name: p["value"] for name, p in spec.evaluate_params(task).items()}
    return {**loop_variables(task), **task.data}


def service_variables(
    task: Any, result: Any, *, local: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the case variables an operation's result sets (Camunda 7 rules).

    Camunda 7 runs a task with camunda:inputOutput as a scope whose local
    variables are its input parameters. The result is set as
    `execution.setVariable` / an external task's `complete(variables)` sets
    it: a name local to the task's scope (an input parameter) stays there,
    any other reaches the case. `local` are variables of the task's own scope
    (an external task's localVariables), set after the result. The output
    parameters are then evaluated in the task's scope (they see all of these)
    and set on the case, over what the result set. The task's scope, with its
    local variables, ends with it. A connector's response stays in the
    connector's scope: only its output parameters map it.

    Raises:
        ServiceResultRejected: a result that is neither a dict nor None without
            a result variable, or an output parameter that cannot be evaluated.
    """
    spec = task.task_spec
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
    variables = (
        {}
        if spec.map_outputs
        else {k: v for k, v in produced.items() if k not in spec.scope_names}
    )
    if not spec.output_parameters:
        return variables
    call = task.internal_data.get(CALL_KEY) or {}
    context = {**task.data, **call.get("params", {}), **produced, **(local or {})}
    for name, expression in spec.output_parameters:
        try:
            value = task.workflow.script_engine.environment.evaluate(
                expression, {**loop_variables(task), **context}
            )
        except Exception as exc:  # noqa: BLE001 - any failure names the parameter
            raise ServiceResultRejected(
                f"output parameter '{name}' ({expression}) cannot be evaluated "
                f"against the result: {type(exc).__name__}: {exc}"
            ) from None
        context[name] = variables[name] = value
    return variables


_IO_INPUTS = "bpmn:extensionElements/x:inputOutput/x:inputParameter"


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
    spec.scope_names = frozenset(
        p.get("name", "") for p in vendor_children(parser.node, _IO_INPUTS)
    )
    spec.output_parameters = tuple(
        (o.get("id", ""), o.get("value", ""))
        for o in operator.iterfind("spiffworkflow:outputParameter", NSMAP)
    )
    spec.retry_cycle = retry_cycle_of(parser.node)
    return spec


def _calls_operation(parser: Any) -> bool:
    return parser.parse_extensions().get("serviceTaskOperator") is not None


class _ServiceTaskParser(ServiceTaskParser):
    def create_task(self) -> Any:
        return _service_spec(self)


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
      out of an activity are refused at upload (support.py).
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


@functools.cache
def _in_bpmn_order(parser_class: type) -> type:
    return type(
        f"Laneway{parser_class.__name__}",
        (_BpmnOrderMixin, _CompiledXPathMixin, SignalPayloadParserMixin, parser_class),
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
        full_tag("callActivity"): (MappedCallActivityParser, MappedCallActivity),
        full_tag("task"): (
            SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("task")][0],
            PassThroughTask,
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

    def get_spec(self, process_id: str, required: bool = True) -> Any:
        spec = super().get_spec(process_id, required)
        return spec if spec is None else arm_event_subprocesses(spec)


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
