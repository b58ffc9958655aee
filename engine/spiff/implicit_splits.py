"""Conditional and default flows out of an activity or event (implicit inclusive split).

BPMN 2.0.2 §10.5.1 (Sequence Flow) allows conditional sequence flows out of an
activity, and a `default` flow on it; Camunda 7 (Conditional and Default
Sequence Flows; `BpmnActivityBehavior.performOutgoingBehavior`) takes, when the
activity ends, every outgoing flow without a condition or with a true one; the
default flow only when none is; and when none is and there is no default, it
fails (`BpmnBehaviorLogger.missingConditionalFlowException`, "No conditional
sequence flow leaving the Flow Node ... could be selected for continuing the
process"; ConditionalSequenceFlowTest.testNoExpressionTrueThrowsException).
Camunda 7.0 ended the path silently there; every later 7.x throws.

Camunda 7 leaves events the same way (BPMN 2.0.2 draws no condition out of an
event, but Camunda's start, intermediate and boundary events leave through
`FlowNodeActivityBehavior.leave` -> `performDefaultOutgoingBehavior`, conditions
checked; ConditionalScriptSequenceFlowTest.testScriptExpression: the flows out of
a start event). A `default` on an event is not BPMN (the schema refuses it, as
Camunda 7's deployment does).

SpiffWorkflow ignores conditions out of an activity (it would take every flow),
so the rewrite below draws what Camunda does: the activity leads to an inclusive
gateway that owns its outgoing flows and its default; without a default, none
holding is the gateway's incident (joins.py), as Camunda's exception is.
Idempotent: afterwards no activity has a conditional or default flow.
"""

from __future__ import annotations

from lxml import etree

from .xml import BPMN, NSMAP, local_name, unique_id

# Activities (sequence-flow nodes that do work); support.py adds adHocSubProcess.
ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
    }
)
# Events with outgoing flows (an end event has none; a link throw's is refused).
EVENTS = frozenset(
    {"startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)
_SOURCES = ACTIVITIES | EVENTS
_CONDITION = f"{{{BPMN}}}conditionExpression"


def _element(tag: str, line: int | None, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{BPMN}}}{tag}", **attributes)
    if line:
        element.sourceline = line
    return element


def _split(
    activity: etree._Element, flows: list[etree._Element], taken: set[str]
) -> None:
    ident = str(activity.get("id"))
    line = activity.sourceline
    name = activity.get("name") or ident
    gateway_id = unique_id(f"{ident}_conditions", taken)
    into_id = unique_id(f"{ident}_to_conditions", taken)
    gateway = _element(
        "inclusiveGateway", line, id=gateway_id, name=f"{name} (conditional flows)"
    )
    default = activity.get("default")
    if default in {f.get("id") for f in flows}:
        del activity.attrib["default"]
        gateway.set("default", default)
    # else none (or naming another element's flow, refused by checks.py): no
    # flow holding is the gateway's incident, as Camunda 7 fails the activity.
    refs = activity.findall("bpmn:outgoing", NSMAP)
    for ref in refs[1:]:
        activity.remove(ref)
    if refs:  # the parser reads sourceRef; keep the lists true where drawn
        refs[0].text = into_id
    etree.SubElement(gateway, f"{{{BPMN}}}incoming").text = into_id
    for flow in flows:
        flow.set("sourceRef", gateway_id)
        etree.SubElement(gateway, f"{{{BPMN}}}outgoing").text = flow.get("id")
    activity.addnext(gateway)
    gateway.addnext(
        _element(
            "sequenceFlow", line, id=into_id, sourceRef=ident, targetRef=gateway_id
        )
    )


def conditional_activity_flows(root: etree._Element) -> None:
    """Put an inclusive gateway after each activity or event with conditional flows."""
    taken: set[str] | None = None
    kinds = (f"{{{BPMN}}}process", f"{{{BPMN}}}subProcess", f"{{{BPMN}}}transaction")
    for container in list(root.iter(*kinds)):
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in container.iterfind("bpmn:sequenceFlow", NSMAP):
            outgoing.setdefault(str(flow.get("sourceRef")), []).append(flow)
        for activity in list(container):
            if (
                not isinstance(activity.tag, str)
                or local_name(activity) not in _SOURCES
            ):
                continue
            flows = outgoing.get(str(activity.get("id")), [])
            default = activity.get("default")
            if not flows or not (
                default in {f.get("id") for f in flows}
                or any(f.find(_CONDITION) is not None for f in flows)
            ):
                continue
            if taken is None:
                taken = {
                    str(e.get("id")) for e in root.iter() if isinstance(e.tag, str)
                }
            _split(activity, flows, taken)
