"""Whether an expression's `execution` is the process instance itself.

Camunda 7's AbstractVariableScope gives `execution.getVariableLocal('x')`,
`hasVariableLocal('x')` and `setVariableLocal('x', v)` the execution's own
scope only. Laneway models the process instance's scope (the store,
variables.py) exactly, but not the executions Camunda 7 creates below it:
a scope activity's (one with camunda:inputOutput, a multi-instance, a
boundary event, an embedded or event sub-process), and a concurrent one on
each path after a fork (a parallel or inclusive split, several outgoing
flows, a non-interrupting boundary event or event sub-process: Camunda 7
then moves even the main path into a concurrent child execution).

`own_scope_refusal` says why an element's expressions cannot use the *Local
variants (None where the execution is the process instance, so that the
*Local variants mean what getVariable / hasVariable / setVariable mean:
the process instance has no parent scope). The rule is conservative: one
fork anywhere in the process refuses them in all of it.
"""

from __future__ import annotations

from lxml import etree

from .xml import NSMAP, local_name, vendor_children

# Elements that are no scope of their own in Camunda 7 (BpmnParse) unless
# they carry what makes one (`_scope_maker`).
_PLAIN = frozenset(
    ("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask")
    + ("businessRuleTask", "callActivity", "startEvent", "endEvent")
    + ("exclusiveGateway", "parallelGateway", "inclusiveGateway")
    + ("intermediateThrowEvent",)
)
_CHOOSING_GATEWAYS = ("exclusiveGateway", "eventBasedGateway")


def forks(container: etree._Element) -> bool:
    """Whether a path through `container` can split into concurrent ones: a
    parallel or inclusive split, an element with several outgoing flows, a
    non-interrupting boundary event or event sub-process."""
    outgoing: dict[str | None, int] = {}
    for flow in container.iterfind("bpmn:sequenceFlow", NSMAP):
        source = flow.get("sourceRef")
        outgoing[source] = outgoing.get(source, 0) + 1
    for element in container:
        if not isinstance(element.tag, str):
            continue
        kind = local_name(element)
        if kind == "boundaryEvent" and element.get("cancelActivity") == "false":
            return True
        if kind == "subProcess" and element.get("triggeredByEvent") == "true":
            start = element.find("bpmn:startEvent", NSMAP)
            if start is not None and start.get("isInterrupting") == "false":
                return True
        if kind not in _CHOOSING_GATEWAYS and outgoing.get(element.get("id"), 0) > 1:
            return True
    return False


def own_scope_refusal(element: etree._Element) -> str | None:
    """Why `element`'s execution (a sequence flow's: its source's) may not
    be the process instance here, or None when it is (module doc)."""
    process = element if local_name(element) == "process" else element.getparent()
    if process is None or local_name(process) != "process":
        return "inside a sub-process, whose execution has a scope of its own"
    if local_name(element) == "sequenceFlow":
        source = process.find(f"*[@id='{element.get('sourceRef')}']")
        if source is None:
            return "the flow's source is not in its process"
        element = source
    if element is not process:
        if local_name(element) not in _PLAIN:
            kind = local_name(element)
            return f"on a {kind}, which Camunda 7 runs in an execution of its own"
        if maker := _scope_maker(element, process):
            return (
                f"on an activity with {maker}, which Camunda 7 makes a scope "
                "(an execution of its own)"
            )
    if forks(process):
        return (
            "in a process where paths run concurrently (a fork), where Camunda 7 "
            "gives each path an execution of its own"
        )
    return None


def _scope_maker(element: etree._Element, process: etree._Element) -> str | None:
    if element.find("bpmn:multiInstanceLoopCharacteristics", NSMAP) is not None:
        return "multi-instance"
    if element.get("isForCompensation") == "true":
        return "isForCompensation"
    if vendor_children(element, "bpmn:extensionElements/x:inputOutput"):
        return "camunda:inputOutput"
    for boundary in process.iterfind("bpmn:boundaryEvent", NSMAP):
        if boundary.get("attachedToRef") == element.get("id"):
            return "a boundary event"
    return None
