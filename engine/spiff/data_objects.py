"""Data objects, data stores and ioSpecifications are documentation in Camunda 7.

Camunda 7 does not execute data objects, data stores, data associations or an
activity's or process's ioSpecification (data inputs and outputs): its BPMN
implementation reference lists none of them, and a diagram drawn with them
deploys and runs as if they were not there. SpiffWorkflow runs a data object
as a process-level variable named by its id (BPMN 2.0.2 §10.4.1 data
associations): an output association whose task has no such variable stops
the case, and an input association before any output does too. It runs an
ioSpecification too: a task whose data input is no variable stops ("Missing
data input"), one with data outputs keeps only them, and a called process's
data outputs come back to the caller without any camunda:out.

So a diagram in the Camunda dialect (dialect.py: it uses the Camunda, Operaton
or Zeebe namespace and nothing of SpiffWorkflow's) loses its data associations and
ioSpecifications here, and runs as Camunda 7 runs it. A SpiffArena diagram
(its extensions are `spiffworkflow:`), or a plain BPMN one, keeps
SpiffWorkflow's data objects and ioSpecifications, which SpiffArena diagrams
use on purpose.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .dialect import is_camunda_dialect
from .xml import NSMAP

_DATA_REFERENCES = ("dataObjectReference", "dataObject", "dataStoreReference")


def camunda_data_associations_drop(root: etree._Element) -> None:
    """Remove, in place, the ioSpecifications of a Camunda-dialect diagram and
    the data associations that read or write a data object, a data store or a
    data input or output (Camunda 7 ignores them)."""
    associations = _ASSOCIATIONS(root)
    specifications = _IO_SPECIFICATIONS(root)
    if not (associations or specifications) or not is_camunda_dialect(root):
        return
    io_ids = {
        str(element.get("id"))
        for specification in specifications
        for element in specification
        if isinstance(element.tag, str) and element.get("id")
    }
    for specification in specifications:
        parent = specification.getparent()
        if parent is not None:
            parent.remove(specification)
    kinds = {
        str(element.get("id")): etree.QName(element).localname
        for element in root.iter(*(f"{{{NSMAP['bpmn']}}}{k}" for k in _DATA_REFERENCES))
    }
    for association in associations:
        refs = [
            (ref.text or "").strip()
            for ref in association.xpath(
                "bpmn:sourceRef | bpmn:targetRef", namespaces=NSMAP
            )
        ]
        if any(ref in kinds or ref in io_ids for ref in refs):
            parent = association.getparent()
            if parent is not None:
                parent.remove(association)


_IO_SPECIFICATIONS = etree.XPath(".//bpmn:ioSpecification", namespaces=NSMAP)
_ASSOCIATIONS = etree.XPath(
    ".//bpmn:dataInputAssociation | .//bpmn:dataOutputAssociation",
    namespaces=NSMAP,
)


class DataObjectScopeMixin:
    """A task's data association finds its data object in the nearest enclosing
    scope that declares it (BPMN 2.0.2 §10.4.1: a data object is visible in its
    process or sub-process and every scope inside).

    SpiffWorkflow 3.2's `NodeParser._resolve_data_object_ref` looks in the
    task's own scope, then its parent's, and then loops for ever: it sets the
    scope back to the parent instead of walking up. A task two sub-processes
    deep that reads the process's data object (or names one of a sibling
    sub-process) hung the upload. This walks every enclosing scope once; a data
    object declared in none is not found, so SpiffWorkflow refuses the
    association ("Cannot resolve dataInputAssociation").
    """

    def _resolve_data_object_ref(self, ref: Any) -> Any:
        if ref is None:
            return None
        scope = self.process_parser  # type: ignore[attr-defined]
        while scope is not None:
            found = scope.spec.data_objects.get(ref.get("dataObjectRef"))
            if found is not None:
                return found
            scope = scope.parent
        return None
