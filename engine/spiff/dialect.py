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


def _drawn_for_camunda(root: etree._Element) -> bool:
    used = _namespaces_used(root)
    if SPIFF in used:
        return False
    platform = root.get(f"{{{_MODELER}}}executionPlatform") or ""
    return bool(used.intersection(_CAMUNDA_NAMESPACES)) or platform.startswith(
        "Camunda"
    )


def spiffarena_drawn(root: etree._Element) -> bool:
    """Return whether the diagram uses SpiffWorkflow's namespace (SpiffArena's
    extensions); only meaningful before Laneway writes its own in (tidy)."""
    return SPIFF in _namespaces_used(root)


def dialect_mark(root: etree._Element) -> None:
    """Record, in place, the dialect of the diagram as uploaded.

    Decided from what the diagram uses, whatever mark an upload carries.
    """
    root.set(_MARK, _CAMUNDA if _drawn_for_camunda(root) else "bpmn")


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
