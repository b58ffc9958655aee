"""Upload checks for the Camunda Forms a diagram's user tasks and start event name.

A Camunda Form on the process's none start event is its start form, shown when a
person starts a case, as Camunda 7's Tasklist does. Camunda 7 reads the start
form of the process's initial start event only (BpmnParse.parseStartEvents:
selectInitial, then parseStartFormHandlers for that one event); a start event
of a sub-process or an event sub-process never gets a form handler, and a
message, signal, timer or conditional start event starts its case without a
person. Laneway refuses a form nobody fills, located, rather than ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from .formjs import file_fields, form_find, ref_problem
from .metadata import human_task_meta
from .types import FormRef, Problem
from .xml import BPMN, NSMAP, local_name, vendor_children


def _problem(element: etree._Element, why: str) -> Problem:
    kind = etree.QName(element).localname
    ident = element.get("id", "")
    return Problem(
        f"The {kind} '{ident}' is refused: {why}.", element.sourceline, ident
    )


def _unfilled_start(element: etree._Element, ref: FormRef) -> str:
    """Say why nobody would fill a start event's Camunda Form, '' when a person does."""
    trigger = next(
        (
            local_name(child).removesuffix("EventDefinition")
            for child in element
            if local_name(child).endswith("EventDefinition")
        ),
        "",
    )
    never = f"its Camunda Form ({ref.label}) would never be shown"
    parent = element.getparent()
    if parent is not None and parent.get("triggeredByEvent") == "true":
        return (
            f"{never}: the start event of an event sub-process starts when its "
            f"{trigger or 'event'} arrives, not by a person (Camunda 7 shows the "
            "process's start form only); put the form on a user task"
        )
    if parent is None or parent.tag != f"{{{BPMN}}}process":
        kind = local_name(parent) if parent is not None else "scope"
        return (
            f"{never}: the start event of a {kind} is reached by the case, not "
            "started by a person (Camunda 7 shows the process's start form "
            "only); put the form on a user task"
        )
    if trigger:
        return (
            f"{never}: a {trigger} start event starts its case without a person "
            "filling a form (Camunda 7 shows the start form of the process's "
            "none start event); put the form on a none start event or on the "
            "first user task"
        )
    return ""


def _start_file_problem(ref: FormRef, forms: Mapping[str, Mapping[str, Any]]) -> str:
    """Refuse file pickers on a start form: their files become attachments of a
    case, and before the start there is no case to attach them to."""
    found = form_find(ref, forms)
    pickers = file_fields(forms[found]) if found is not None else []
    if not pickers:
        return ""
    names = ", ".join(f"'{f.name}'" for f in pickers)
    return (
        f"its Camunda Form ({ref.label}) has a file picker ({names}) on the start "
        "form: files become attachments of a case, which does not exist before "
        "it starts; ask for the file in the first user task"
    )


def form_ref_problems(
    root: etree._Element, forms: Mapping[str, Mapping[str, Any]]
) -> list[Problem]:
    """Refuse forms that are missing or cannot run, located."""
    found: list[Problem] = []
    for tag in ("userTask", "manualTask", "startEvent"):
        for element in root.iterfind(f".//bpmn:{tag}", NSMAP):
            ref = human_task_meta(element, None).form_ref
            if ref is None:
                continue
            start = tag == "startEvent"
            if tag == "manualTask":
                why = (
                    f"a Camunda Form ({ref.label}) on a manualTask is not "
                    "supported here; use camunda:formData fields"
                )
            elif vendor_children(element, "bpmn:extensionElements/x:formData"):
                why = "it has both a Camunda Form and formData; keep one"
            else:
                why = (
                    (_unfilled_start(element, ref) if start else "")
                    or ref_problem(ref, forms)
                    or (_start_file_problem(ref, forms) if start else "")
                )
            if why:
                found.append(_problem(element, why))
    return found
