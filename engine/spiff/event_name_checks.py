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

from .juel import JuelError, is_juel, juel_to_python
from .normalize import describe
from .types import Problem
from .xml import NSMAP

_OPEN = ("${", "#{")


def _expression_end(text: str, start: int) -> int:
    """Return the index of the `}` closing the expression whose body starts at
    `start` (JUEL has no braces outside string literals)."""
    quote = ""
    index = start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "}":
            return index
        index += 1
    raise JuelError("an expression ${ is not closed with }")


def _parts(text: str) -> Iterator[tuple[bool, str]]:
    """Split composite text into (is an expression, text) parts.

    As JUEL's scanner reads it: `\\${` and `\\#{` are the literal text `${`.
    """
    literal: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith(("\\${", "\\#{"), index):
            literal.append(text[index + 1 : index + 3])
            index += 3
        elif text.startswith(_OPEN, index):
            end = _expression_end(text, index + 2)
            if literal:
                yield False, "".join(literal)
                literal = []
            yield True, text[index : end + 1]
            index = end + 1
        else:
            literal.append(text[index])
            index += 1
    if literal:
        yield False, "".join(literal)


def name_expression(name: str) -> str | None:
    """Return the Python expression that resolves a name; None when it is text.

    Raises:
        JuelError: a part is not JUEL of the supported subset.
    """
    if not is_juel(name):
        return None
    parts = list(_parts(name))
    if len(parts) == 1 and parts[0][0]:
        return juel_to_python(parts[0][1])
    if all(not is_expression for is_expression, _ in parts):
        return repr("".join(t for _, t in parts))  # only escaped ${ text
    args = [juel_to_python(t) if expr else repr(t) for expr, t in parts]
    return f"_el_text_({', '.join(args)})"


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
