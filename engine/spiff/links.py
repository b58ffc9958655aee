"""Link events as Camunda 7 runs them: a link throw continues at its catch.

SpiffWorkflow 3.2 has no link events (a link throw would end its path and the
catch never run). Camunda 7 (BpmnParse) creates no activity for a link throw:
a flow into it goes to the link catch event of the same name, which leaves at
once. BPMN 2.0 calls the pair a sequence flow drawn in two halves. So a valid
pair is rewritten, in place, into what SpiffWorkflow runs:

- the throw becomes a none intermediate throw event with one synthetic
  sequence flow (line of the throw) to its catch;
- the catch becomes a none intermediate catch event, which completes at once.

Both keep their ids, so the diagram, the history and the cockpit show the
elements the analyst drew; the stored original XML is untouched. Several
throws may target one catch (the catch runs once per arriving token, as a
task with several incoming flows does).

What Camunda 7 refuses (or BPMN 2.0 forbids) is refused, located:

- a link event definition on anything but an intermediate throw or catch event;
- a link without a name (nothing to match);
- two link catch events with one name in a file (Camunda 7 keeps one table of
  link catches per file, so even in different sub-processes);
- a throw whose name no catch of its own process or sub-process has (a link
  never crosses a sub-process boundary);
- a sequence flow into a link catch or out of a link throw;
- an execution listener on a link throw (`link_listener_problems`, read before
  listeners are translated): Camunda 7 never runs it, the rewritten none event
  would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from .types import Problem
from .xml import BPMN, NSMAP, VENDOR_NAMESPACES, local_name, unique_id

LINK = "linkEventDefinition"
_INTERMEDIATE = ("intermediateThrowEvent", "intermediateCatchEvent")
_EVENT_DEFINITION = "EventDefinition"


_KINDS = {
    "intermediateThrowEvent": "link throw event",
    "intermediateCatchEvent": "link catch event",
    "startEvent": "start event",
    "endEvent": "end event",
    "boundaryEvent": "boundary event",
}


def _describe(element: etree._Element) -> str:
    kind = _KINDS.get(local_name(element), local_name(element))
    name = " ".join((element.get("name") or "").split())
    ident = element.get("id") or "?"
    return f"{kind} '{ident}'" + (f" ({name})" if name and name != ident else "")


def _refused(event: etree._Element, why: str) -> Problem:
    return Problem(
        f"The {_describe(event)} is refused: {why}.", event.sourceline, event.get("id")
    )


def _definitions(event: etree._Element) -> Iterator[etree._Element]:
    return (
        c
        for c in event
        if isinstance(c.tag, str) and local_name(c).endswith(_EVENT_DEFINITION)
    )


def _link(event: etree._Element) -> etree._Element | None:
    """The event's link definition when it is its only event definition."""
    definitions = list(_definitions(event))
    if len(definitions) == 1 and local_name(definitions[0]) == LINK:
        return definitions[0]
    return None  # several definitions: support.MULTIPLE_EVENTS refuses it


def _name(definition: etree._Element) -> str:
    return (definition.get("name") or "").strip()


def _flows(container: etree._Element, end: str, ident: str) -> list[etree._Element]:
    return [
        f for f in container.iterfind("bpmn:sequenceFlow", NSMAP) if f.get(end) == ident
    ]


class _Links:
    """The link events of one file: catches by name, throws, what is wrong."""

    def __init__(self, root: etree._Element) -> None:
        self.problems: list[Problem] = []
        self.catches: dict[str, etree._Element] = {}
        self.throws: list[tuple[etree._Element, str]] = []
        for definition in root.iter(f"{{{BPMN}}}{LINK}"):
            self._read(definition)

    def _read(self, definition: etree._Element) -> None:
        event = definition.getparent()
        if local_name(event) not in _INTERMEDIATE:
            self.problems.append(
                _refused(
                    event,
                    "a link event is an intermediate throw or catch event only "
                    "(BPMN 2.0; Camunda 7 does not run it here either); draw a "
                    "sequence flow instead",
                )
            )
            return
        if _link(event) is None:
            return
        name = _name(definition)
        if not name:
            self.problems.append(
                _refused(
                    event,
                    "its link has no name, and a link throw continues at the link "
                    "catch event of the same name; name the link on both events",
                )
            )
        elif local_name(event) == "intermediateCatchEvent":
            self._catch(event, name)
        else:
            self.throws.append((event, name))

    def _catch(self, event: etree._Element, name: str) -> None:
        first = self.catches.get(name)
        if first is not None:
            self.problems.append(
                _refused(
                    event,
                    f"the link catch event '{first.get('id')}' (line "
                    f"{first.sourceline}) has the link name {name!r} too; Camunda 7 "
                    "allows one link catch event per name in a file, even in "
                    "different sub-processes: rename one of them",
                )
            )
            return
        self.catches[name] = event
        if _flows(event.getparent(), "targetRef", str(event.get("id"))):
            self.problems.append(
                _refused(
                    event,
                    "a sequence flow leads into it, but a link catch event is "
                    "entered only from its link throw events (BPMN 2.0: a link "
                    "event is never both the target and the source of flows); "
                    "connect the flow to a link throw event of the same name",
                )
            )

    def throw_problems(self) -> Iterator[Problem]:
        for event, name in self.throws:
            if _flows(event.getparent(), "sourceRef", str(event.get("id"))):
                yield _refused(
                    event,
                    "a sequence flow leaves it, but a link throw event ends its "
                    "path here and continues at its link catch event (Camunda 7 "
                    "refuses it too); start that flow at the link catch event",
                )
            catch = self.catches.get(name)
            if catch is None:
                yield _refused(
                    event,
                    f"no link catch event is named {name!r}, so the path would "
                    "stop here (Camunda 7 refuses it too); add an intermediate "
                    "catch event with that link name",
                )
            elif catch.getparent() is not event.getparent():
                yield _refused(
                    event,
                    f"its link catch event '{catch.get('id')}' (line "
                    f"{catch.sourceline}) is in another process or sub-process; a "
                    "link continues only at a catch event of its own level "
                    "(Camunda 7 refuses it too)",
                )


def _as_none_event(event: etree._Element) -> None:
    definition = _link(event)
    if definition is not None:
        event.remove(definition)


def _ref(event: etree._Element, kind: str, flow_id: str) -> None:
    """Add an `<incoming>`/`<outgoing>` reference where BPMN 2.0 places it."""
    before: tuple[str, ...] = ("documentation", "extensionElements", "incoming")
    before += ("outgoing",) if kind == "outgoing" else ()
    at = 0
    for index, child in enumerate(event):
        if isinstance(child.tag, str) and local_name(child) in before:
            at = index + 1
    ref = etree.Element(f"{{{BPMN}}}{kind}")
    ref.text = flow_id
    event.insert(at, ref)


def _join(throw: etree._Element, catch: etree._Element, taken: set[str]) -> None:
    """Replace a valid throw/catch pair by the sequence flow it stands for."""
    flow_id = unique_id(f"{throw.get('id')}_link", taken)
    flow = etree.Element(
        f"{{{BPMN}}}sequenceFlow",
        id=flow_id,
        sourceRef=str(throw.get("id")),
        targetRef=str(catch.get("id")),
    )
    if throw.sourceline:
        flow.sourceline = throw.sourceline
    throw.addnext(flow)
    _ref(throw, "outgoing", flow_id)
    _ref(catch, "incoming", flow_id)
    _as_none_event(throw)


def links_resolve(root: etree._Element) -> list[Problem]:
    """Rewrite link pairs into sequence flows, in place; return what is refused.

    Nothing is rewritten when a problem is found (the upload is refused anyway,
    and each link event keeps its own message). Idempotent: the rewritten tree
    holds no link event any more.
    """
    links = _Links(root)
    problems = [*links.problems, *links.throw_problems()]
    if problems or not (links.throws or links.catches):
        return problems
    taken = {str(e.get("id")) for e in root.iter() if isinstance(e.tag, str)}
    for throw, name in links.throws:
        _join(throw, links.catches[name], taken)
    for catch in links.catches.values():
        _as_none_event(catch)
    return []


def is_link_flow(flow: etree._Element, container: etree._Element) -> bool:
    """Whether a sequence flow of normalized XML is one `_join` added for a link pair.

    It is not drawn in the diagram, so no one may choose it (a case modification's
    start_transition, an incident's way out): it joins a none throw event to a
    none catch event (what `_join` leaves of the pair) and is named after the
    throw as `unique_id` names it. Read from the structure, so versions
    normalized before this was asked know their link flows too.
    """
    source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
    if not re.fullmatch(rf"{re.escape(source)}_link(_\d+)?", flow.get("id") or ""):
        return False
    ends = {
        str(e.get("id")): e
        for e in container
        if isinstance(e.tag, str) and e.get("id") in (source, target)
    }
    return (
        source in ends
        and target in ends
        and local_name(ends[source]) == "intermediateThrowEvent"
        and local_name(ends[target]) == "intermediateCatchEvent"
        and not any(_definitions(ends[source]))
        and not any(_definitions(ends[target]))
    )


def link_listener_problems(root: etree._Element) -> list[Problem]:
    """Execution listeners on link throw events, refused before they are translated.

    Camunda 7 creates no activity for a link throw, so its listeners never run;
    here the throw becomes a none event whose listeners would.
    """
    problems = []
    for throw in root.iterfind(".//bpmn:intermediateThrowEvent", NSMAP):
        if _link(throw) is None:
            continue
        listeners = [
            element
            for namespace in VENDOR_NAMESPACES
            for element in throw.iterfind(
                f"bpmn:extensionElements/{{{namespace}}}executionListener", NSMAP
            )
        ]
        if listeners:
            problems.append(
                _refused(
                    throw,
                    "Camunda 7 never runs an execution listener on a link throw "
                    "event (it creates no activity for it); move the listener to "
                    "the link catch event or the sequence flow before the throw",
                )
            )
    return problems
