"""Where a translated listener's script task is drawn (listeners.py).

A listener that runs here becomes a script task drawn into the flow at the
moment Camunda 7 fires it (Delegation Code, Execution Listener): on a sequence
flow (take), after or before an event, and, for gateways and the process, as
below. Camunda 7 fires an activity's start listeners when a token enters it
and its end listeners when the token leaves, after the activity's behaviour
(a gateway's choice) and before the take listeners of the flows it leaves by
(PvmExecutionImpl.leaveActivityViaTransitions: TRANSITION_NOTIFY_LISTENER_END
once, then each outgoing execution takes its flow); a process's start
listeners fire when the instance starts, before its start event's.

* a gateway's start listeners: on each incoming flow, at its end (each token
  that arrives runs them, a join's too, as Camunda 7 fires them per arriving
  execution);
* an exclusive gateway's end listeners: on each outgoing flow, at its start
  (the one flow it takes runs them, before that flow's take listeners);
* a parallel or inclusive split's end listeners (one incoming flow): with the
  start ones, before the gateway, unless they set a variable one of its
  conditions reads (then refused: the choice must come first). A join's end
  listeners stay refused: Camunda 7 fires them for every joined token when the
  last arrives;
* a process's start listeners: right after each of its start events (not an
  event sub-process's), before the start events' own listeners. Its end
  listeners are not drawn: the engine runs them when the instance ends
  (process_end.py).

Each function returns whether it drew the task; a listener not drawn is left
in place, and `checks._listeners` refuses it, located.
"""

from __future__ import annotations

import ast
import re

from lxml import etree

from .xml import BPMN, NSMAP, local_name, unique_id

_SPLITS_AHEAD = frozenset({"parallelGateway", "inclusiveGateway"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _script_task(
    container: etree._Element, ident: str, body: str, line: int | None
) -> etree._Element:
    task = etree.SubElement(
        container,
        f"{{{BPMN}}}scriptTask",
        id=ident,
        name="Listener",
        scriptFormat="python",
    )
    script = etree.SubElement(task, f"{{{BPMN}}}script")
    script.text = body
    if line:
        task.sourceline = line
        script.sourceline = line
    return task


def _flow(
    container: etree._Element, ident: str, source: str, target: str, line: int | None
) -> etree._Element:
    flow = etree.SubElement(
        container,
        f"{{{BPMN}}}sequenceFlow",
        id=ident,
        sourceRef=source,
        targetRef=target,
    )
    if line:
        flow.sourceline = line
    return flow


def _retarget_refs(node: etree._Element, tag: str, old: str, new: str) -> None:
    for ref in node.findall(f"bpmn:{tag}", NSMAP):
        if (ref.text or "").strip() == old:
            ref.text = new


def _drawable(flow: etree._Element) -> bool:
    """Whether a script task can be drawn on `flow` (both ends beside it, and
    not out of an event-based gateway, whose flows lead to its events)."""
    container = flow.getparent()
    by_id = {e.get("id"): e for e in container if isinstance(e.tag, str)}
    source, target = by_id.get(flow.get("sourceRef")), by_id.get(flow.get("targetRef"))
    return not (
        source is None or target is None or local_name(source) == "eventBasedGateway"
    )


def on_flow(
    flow: etree._Element,
    body: str,
    line: int | None,
    taken: set[str],
    name: str | None = None,
) -> bool:
    """Draw a script task on `flow`, after its condition (event take); `name`
    bases the new ids (else the flow's id, `_take`)."""
    if not _drawable(flow):
        return False
    container = flow.getparent()
    target = next(
        e
        for e in container
        if isinstance(e.tag, str) and e.get("id") == flow.get("targetRef")
    )
    flow_id = str(flow.get("id"))
    task_id = unique_id(name or f"{flow_id}_take", taken)
    after_id = unique_id(f"{name or flow_id}_taken", taken)
    task = _script_task(container, task_id, body, line)
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = flow_id
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = after_id
    _flow(container, after_id, task_id, str(target.get("id")), line)
    flow.set("targetRef", task_id)
    _retarget_refs(target, "incoming", flow_id, after_id)
    return True


def after(event: etree._Element, body: str, line: int | None, taken: set[str]) -> bool:
    """Insert a script task between `event` and the targets of its outgoing flows."""
    container = event.getparent()
    event_id = str(event.get("id"))
    flows = _flows(event, "sourceRef")
    if len(flows) != 1:
        return False
    task_id = unique_id(f"{event_id}_end", taken)
    flow_id = unique_id(f"{event_id}_ended", taken)
    task = _script_task(container, task_id, body, line)
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = flow_id
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = flows[0].get("id")
    _flow(container, flow_id, event_id, task_id, line)
    flows[0].set("sourceRef", task_id)
    _retarget_refs(event, "outgoing", str(flows[0].get("id")), flow_id)
    return True


def before(event: etree._Element, body: str, line: int | None, taken: set[str]) -> bool:
    """Insert a script task between the incoming flows of `event` and `event`."""
    container = event.getparent()
    event_id = str(event.get("id"))
    flows = _flows(event, "targetRef")
    by_id = {e.get("id"): e for e in container if isinstance(e.tag, str)}
    if not flows or any(
        local_name(by_id.get(f.get("sourceRef"), event)) == "eventBasedGateway"
        for f in flows
    ):
        return False
    task_id = unique_id(f"{event_id}_start", taken)
    flow_id = unique_id(f"{event_id}_started", taken)
    task = _script_task(container, task_id, body, line)
    for flow in flows:
        etree.SubElement(task, f"{{{BPMN}}}incoming").text = flow.get("id")
        flow.set("targetRef", task_id)
        _retarget_refs(event, "incoming", str(flow.get("id")), flow_id)
    for ref in event.findall("bpmn:incoming", NSMAP)[1:]:
        event.remove(ref)
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = flow_id
    _flow(container, flow_id, task_id, event_id, line)
    return True


def _flows(node: etree._Element, end: str) -> list[etree._Element]:
    """The sequence flows beside `node` whose `end` (sourceRef, targetRef) it is."""
    ident = node.get("id")
    return [
        f
        for f in node.getparent().iterfind("bpmn:sequenceFlow", NSMAP)
        if f.get(end) == ident
    ]


def _on_each(
    flows: list[etree._Element], body: str, line: int | None, taken: set[str], name: str
) -> bool:
    if not flows or not all(_drawable(f) for f in flows):
        return False
    for flow in flows:
        on_flow(flow, body, line, taken, name)
    return True


def stored_names(body: str) -> set[str] | None:
    """The names a Python body assigns, or None when it does not parse."""
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return None
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _sets_what_conditions_read(body: str, flows: list[etree._Element]) -> bool:
    stored = stored_names(body)
    if stored is None:
        return True  # compiled, and refused located, elsewhere; never reordered
    read = {
        word
        for flow in flows
        for condition in flow.iterfind("bpmn:conditionExpression", NSMAP)
        for word in _NAME.findall(condition.text or "")
    }
    return bool(stored & read)


def on_gateway(
    gateway: etree._Element, when: str, body: str, line: int | None, taken: set[str]
) -> bool:
    """Draw a gateway's start or end listeners (module docstring)."""
    kind, ident = local_name(gateway), str(gateway.get("id"))
    incoming, outgoing = _flows(gateway, "targetRef"), _flows(gateway, "sourceRef")
    if when == "start":
        return _on_each(incoming, body, line, taken, f"{ident}_start")
    if when != "end":
        return False
    if kind == "exclusiveGateway":
        return _on_each(outgoing, body, line, taken, f"{ident}_end")
    if (
        kind in _SPLITS_AHEAD
        and len(incoming) == 1
        and not (
            kind == "inclusiveGateway" and _sets_what_conditions_read(body, outgoing)
        )
    ):
        return _on_each(incoming, body, line, taken, f"{ident}_end")
    return False


def on_process(
    process: etree._Element, when: str, body: str, line: int | None, taken: set[str]
) -> bool:
    """Draw a process's start listeners after each of its start events."""
    starts = process.findall("bpmn:startEvent", NSMAP)
    if when != "start" or not starts:
        return False
    outgoing = [
        [
            f
            for f in process.iterfind("bpmn:sequenceFlow", NSMAP)
            if f.get("sourceRef") == start.get("id")
        ]
        for start in starts
    ]
    if any(len(flows) != 1 or not _drawable(flows[0]) for flows in outgoing):
        return False
    return all(after(start, body, line, taken) for start in starts)


def why_not_drawn(owner: etree._Element, when: str) -> str | None:
    """Say why a gateway's or a process's listener is not drawn, else None."""
    kind = local_name(owner)
    if kind == "process" and when == "start":
        return (
            "a process's start listeners run here after each of its start "
            "events, which each need exactly one outgoing flow"
        )
    if kind in _SPLITS_AHEAD and when == "end":
        if len(_flows(owner, "targetRef")) != 1:
            return (
                "Camunda 7 runs a joining gateway's end listeners once for each "
                "joined token when the last one arrives, which cannot be drawn here"
            )
        return (
            "it sets a variable a condition of this inclusive gateway reads, and "
            "Camunda 7 runs it after the gateway has chosen its flows"
        )
    return None
