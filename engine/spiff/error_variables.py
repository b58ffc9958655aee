"""Camunda 7's camunda:errorCodeVariable, errorMessageVariable, escalationCodeVariable.

On the errorEventDefinition of a catching error event (a boundary event or the
start event of an error event sub-process) they name the variables that
receive the caught error's code and message when the event catches
(Camunda 7's ErrorEventDefinition: set on the catching execution, so, like any
variable set there, a case variable here). The message is:

* for an error end event, the `camunda:errorMessage` of the bpmn:error it
  throws (no message: null);
* for a business error of a service operation or an external task's
  bpmnError, the message it was thrown with.

camunda:escalationCodeVariable on the escalationEventDefinition of a catching
escalation event (a boundary event or an escalation event sub-process's start)
names the variable that receives the caught escalation's code, set in the same
way (Camunda 7's EscalationEventDefinition; EscalationEventTest.
testRetrieveEscalationCodeVariableOnBoundaryEvent); a catch-all one receives the
thrown code. On a throwing escalation event it is refused (Camunda 7 ignores it).

A `camunda:errorMessage` holding an expression is refused when the file sets
an error message variable (Camunda 7 evaluates it; here it would be the
expression's text), and the two attributes on an error end event are refused
(Camunda 7 ignores them there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from .normalize import describe
from .types import Problem
from .variables import publish
from .xml import NSMAP, local_name, vendor_attr

CODE_VARIABLE = "errorCodeVariable"
MESSAGE_VARIABLE = "errorMessageVariable"
ESCALATION_CODE_VARIABLE = "escalationCodeVariable"
_CATCHING = ("boundaryEvent", "startEvent")


def error_variables(event: etree._Element) -> tuple[str, str] | None:
    """Return (code variable, message variable) a catching error event names
    (an escalation event: its code variable, no message variable)."""
    definition = event.find("bpmn:errorEventDefinition", NSMAP)
    if definition is None:
        escalation = event.find("bpmn:escalationEventDefinition", NSMAP)
        if escalation is None:
            return None
        code = vendor_attr(escalation, ESCALATION_CODE_VARIABLE).strip()
        return (code, "") if code else None
    code = vendor_attr(definition, CODE_VARIABLE).strip()
    message = vendor_attr(definition, MESSAGE_VARIABLE).strip()
    return (code, message) if code or message else None


def error_message(event: etree._Element) -> str | None:
    """Return the camunda:errorMessage of the bpmn:error an error event throws."""
    definition = event.find("bpmn:errorEventDefinition", NSMAP)
    ref = (definition.get("errorRef") or "").strip() if definition is not None else ""
    if not ref:
        return None
    for error in event.getroottree().getroot().iterfind(".//bpmn:error", NSMAP):
        if error.get("id") == ref:
            return vendor_attr(error, "errorMessage") or None
    return None


def error_variables_set(catcher: Any, event: Any) -> None:
    """Give the variables the catching event names the caught error's code and
    message (a case variable, published at once)."""
    names = getattr(catcher.task_spec, "error_variables", None)
    if not names:
        return
    code_variable, message_variable = names
    definition = event.event_definition
    payload = event.payload
    if isinstance(payload, dict) and "code" in payload and "message" in payload:
        message = payload.get("message") or None  # a service's business error
    else:
        message = getattr(definition, "error_message", None)
    if code_variable:
        catcher.data[code_variable] = getattr(definition, "code", None)
    if message_variable:
        catcher.data[message_variable] = message
    publish(catcher)


def _problem(node: etree._Element, why: str) -> Problem:
    return Problem(
        f"The {describe(node)} is refused: {why}.", node.sourceline, node.get("id")
    )


def error_variable_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse the error variables where they would be ignored or misread."""
    messages = False
    for definition in root.iterfind(".//bpmn:errorEventDefinition", NSMAP):
        named = [
            name
            for name in (CODE_VARIABLE, MESSAGE_VARIABLE)
            if vendor_attr(definition, name)
        ]
        if not named:
            continue
        event = definition.getparent()
        assert event is not None
        messages = messages or MESSAGE_VARIABLE in named
        if local_name(event) not in _CATCHING:
            yield _problem(
                event,
                f"{' and '.join(named)} name the variables a catching error event "
                "sets (a boundary event or an error event sub-process's start); "
                "Camunda 7 ignores them on a throwing event",
            )
    for definition in root.iterfind(".//bpmn:escalationEventDefinition", NSMAP):
        event = definition.getparent()
        assert event is not None
        if (
            vendor_attr(definition, ESCALATION_CODE_VARIABLE)
            and local_name(event) not in _CATCHING
        ):
            yield _problem(
                event,
                f"{ESCALATION_CODE_VARIABLE} names the variable a catching "
                "escalation event sets (a boundary event or an escalation event "
                "sub-process's start); Camunda 7 ignores it on a throwing event",
            )
    if not messages:
        return
    for error in root.iterfind(".//bpmn:error", NSMAP):
        text = vendor_attr(error, "errorMessage")
        if "${" in text or "#{" in text:
            yield _problem(
                error,
                "an expression in camunda:errorMessage is not evaluated here, so "
                "an error message variable would receive its text; write the "
                "message as plain text",
            )
