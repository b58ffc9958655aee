"""A message drawn to an outside party leaves the engine: it is not delivered here.

A message throw or end event whose message flows all go to a pool the engine
does not run (a participant without a process, or whose process is not
executable: the customer, the bank) sends its message to that party (BPMN
2.0.2 §9.3, message flows between participants). Camunda 7 runs such an event
without an implementation as a none event (Reference, Message Events,
"Message Intermediate Throwing Event"). Laneway delivered the message by name
to its own cases instead, and when none waited the sending case got an
incident ("no case waits") for a message that was never meant for the engine.

So such an event becomes a none event (its message definition is dropped from
the normalized XML), unless its definition names an implementation (then it
runs like a service task, as in Camunda 7). A message flow to a pool or
element of an executable process of the file, or no message flow at all,
keeps the delivery by name.
"""

from __future__ import annotations

from lxml import etree

from .xml import NSMAP


def _executable_parts(root: etree._Element) -> tuple[set[str], set[str]]:
    """Return the ids of the participants and elements the engine runs."""
    processes = {
        str(p.get("id")): p
        for p in root.iterfind("bpmn:process", NSMAP)
        if p.get("isExecutable") != "false"
    }
    participants = {
        str(p.get("id"))
        for p in root.iterfind(".//bpmn:participant", NSMAP)
        if p.get("processRef") in processes
    }
    elements = {
        str(e.get("id"))
        for process in processes.values()
        for e in process.iter(etree.Element)
        if e.get("id")
    }
    return participants, elements


def outside_messages_drop(root: etree._Element) -> None:
    """Make, in place, a message throw/end event whose message flows all leave
    the engine's pools a none event."""
    flows: dict[str, list[str]] = {}
    for flow in root.iterfind(".//bpmn:messageFlow", NSMAP):
        flows.setdefault(str(flow.get("sourceRef")), []).append(
            str(flow.get("targetRef"))
        )
    if not flows:
        return
    participants, elements = _executable_parts(root)
    for event in root.xpath(
        ".//bpmn:intermediateThrowEvent | .//bpmn:endEvent", namespaces=NSMAP
    ):
        targets = flows.get(str(event.get("id")))
        definitions = [
            c
            for c in event
            if isinstance(c.tag, str)
            and etree.QName(c).localname.endswith("EventDefinition")
        ]
        if not targets or len(definitions) != 1:
            continue
        definition = definitions[0]
        if etree.QName(definition).localname != "messageEventDefinition":
            continue
        if set(definition.attrib) - {"id", "messageRef"} or len(definition):
            continue  # an implementation (camunda:class, a topic...) runs, as Camunda
        if any(t in participants or t in elements for t in targets):
            continue
        event.remove(definition)  # a none event, as Camunda 7 runs it
