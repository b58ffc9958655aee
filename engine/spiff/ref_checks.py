"""References the upload refuses: unnamed errors and escalations, computed callees.

Camunda 7 refuses an error end event without errorRef, and one whose error
has no errorCode ("'errorCode' is mandatory on errors referenced by throwing
error event definitions", BpmnParse), and the same of an escalation
throw ("throwing escalation event must have an 'escalationCode'"); BPMN 2.0.2
(Table 8.48, Error attributes) says the same: an executable process's error
end event MUST supply the errorCode. Laneway accepted them and threw an
error (escalation) without a code, which every catch-all event caught. An
errorRef or escalationRef naming nothing in the file stopped SpiffWorkflow's
parser with a TypeError as the only reason; Camunda 7 would read the
reference as the code itself.
An error thrown by an intermediate throw event is not a BPMN trigger (BPMN
2.0.2 §10.5.4, Table 10.91: an intermediate throw event's triggers are
message, escalation, compensation, link, signal), and Camunda 7 refuses it.
A calledElement expression (${key}) runs as Camunda 7 runs it: evaluated when
the call activity is reached (called.py). With calledElementBinding
"deployment" Camunda 7 looks the key up among the processes deployed with the
caller; Laneway refuses that at upload (a file's own processes are known: name
the one to call), and an expression outside the JUEL subset it translates.
Two escalation boundary events of one activity (or escalation event
sub-processes of one scope) for the same code, or one of them for any code,
Camunda 7 refuses at deploy (BpmnParse.addEscalationEventDefinition); Laneway
ran a specific one beside a catch-all, the specific one catching its code.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .error_variables import error_variable_problems
from .juel import JuelError, is_juel, juel_to_python
from .normalize import describe
from .support import REFUSED, Row
from .types import Problem
from .xml import NSMAP, VENDOR_NAMESPACES, local_name, vendor_attr

_BY = "ref_checks.ref_problems"
THROW_UNNAMED = Row(
    REFUSED,
    "an error or escalation end event, or an escalation intermediate throw "
    "event, throws the code of the bpmn:error or bpmn:escalation its errorRef or "
    "escalationRef names, and this one names none or one without a code (BPMN "
    "2.0.2 Table 8.48: an error end event of an executable process must supply "
    "the errorCode; Camunda 7 refuses it too: 'errorRef' / 'errorCode' is "
    "mandatory, a throwing escalation event must have an 'escalationCode'); "
    "here every catch-all event would catch a throw without a code; give it a "
    "code",
    by=_BY,
)
EVENT_REF_DANGLING = Row(
    REFUSED,
    "its errorRef or escalationRef names no bpmn:error or bpmn:escalation of "
    "the file (Camunda 7 would use the reference itself as the code); declare "
    'it, e.g. <bpmn:error id="X" errorCode="X"/>, and refer to its id',
    by=_BY,
)
MESSAGE_SIGNAL_REF_DANGLING = Row(
    REFUSED,
    "its messageRef or signalRef names no bpmn:message or bpmn:signal of the "
    "file (Camunda 7 refuses it too: no message or signal with that id is "
    'defined); declare it, e.g. <bpmn:message id="X" name="x"/>, and '
    "refer to its id",
    by=_BY,
)
ERROR_INTERMEDIATE_THROW = Row(
    REFUSED,
    "an error is thrown by an end event only (BPMN 2.0.2 \u00a710.5.4: an "
    "intermediate throw event throws a message, escalation, compensation, link "
    "or signal; Camunda 7 refuses it too); use an error end event, in a "
    "sub-process if the path must go on",
    by=_BY,
)
CALLED_ELEMENT_EXPRESSION = Row(
    REFUSED,
    'with calledElementBinding="deployment", Camunda 7 looks the key an '
    "expression in calledElement gives up among the processes deployed with the "
    "caller; Laneway does not resolve an expression within the file: name the "
    "process of this file, or use the latest (default) or version binding",
    by=_BY,
)
CALLED_ELEMENT_UNTRANSLATED = Row(
    REFUSED,
    "its calledElement is an expression outside the JUEL subset Laneway "
    "translates (one ${...} expression: names, property access, literals, "
    "operators); give one such expression or the process id",
    by=_BY,
)
CONDITION_RESOURCE = Row(
    REFUSED,
    "its condition is an external script resource (camunda:resource), which "
    "Laneway does not load; write the condition inline",
    by=_BY,
)


def _escalation_twice(other: str, verb: str, kind: str) -> Row:
    """The refusal of a second escalation catcher of one scope (Camunda 7's parse)."""
    return Row(
        REFUSED,
        f"another escalation {other} {verb} the same escalation code, or one of the "
        f"two {verb} any code (no escalationRef, or an escalation without "
        "escalationCode), so the diagram does not say which one catches (Camunda 7 "
        f"refuses it too: 'multiple escalation {kind}s with the same escalationCode "
        "are not supported on same scope', 'the same scope can not contain an "
        f"escalation {kind} without escalation code and another one with escalation "
        "code'); keep one and branch after it",
        by=_BY,
    )


ESCALATION_BOUNDARY_TWICE = _escalation_twice(
    "boundary event of the same activity", "catches", "boundary event"
)
ESCALATION_EVENT_SUBPROCESS_TWICE = _escalation_twice(
    "event sub-process of the same scope", "starts on", "event subprocess"
)
SUBSCRIPTION_TWICE = Row(
    REFUSED,
    "another event of the same scope (the start events of a process; the "
    "boundary events of an activity and the event sub-processes inside it; "
    "the events and receive tasks after one event-based gateway) waits for "
    "the same message or signal, so it is not said which one a delivery triggers "
    "(Camunda 7 refuses it too: cannot have more than one message event "
    "subscription with that name for the scope); keep one and branch after it",
    by=_BY,
)
# For the coverage page (coverage.py lists them with the other constructs).
CONSTRUCTS: dict[str, Row] = {
    "an error or escalation throw without errorRef / escalationRef, or whose "
    "error or escalation has no code": THROW_UNNAMED,
    "an errorRef or escalationRef naming nothing in the file": EVENT_REF_DANGLING,
    "a messageRef or signalRef naming nothing in the file": (
        MESSAGE_SIGNAL_REF_DANGLING
    ),
    "an error on an intermediate throw event": ERROR_INTERMEDIATE_THROW,
    "an expression (${...}) in a call activity's calledElement with "
    'calledElementBinding="deployment"': CALLED_ELEMENT_EXPRESSION,
    "an expression in calledElement outside the JUEL subset (text mixed with "
    "${...}, functions)": CALLED_ELEMENT_UNTRANSLATED,
    "two escalation boundary events of one activity for the same code, or one "
    "of them for any code": ESCALATION_BOUNDARY_TWICE,
    "two escalation event sub-processes of one scope for the same code, or one "
    "of them for any code": ESCALATION_EVENT_SUBPROCESS_TWICE,
    "two message (or signal) start events of one process, or boundary events of "
    "one activity or event sub-processes inside it, or events (and receive "
    "tasks) after one event-based gateway, for the same name": (SUBSCRIPTION_TWICE),
    "a condition given as an external resource (camunda:resource on a "
    "conditionExpression)": CONDITION_RESOURCE,
}
_THROWING = frozenset({"endEvent", "intermediateThrowEvent"})
_REFS = (
    ("errorEventDefinition", "errorRef", "error"),
    ("escalationEventDefinition", "escalationRef", "escalation"),
)


def _problem(
    at: etree._Element, row: Row, owner: etree._Element | None = None
) -> Problem:
    """Refuse `owner` (default: the element `at` is in) at `at`'s line."""
    owner = at.getparent() if owner is None else owner
    return Problem(
        f"The {describe(owner)} is refused: {row.note}.", at.sourceline, owner.get("id")
    )


def _message_signal_ref_problems(root: etree._Element) -> Iterator[Problem]:
    """A messageRef or signalRef naming nothing: SpiffWorkflow's parser stopped
    at a TypeError of its own, which was the only reason given."""
    for attribute, target, paths in (
        (
            "messageRef",
            "message",
            ".//bpmn:messageEventDefinition | .//bpmn:receiveTask",
        ),
        ("signalRef", "signal", ".//bpmn:signalEventDefinition"),
    ):
        declared = {e.get("id") for e in root.iterfind(f"bpmn:{target}", NSMAP)}
        for element in root.xpath(paths, namespaces=NSMAP):
            ref = (element.get(attribute) or "").strip().split(":")[-1]
            if ref and ref not in declared:
                owner = (
                    element
                    if local_name(element) != f"{target}EventDefinition"
                    else None
                )
                yield _problem(element, MESSAGE_SIGNAL_REF_DANGLING, owner)


def ref_problems(root: etree._Element) -> Iterator[Problem]:
    """Yield the unnamed errors and escalations and the computed callees."""
    yield from _event_ref_problems(root)
    yield from _message_signal_ref_problems(root)
    yield from _condition_resource_problems(root)
    yield from _escalation_boundary_problems(root)
    yield from _subscription_problems(root)
    yield from error_variable_problems(root)
    yield from _called_expression_problems(root)


def _called_expression_problems(root: etree._Element) -> Iterator[Problem]:
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        called = (call.get("calledElement") or "").strip()
        if not is_juel(called):
            continue
        if vendor_attr(call, "calledElementBinding") == "deployment":
            yield _problem(call, CALLED_ELEMENT_EXPRESSION, call)
            continue
        try:
            juel_to_python(called)
        except JuelError as exc:
            yield Problem(
                f"The {describe(call)} is refused: {CALLED_ELEMENT_UNTRANSLATED.note} "
                f"({called!r}: {exc}).",
                call.sourceline,
                call.get("id"),
            )


def _event_ref_problems(root: etree._Element) -> Iterator[Problem]:
    for kind, attribute, target in _REFS:
        declared = {e.get("id"): e for e in root.iterfind(f"bpmn:{target}", NSMAP)}
        for definition in root.iterfind(f".//bpmn:{kind}", NSMAP):
            event = definition.getparent()
            ref = (definition.get(attribute) or "").strip().split(":")[-1]
            throws = local_name(event) in _THROWING
            if ref and ref not in declared:
                yield _problem(definition, EVENT_REF_DANGLING)
            elif kind == "errorEventDefinition" and local_name(event) == (
                "intermediateThrowEvent"
            ):
                yield _problem(definition, ERROR_INTERMEDIATE_THROW)
            elif throws and not _code(declared.get(ref), target):
                yield _problem(definition, THROW_UNNAMED)


def _code(declared: etree._Element | None, target: str) -> str:
    code = declared.get(f"{target}Code") if declared is not None else None
    return (code or "").strip()


def _condition_resource_problems(root: etree._Element) -> Iterator[Problem]:
    for condition in root.xpath(
        ".//bpmn:conditionExpression | .//bpmn:condition", namespaces=NSMAP
    ):
        if any(condition.get(f"{{{ns}}}resource") for ns in VENDOR_NAMESPACES):
            owner = condition.getparent()
            if local_name(owner) == "conditionalEventDefinition":
                owner = owner.getparent()
            yield _problem(condition, CONDITION_RESOURCE, owner)


def _escalation_catchers(
    root: etree._Element,
) -> Iterator[tuple[etree._Element, str, Row]]:
    """Yield each escalation catch with its catching scope and its row.

    As Camunda 7's parse: a boundary event catches for its activity; an event
    sub-process's start event for the scope the event sub-process is in.
    """
    for definition in root.iterfind(
        ".//bpmn:boundaryEvent/bpmn:escalationEventDefinition", NSMAP
    ):
        host = definition.getparent().get("attachedToRef")
        yield definition, f"boundary:{host}", ESCALATION_BOUNDARY_TWICE
    for definition in root.iterfind(
        ".//bpmn:subProcess[@triggeredByEvent='true']/bpmn:startEvent/"
        "bpmn:escalationEventDefinition",
        NSMAP,
    ):
        scope = definition.getparent().getparent().getparent()
        # The scope's path, not id(scope): lxml makes a new proxy object per
        # access, and a freed one's id is reused by the next (another scope).
        where = scope.getroottree().getpath(scope)
        yield definition, f"esp:{where}", ESCALATION_EVENT_SUBPROCESS_TWICE


def _escalation_boundary_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse a second escalation catch of one scope: same code, or either any."""
    codes = {
        e.get("id"): _code(e, "escalation")
        for e in root.iterfind("bpmn:escalation", NSMAP)
    }
    seen: dict[str, list[str]] = {}
    for definition, scope, row in _escalation_catchers(root):
        ref = (definition.get("escalationRef") or "").strip().split(":")[-1]
        code = codes.get(ref, "")
        earlier = seen.setdefault(scope, [])
        if any(not c or not code or c == code for c in earlier):
            yield _problem(definition, row)
        earlier.append(code)


def _subscription_scope(event: etree._Element) -> str | None:
    """Return the scope whose subscriptions the event joins (Camunda 7's parse).

    A process's start events are its start subscriptions; a boundary event
    joins its activity's others (its event scope is the activity), and so does
    the start event of an event sub-process drawn inside that activity (its
    event scope is the event sub-process's flow scope): BpmnParse
    .addEventSubscriptionDeclaration refuses two of one scope with the same
    name unless one is a process's start event (isStartEvent differs).
    """
    if local_name(event) == "boundaryEvent":
        return f"scope:{event.get('attachedToRef')}"
    parent = event.getparent()
    if parent is None:
        return None
    if parent.get("triggeredByEvent") == "true":
        parent = parent.getparent()
        return f"scope:{parent.get('id')}" if parent is not None else None
    return f"start:{parent.get('id')}"


def _after_event_gateways(root: etree._Element) -> dict[str, str]:
    """Return, per element a flow out of an event-based gateway leads to, the
    gateway's id (BpmnParse gives such a catch the gateway as event scope)."""
    gateways = {g.get("id") for g in root.iterfind(".//bpmn:eventBasedGateway", NSMAP)}
    if not gateways:
        return {}
    return {
        str(flow.get("targetRef")): str(flow.get("sourceRef"))
        for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP)
        if flow.get("sourceRef") in gateways
    }


def _subscribers(
    root: etree._Element, kind: str
) -> Iterator[tuple[etree._Element, etree._Element, str | None]]:
    """Yield each (element holding the ref, owner, scope) of one subscription kind."""
    for definition in root.xpath(
        f".//bpmn:startEvent/bpmn:{kind} | .//bpmn:boundaryEvent/bpmn:{kind}",
        namespaces=NSMAP,
    ):
        event = definition.getparent()
        yield definition, event, _subscription_scope(event)
    after = _after_event_gateways(root)
    if not after:
        return
    paths = f".//bpmn:intermediateCatchEvent/bpmn:{kind}"
    if kind == "messageEventDefinition":
        paths += " | .//bpmn:receiveTask"
    for element in root.xpath(paths, namespaces=NSMAP):
        owner = element if local_name(element) == "receiveTask" else element.getparent()
        gateway = after.get(str(owner.get("id")))
        if gateway is not None:
            yield element, owner, f"gateway:{gateway}"


def _subscription_problems(root: etree._Element) -> Iterator[Problem]:
    seen: set[tuple[str, str, str]] = set()
    for kind, attribute, target in (
        ("messageEventDefinition", "messageRef", "message"),
        ("signalEventDefinition", "signalRef", "signal"),
    ):
        names = {
            e.get("id"): e.get("name") or e.get("id")
            for e in root.iterfind(f"bpmn:{target}", NSMAP)
        }
        for element, owner, scope in _subscribers(root, kind):
            ref = (element.get(attribute) or "").strip().split(":")[-1]
            if not ref or scope is None:
                continue
            key = (target, scope, names.get(ref, ref))
            if key in seen:
                yield _problem(element, SUBSCRIPTION_TWICE, owner)
            seen.add(key)
