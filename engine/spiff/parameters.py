"""Camunda 7 parameter values (camunda:inputParameter / outputParameter, a
map entry) as Python expressions, as Camunda 7 reads them
(BpmnParseUtil.parseParamValueProvider)."""

from __future__ import annotations

from lxml import etree

from .juel import composite_expression, is_juel
from .listener_scripts import (
    GROOVY,
    JAVASCRIPT,
    ListenerScriptError,
    translate_expression,
    translate_script,
)
from .sandbox.el import java_text_order
from .xml import local_name

# The activities whose camunda:inputOutput io_mapping.py maps (service-like and
# decision tasks map theirs in service_tasks.py and dmn.py).
IO_ACTIVITIES = (
    "userTask",
    "scriptTask",
    "subProcess",
    "transaction",
    "callActivity",
    "task",
    "manualTask",
    "receiveTask",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "endEvent",
)


def _text_value(element: etree._Element) -> str:
    """Text is a string, `${...}` JUEL (with text around it, a composite
    expression: a String); no text is null (NullValueProvider)."""
    text = (element.text or "").strip()
    if not text:
        return "None"
    return composite_expression(text) or repr(text)


def _item_value(element: etree._Element) -> str | None:
    """A parameter or map entry: text, or one nested list or map."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        return _text_value(element)
    if len(children) > 1:
        return None
    return _nested_value(children[0])


def _nested_value(nested: etree._Element) -> str | None:
    """A list, a map, or a list item, as Camunda 7 reads them
    (BpmnParseUtil.parseParamValueProvider): a list's items are lists, maps or
    text values (camunda:value); an inline Groovy or JavaScript camunda:script
    that is one expression within the listener scripts' subset is its value
    (ScriptValueProvider), any other script has no Python equivalent."""
    kind = local_name(nested)
    if kind == "list":
        items = [_nested_value(v) for v in nested if isinstance(v.tag, str)]
        if any(i is None for i in items):
            return None
        return "[" + ", ".join(str(i) for i in items) + "]"
    if kind == "map":
        return _map_value(nested)
    if kind == "value" and not any(isinstance(c.tag, str) for c in nested):
        return _text_value(nested)
    if kind == "script":
        return _script_value(nested)
    return None


def _map_value(nested: etree._Element) -> str | None:
    """A camunda:map, as Camunda 7's MapValueProvider builds it
    (BpmnParseUtil.parseParamValueProvider): every entry has a key, which is
    an expression (ElValueProvider: text is itself, `${...}` is evaluated);
    the entries sit in a TreeMap ordered by the key's text (an entry whose key
    text is met again replaces the earlier one's value, which is then never
    evaluated), and the result is a TreeMap of the evaluated keys."""
    entries = [e for e in nested if isinstance(e.tag, str)]
    if any(local_name(e) != "entry" or not e.get("key") for e in entries):
        return None
    values = [_item_value(e) for e in entries]
    if None in values:
        return None
    by_text = {e.get("key", ""): v for e, v in zip(entries, values, strict=True)}
    ordered = sorted(by_text.items(), key=lambda kv: java_text_order(kv[0]))
    if not any(is_juel(text) for text, _ in ordered):
        return "{" + ", ".join(f"{text!r}: {v}" for text, v in ordered) + "}"
    triples = ", ".join(
        f"({text!r}, {composite_expression(text) or repr(text)}, {v})"
        for text, v in ordered
    )
    return f"_el_map_([{triples}])"


def _script_value(script: etree._Element) -> str | None:
    """An inline Groovy or JavaScript script of one expression, as Python."""
    language = (script.get("scriptFormat") or "").strip().lower()
    if script.get("resource") or language not in JAVASCRIPT | GROOVY:
        return None
    try:
        return translate_expression(script.text or "", language=language)
    except ListenerScriptError:
        return None


def _script_problem(script: etree._Element, output: bool) -> str:
    """Why an inline camunda:script parameter has no Python value here."""
    language = (script.get("scriptFormat") or "").strip().lower()
    if script.get("resource"):
        return (
            f"is a script loaded from the resource {script.get('resource')!r}, "
            "which Laneway does not read (paste it inline)"
        )
    if language not in JAVASCRIPT | GROOVY:
        return (
            f"is a {language or 'untyped'} script: only inline Groovy or "
            "JavaScript runs"
        )
    shown = "Groovy" if language in GROOVY else "JavaScript"
    try:
        translate_expression(script.text or "", language=language)
    except ListenerScriptError as exc:
        reason = str(exc)
    else:  # pragma: no cover - a translatable script has a value
        return ""
    try:
        effects = translate_script(
            script.text or "", language=language, event="start", task_listener=False
        ).variables_set
    except ListenerScriptError:
        effects = frozenset()
    if effects:
        # Camunda 7 (ScriptValueProvider) runs the script when the activity
        # starts: execution.setVariable(...) sets a variable of the case (the
        # highest scope, AbstractVariableScope.setVariable) and the parameter
        # gets the script's value, null here.
        names = ", ".join(sorted(effects))
        when, where = ("ends", "end") if output else ("starts", "start")
        return (
            f"is a {shown} script that sets variables ({names}) with "
            f"execution.setVariable(...): Camunda 7 runs it when the activity "
            f"{when} for that effect, the parameter itself being null; a "
            "parameter here is one value-giving expression without effects: set "
            f"the variables in a{'n' if output else ''} {where} execution "
            "listener script instead"
        )
    return (
        f"is a {shown} script outside what a parameter runs here ({reason}): a "
        "script parameter runs when it is one expression within the subset of "
        "listener scripts"
    )


def parameter_problem(param: etree._Element) -> str:
    """Why `parameter_value` gives no value for a parameter (its wording follows
    the parameter's name and owner: "is a ... script ...")."""
    children = [c for c in param if isinstance(c.tag, str)]
    scripts = [c for c in param.iter() if local_name(c) == "script"]
    if len(children) == 1 and scripts and _script_value(scripts[0]) is None:
        output = local_name(param) == "outputParameter"
        return _script_problem(scripts[0], output)
    entries = [c for c in param.iter() if local_name(c) == "entry"]
    if any(not e.get("key") for e in entries):
        return (
            "has a camunda:map entry without a key, which Camunda 7 refuses "
            "(BpmnParseUtil: \"Missing attribute 'key' for 'entry' element\")"
        )
    return (
        "is a malformed list or map (or holds a script that does not run here): "
        "use text, ${...}, camunda:list or camunda:map"
    )


def parameter_value(param: etree._Element) -> str | None:
    """Return a Camunda parameter's value as a Python expression, or None.

    Text is a string, `${...}` is JUEL, `camunda:list` a list and `camunda:map`
    a dict, nested as Camunda allows; a `camunda:script` runs when it is one
    Groovy or JavaScript expression within the listener scripts' subset.
    """
    return _item_value(param)
