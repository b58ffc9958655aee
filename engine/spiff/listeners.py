"""Camunda listeners that only set a variable, run as SpiffWorkflow pre/post scripts.

An executionListener (event start or end) whose expression is
`${execution.setVariable('x', v)}`, and a taskListener (event create or complete)
whose expression is `${task.setVariable('x', v)}`, on a task become
`x = <v in Python>` in its `spiffworkflow:preScript` (start, create) or
`spiffworkflow:postScript` (end, complete), in the order drawn. The value is
translated by the JUEL subset (juel.py). Any other listener (a Java class, a
delegate expression, a script, another event, one on an event or a sequence
flow, a value outside the subset) is left in place, and `checks._listeners`
refuses it, located.
"""

from __future__ import annotations

import re

from lxml import etree

from .juel import JuelError, juel_to_python
from .xml import NSMAP, SPIFF, local_name, vendor_children

_SET_VARIABLE = re.compile(
    r"""^\s*[$#]\{\s*(?:execution|task)\s*\.\s*setVariable\s*\(\s*
        (?P<quote>['"])(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)\s*,
        (?P<value>.*)\)\s*\}\s*$""",
    re.VERBOSE | re.DOTALL,
)
_SCRIPT_FOR = {
    ("executionListener", "start"): "preScript",
    ("executionListener", "end"): "postScript",
    ("taskListener", "create"): "preScript",
    ("taskListener", "complete"): "postScript",
}
# Elements SpiffWorkflow runs pre/post scripts on (its SpiffBpmnTask specs).
_SCRIPTED = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
    }
)


def _assignment(listener: etree._Element) -> str | None:
    """Return `name = value` in Python for a setVariable listener, else None."""
    match = _SET_VARIABLE.match(listener.get("expression") or "")
    if match is None or len(listener):
        return None
    try:
        value = juel_to_python("${" + match.group("value").strip() + "}")
    except JuelError:
        return None
    return f"{match.group('name')} = {value}"


def _append(extensions: etree._Element, kind: str, line: str) -> None:
    script = extensions.find(f"spiffworkflow:{kind}", NSMAP)
    if script is None:
        script = etree.SubElement(extensions, f"{{{SPIFF}}}{kind}")
    text = (script.text or "").rstrip()
    script.text = f"{text}\n{line}" if text else line


def translate_listeners(root: etree._Element) -> None:
    """Turn setVariable listeners on tasks into pre/post scripts, in place."""
    for kind in ("executionListener", "taskListener"):
        for listener in vendor_children(root, f".//x:{kind}"):
            extensions = listener.getparent()
            owner = extensions.getparent()
            script = _SCRIPT_FOR.get((kind, listener.get("event") or "start"))
            line = _assignment(listener)
            if script is None or line is None or local_name(owner) not in _SCRIPTED:
                continue
            _append(extensions, script, line)
            extensions.remove(listener)
