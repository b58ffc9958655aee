"""Message flows to outside parties: the senders whose messages leave Laneway.

An analyst draws "we send the customer a letter" in Camunda Modeler as a message
throw or end event (or a send task) with a message flow to a black-box pool: a
collapsed participant without a process, or a pool whose process is not
executable. Camunda 7 runs a message throw or end event without an
implementation as a none event (BpmnParse: IntermediateThrowNoneEventActivityBehavior).
Laneway delivers the message by name to the cases and processes it runs and
makes one that nothing takes an incident (engine.services.message_sends); for a
sender reported here, whose every message flow goes to an outside party, it
completes as Camunda runs it instead, unless a deployed process catches the name.

Read from the normalized XML, which is what every version stores and is compiled
from (hygiene has dropped the non-executable processes there: a processRef or a
flow's targetRef that names nothing in the document was in one), so a version
deployed before this fact existed has it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from .xml import NSMAP, local_name

_FLOWS = "bpmn:collaboration/bpmn:messageFlow"


def _ref(element: etree._Element, name: str) -> str:
    return (element.get(name) or "").strip().rpartition(":")[2]  # a QName's local part


def _name(participant: etree._Element) -> str:
    return (participant.get("name") or "").strip() or str(participant.get("id"))


def _party(target: str, root: etree._Element, running: set[str]) -> str | None:
    """Name the outside party a flow's target is, or None when Laneway runs it."""
    if target in running:
        return None  # an executable process's pool or one of its elements
    found = root.xpath("//*[@id=$id]", id=target)
    if not found:
        # An element of a non-executable pool, which hygiene dropped: of the one
        # pool whose process is gone, if there is one (a collapsed pool has none).
        ids = set(root.xpath("//@id"))
        dropped = [
            p
            for p in root.iterfind("bpmn:collaboration/bpmn:participant", NSMAP)
            if _ref(p, "processRef") and _ref(p, "processRef") not in ids
        ]
        return _name(dropped[0]) if len(dropped) == 1 else target
    element = found[0]
    if local_name(element) != "participant":
        return None  # something else the diagram draws: not known to be outside
    return _name(element)  # a collapsed pool, or one whose process does not run


def _running(root: etree._Element) -> set[str]:
    """The ids of the executable processes, their participants and their elements."""
    ids: set[str] = set()
    for process in root.iterfind("bpmn:process", NSMAP):
        if process.get("isExecutable") != "false":  # absent runs, as in Camunda
            ids.update(str(i) for i in process.xpath(".//@id"))
    for participant in root.iterfind("bpmn:collaboration/bpmn:participant", NSMAP):
        if _ref(participant, "processRef") in ids:
            ids.add(str(participant.get("id")))
    return ids


def outside_senders(roots: Iterable[etree._Element]) -> dict[str, str]:
    """Return the elements whose every message flow goes to an outside party.

    Keyed by element id, each with the parties' names (", "-joined; a party
    without a name by its id). An element with no message flow, or with one
    to a pool Laneway runs, is not here.
    """
    found: dict[str, str] = {}
    for root in roots:
        flows = root.findall(_FLOWS, NSMAP)
        if not flows:
            continue  # no collaboration drawn (most files): no walk
        running = _running(root)
        parties: dict[str, list[str | None]] = {}
        for flow in flows:
            source = _ref(flow, "sourceRef")
            if source in running:
                party = _party(_ref(flow, "targetRef"), root, running)
                parties.setdefault(source, []).append(party)
        for source, names in parties.items():
            if None not in names:
                found[source] = ", ".join(dict.fromkeys(n for n in names if n))
    return found
