"""Upload checks of message and signal names that hold an expression.

A name with `${...}` runs (event_names.py) unless a process's own start event
waits for it: Camunda 7 resolves a start event's name once, at deployment,
with no variables (EventSubscriptionDeclaration.createSubscriptionForStartEvent
with StartProcessVariableScope), so `${x}` there fails the deployment and any
other expression is a constant; Laneway refuses it with that reason. A part
outside the JUEL subset Laneway translates (juel.py) is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from .juel import JuelError, composite_expression, expression_parts, is_juel
from .normalize import describe
from .types import Problem
from .xml import NSMAP

# A name with text around its expressions is composite text (juel.py).
name_expression = composite_expression
_parts = expression_parts


_STARTS = {
    "message": "bpmn:process/bpmn:startEvent/bpmn:messageEventDefinition"
    "[@messageRef=$ref]",
    "signal": "bpmn:process/bpmn:startEvent/bpmn:signalEventDefinition"
    "[@signalRef=$ref]",
}
START_REASON = (
    "Camunda 7 resolves the message or signal name of a process's start event "
    "once, at deployment, with no variables, so ${...} there cannot read the "
    "case's data (the deployment fails); write the name itself, or start the "
    "case with a fixed name and wait for the resolved one after the start"
)


def name_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse names whose expression cannot run, and expressions at process starts."""
    for named in root.xpath("bpmn:message | bpmn:signal", namespaces=NSMAP):
        name = named.get("name") or ""
        if not is_juel(name):
            continue
        kind = etree.QName(named).localname
        try:
            name_expression(name)
        except JuelError as exc:
            yield Problem(
                f"The {describe(named)} is refused: its name holds JUEL Laneway "
                f"does not resolve: {exc}; write the name as text with ${{...}} "
                "parts of names, property access and operators",
                named.sourceline,
                named.get("id"),
            )
            continue
        for definition in root.xpath(
            _STARTS[kind], namespaces=NSMAP, ref=named.get("id") or ""
        ):
            start = definition.getparent()
            yield Problem(
                f"The {describe(start)} is refused: it waits for the {kind} "
                f"{name!r}; {START_REASON}.",
                start.sourceline,
                start.get("id"),
            )


def name_fits(drawn: str, name: str) -> bool:
    """Return whether a name as drawn can resolve to `name` (text: is it).

    A name with text around its expressions fits the names with that text
    (order-${orderId} fits order-42); a name that is expressions only claims
    no name, or it would claim every one (a waiting catch has resolved it, and
    correlation matches that resolved name).
    """
    if not is_juel(drawn):
        return drawn == name
    try:
        parts = list(_parts(drawn))
    except JuelError:
        return False
    if all(is_expression for is_expression, _ in parts):
        return False
    pattern = "".join(".*" if expr else re.escape(t) for expr, t in parts)
    return re.fullmatch(pattern, name, re.DOTALL) is not None
