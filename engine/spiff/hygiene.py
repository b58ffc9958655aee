"""Diagram hygiene: what modelers draw that changes nothing, made runnable (issue 9).

Applied to the parsed upload before any check; the stored original XML stays as
uploaded, only the normalized XML (what runs) carries these changes:

- processes with isExecutable="false" (pools of other parties) are dropped when
  the file has an executable process: Camunda neither checks nor runs them;
- sequence flows without an id get one (SpiffWorkflow would drop them);
- the ids `Start` and `End`, which SpiffWorkflow uses for its own specs, are
  renamed, with every reference to them;
- data stores, their references and associations are drawing only (Camunda
  ignores them; nothing implements them here) and are dropped, except a data
  store reference a task reads or writes in a SpiffArena diagram (its
  extensions are `spiffworkflow:`): SpiffArena runs it through a store it
  registers (JSON, KKV), which Laneway has not, so the upload refuses it
  (checks.py) rather than run the diagram without its data;
- a message intermediate throw or end event naming no message and no
  implementation is a none event, as Camunda 7 runs it;
- Flowable and Activiti attributes and extension elements (`flowable:candidateGroups`,
  `activiti:assignee`, `flowable:formKey`, ...) are read as their Camunda
  equivalents: moved into the Camunda namespace, where every Camunda check applies
  (what Camunda does not run is refused there, located). Flowable's
  `formFieldValidation` (validate form fields on submit) is dropped: Laneway always
  validates them.
- the dialect the diagram is drawn in (Camunda 7, or SpiffWorkflow / plain BPMN) is
  recorded on its definitions before Laneway writes anything of its own in
  (dialect.py).
"""

from __future__ import annotations

from lxml import etree

from .dialect import dialect_mark, spiffarena_drawn
from .listeners import translate_listeners
from .xml import CAMUNDA, ID_VALUES, NSMAP, compiled_xpath, local_name, unique_id

RESERVED_IDS = frozenset({"Start", "End"})
DIALECTS = ("http://flowable.org/bpmn", "http://activiti.org/bpmn")
_ALWAYS_DONE = frozenset({"formFieldValidation"})
# Attributes and child elements whose value names another element by id.
_REF_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "default", "bpmnElement")
_REF_ELEMENTS = frozenset(
    {"incoming", "outgoing", "flowNodeRef", "sourceRef", "targetRef"}
)


def _ids(root: etree._Element) -> set[str]:
    found = ID_VALUES(root)
    ids = set(found)
    if len(found) < compiled_xpath("count(descendant-or-self::*)")(root):
        ids.add("None")  # an element without id, as str(None) has always added
    return ids


def _drop_non_executable(root: etree._Element) -> None:
    processes = root.findall("bpmn:process", NSMAP)
    if not any(p.get("isExecutable") == "true" for p in processes):
        return  # nothing runs: the upload says so
    called = {
        c.get("calledElement") for c in root.iterfind(".//bpmn:callActivity", NSMAP)
    }
    for process in processes:
        # Absent isExecutable runs, as in Camunda; a called one stays, so that the
        # call is refused as calling a non-executable process of this file.
        if process.get("isExecutable") == "false" and process.get("id") not in called:
            root.remove(process)


def _name_flows(root: etree._Element, taken: set[str]) -> None:
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP):
        if not (flow.get("id") or "").strip():
            base = f"Flow_{flow.get('sourceRef', '')}_{flow.get('targetRef', '')}"
            flow.set("id", unique_id(base, taken))


def _rename(root: etree._Element, old: str, new: str) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get("id") == old:
            element.set("id", new)
        for name in _REF_ATTRIBUTES:
            if element.get(name) == old:
                element.set(name, new)
        if local_name(element) in _REF_ELEMENTS and (element.text or "").strip() == old:
            element.text = new


def _rename_reserved(root: etree._Element, taken: set[str]) -> None:
    if RESERVED_IDS.isdisjoint(ID_VALUES(root)):
        return  # no reserved id (most files): no walk
    for element in list(root.iter()):
        if isinstance(element.tag, str) and element.get("id") in RESERVED_IDS:
            old = str(element.get("id"))
            _rename(root, old, unique_id(f"{old}_{local_name(element)}", taken))


def _drop_data_stores(root: etree._Element) -> None:
    stores = root.findall(".//bpmn:dataStoreReference", NSMAP)
    ids = {s.get("id") for s in stores}
    associations = [
        association
        for association in root.xpath(
            ".//bpmn:dataInputAssociation | .//bpmn:dataOutputAssociation",
            namespaces=NSMAP,
        )
        if ids.intersection(
            (r.text or "").strip()
            for r in association.xpath(
                "bpmn:sourceRef | bpmn:targetRef", namespaces=NSMAP
            )
        )
    ]
    if associations and spiffarena_drawn(root):
        used = {
            (r.text or "").strip()
            for association in associations
            for r in association.xpath(
                "bpmn:sourceRef | bpmn:targetRef", namespaces=NSMAP
            )
        }
        stores = [s for s in stores if s.get("id") not in used]  # refused (checks.py)
        associations = []
    for element in [*associations, *stores, *root.findall(".//bpmn:dataStore", NSMAP)]:
        element.getparent().remove(element)


def _message_throws_without_message(root: etree._Element) -> None:
    """A message intermediate throw or end event that names no message and no
    implementation is a none event, as Camunda 7 runs it."""
    for definition in root.xpath(
        ".//bpmn:intermediateThrowEvent/bpmn:messageEventDefinition"
        " | .//bpmn:endEvent/bpmn:messageEventDefinition",
        namespaces=NSMAP,
    ):
        event = definition.getparent()
        implemented = (
            any(etree.QName(name).namespace for name in definition.attrib)
            or event.find("bpmn:extensionElements", NSMAP) is not None
        )
        if (
            not definition.get("messageRef")
            and not implemented
            and len(definition) == 0
        ):
            event.remove(definition)


_IN_DIALECT = tuple(f"{{{namespace}}}" for namespace in DIALECTS)


def _as_camunda(root: etree._Element) -> None:
    if not _in_dialect(root):
        return  # no Flowable or Activiti name anywhere (most files)
    for element in root.iter():
        # Names in a dialect's namespace start with "{namespace}" (no QName needed).
        if not isinstance(element.tag, str):
            continue
        if element.tag.startswith(_IN_DIALECT):
            element.tag = f"{{{CAMUNDA}}}{etree.QName(element).localname}"
        for name in [n for n in element.attrib if n.startswith(_IN_DIALECT)]:
            attr = etree.QName(name)
            value = element.attrib.pop(name)
            target = f"{{{CAMUNDA}}}{attr.localname}"
            if attr.localname not in _ALWAYS_DONE and target not in element.attrib:
                element.set(target, value)


def tidy(root: etree._Element) -> None:
    """Make the drawing-only parts of a diagram inert, in place (module docstring)."""
    _as_camunda(root)
    dialect_mark(root)  # before anything of SpiffWorkflow's is written in
    _drop_data_stores(root)  # as dialect_mark, on the diagram as uploaded
    _drop_non_executable(root)
    taken = _ids(root)
    _name_flows(root, taken)
    translate_listeners(root, taken)
    _rename_reserved(root, taken)
    _message_throws_without_message(root)


# Every element's id (root included), as plain strings: one walk in C.


_DIALECT_PREFIXES = tuple((f"d{n}", ns) for n, ns in enumerate(DIALECTS))


def _in_dialect(root: etree._Element) -> bool:
    """Whether an element or attribute of the document is in a dialect's namespace."""
    if next(root.iter(*(f"{{{ns}}}*" for ns in DIALECTS)), None) is not None:
        return True
    path = " | ".join(f"descendant-or-self::*/@{p}:*" for p, _ in _DIALECT_PREFIXES)
    return bool(compiled_xpath(path, _DIALECT_PREFIXES)(root))
