"""Which engine a diagram is drawn for: Camunda 7 (or Operaton), or SpiffWorkflow.

Where Camunda 7 and SpiffWorkflow read one construct differently, and plain
BPMN 2.0 leaves it to the engine, Laneway runs a diagram as the engine it was
drawn for runs it: a call activity without `camunda:in` or `camunda:out`
(call_data.py), data
objects and ioSpecifications (data_objects.py).

A diagram is in the Camunda dialect when it uses a `camunda:` / `operaton:` /
`zeebe:` element or attribute (Flowable's and Activiti's names count: tidy
renames them into Camunda's), or Camunda Modeler's execution platform says
Camunda (7 or 8), and it uses nothing in SpiffWorkflow's namespace. A
SpiffArena diagram (its extensions are `spiffworkflow:`) or a plain BPMN one
is not.

Who wrote the file decides where its extensions alone do not. SpiffArena's
modeler (bpmn-js-spiffworkflow) also writes exporter="Camunda Modeler", so the
exporter does not tell them apart; what does: Camunda Modeler (4.7 and later)
writes `modeler:executionPlatform` (the engine the author chose: Camunda
wins), SpiffArena declares the `spiffworkflow` namespace (or names itself in
the exporter). An uploaded file that SpiffArena wrote is not in the Camunda
dialect even when it carries stray `camunda:` names (an attribute kept from a
template, a property an earlier tool left) and uses no `spiffworkflow:` name
yet; a file Camunda Modeler wrote for Camunda 7 (the execution platform set)
keeps Camunda 7's reading even when it declares SpiffWorkflow's namespace. A
file with neither mark is decided by the names it uses, as above. The
SpiffArena mark is read on the upload only: the stored XML declares
SpiffWorkflow's namespace for what Laneway writes into it.

Laneway itself writes `spiffworkflow:` extensions into the diagram it stores
(listener scripts, service task operators), so the dialect is decided once, on
the diagram as uploaded (`dialect_mark`, by tidy), and kept on the stored XML
as an attribute of its definitions: reading the stored XML again decides the
same. A diagram stored before the mark is decided by what it uses, except where
the reading changed with the mark: a call activity of a version deployed
before it still passes every variable without `camunda:in` and brings nothing
back without `camunda:out` (its running cases go on as they started; upload
the diagram again for the reading of its dialect).
"""

from __future__ import annotations

from lxml import etree

from .xml import SPIFF, VENDOR_NAMESPACES

LANEWAY = "urn:laneway:bpmn"
_MARK = f"{{{LANEWAY}}}dialect"
_CAMUNDA = "camunda"
_MODELER = "http://camunda.org/schema/modeler/1.0"
_ZEEBE = "http://camunda.org/schema/zeebe/1.0"
_CAMUNDA_NAMESPACES = {*VENDOR_NAMESPACES, _ZEEBE}


def _namespaces_used(root: etree._Element) -> set[str]:
    used: set[str] = set()
    for element in root.iter(etree.Element):
        used.add(etree.QName(element).namespace or "")
        for name in element.attrib:
            used.add(etree.QName(name).namespace or "")
    return used


def _written_by_spiffarena(root: etree._Element) -> bool:
    """Whether SpiffArena's modeler wrote the file (module docstring)."""
    if "spiff" in (root.get("exporter") or "").lower():
        return True
    return bool(root.xpath("//namespace::*[. = $ns]", ns=SPIFF))


def _drawn_for_camunda(root: etree._Element, *, uploaded: bool = False) -> bool:
    used = _namespaces_used(root)
    if SPIFF in used:
        return False
    platform = root.get(f"{{{_MODELER}}}executionPlatform") or ""
    if platform.startswith("Camunda"):
        return True
    if uploaded and _written_by_spiffarena(root):
        return False
    return bool(used.intersection(_CAMUNDA_NAMESPACES))


def spiffarena_drawn(root: etree._Element) -> bool:
    """Return whether the diagram uses SpiffWorkflow's namespace (SpiffArena's
    extensions); only meaningful before Laneway writes its own in (tidy)."""
    return SPIFF in _namespaces_used(root)


def dialect_mark(root: etree._Element) -> None:
    """Record, in place, the dialect of the diagram as uploaded.

    Decided from what the diagram uses, whatever mark an upload carries.
    """
    camunda = _drawn_for_camunda(root, uploaded=True)
    root.set(_MARK, _CAMUNDA if camunda else "bpmn")


def is_camunda_dialect(node: etree._Element, *, unmarked: bool | None = None) -> bool:
    """Return whether the diagram holding `node` is drawn for Camunda 7 / Operaton.

    `unmarked`: the answer for a diagram stored before the mark, where a reading
    must not change under the cases its versions already run; None: decided by
    what the stored diagram uses.
    """
    root = node.getroottree().getroot()
    marked = root.get(_MARK)
    if marked is not None:
        return marked == _CAMUNDA
    if unmarked is not None:
        return unmarked
    return _drawn_for_camunda(root)
