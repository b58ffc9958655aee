"""Upload checks for the Camunda Forms a diagram's user tasks name (formjs.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from .formjs import ref_problem
from .metadata import human_task_meta
from .types import Problem
from .xml import NSMAP, vendor_children


def _problem(element: etree._Element, why: str) -> Problem:
    kind = etree.QName(element).localname
    ident = element.get("id", "")
    return Problem(
        f"The {kind} '{ident}' is refused: {why}.", element.sourceline, ident
    )


def form_ref_problems(
    root: etree._Element, forms: Mapping[str, Mapping[str, Any]]
) -> list[Problem]:
    """Refuse tasks whose Camunda Form is missing or cannot run, located."""
    found: list[Problem] = []
    for tag in ("userTask", "manualTask", "startEvent"):
        for element in root.iterfind(f".//bpmn:{tag}", NSMAP):
            ref = human_task_meta(element, None).form_ref
            if ref is None:
                continue
            if tag != "userTask":
                found.append(
                    _problem(
                        element,
                        f"a Camunda Form ({ref.label}) on a {tag} is not supported "
                        "here; use camunda:formData fields",
                    )
                )
            elif vendor_children(element, "bpmn:extensionElements/x:formData"):
                found.append(
                    _problem(
                        element, "it has both a Camunda Form and formData; keep one"
                    )
                )
            elif why := ref_problem(ref, forms):
                found.append(_problem(element, why))
    return found
