"""Read what SpiffWorkflow's parser drops: roles, forms and properties of human tasks.

Camunda/Operaton attributes (`assignee`, `candidateGroups`, `formData`, ...) are not
kept by SpiffWorkflow's parsers, so they are read here straight from the XML.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from contextvars import ContextVar

from lxml import etree

from .dates import CAMUNDA_DATE_PATTERN, form_date
from .dialect import is_camunda_dialect
from .formjs import form_ref
from .jsonforms import json_schema_ref
from .links import is_link_flow
from .types import FormField, HumanTaskMeta, ParsedProcess, SequenceFlow
from .xml import (
    BPMN,
    NSMAP,
    VENDOR_NAMESPACES,
    compiled_xpath,
    local_name,
    vendor_attr,
    vendor_children,
)

HUMAN_TAGS = ("userTask", "manualTask")
_NUMBER_CONSTRAINTS = {
    "min": "minimum",
    "max": "maximum",
    "exclusiveMin": "exclusive_minimum",
    "exclusiveMax": "exclusive_maximum",
}
_LENGTH_CONSTRAINTS = {"minlength": "min_length", "maxlength": "max_length"}


_EXTENSIONS = f"{{{BPMN}}}extensionElements"
_DOCUMENTATION = f"{{{BPMN}}}documentation"
_ROLES = frozenset(f"{{{BPMN}}}{tag}" for tag in ("humanPerformer", "potentialOwner"))


def split_list(value: str) -> tuple[str, ...]:
    """Split a comma-separated attribute into trimmed, non-empty items."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def lane_map(process: etree._Element) -> dict[str, str]:
    """Map flow-node id to the (innermost) lane name that holds it."""
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NSMAP):
        name = (lane.get("name") or lane.get("id") or "").strip()
        for ref in lane.iterfind("bpmn:flowNodeRef", NSMAP):
            if ref.text:
                lanes[ref.text.strip()] = name
    return lanes


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _constraints(field: etree._Element) -> dict[str, object]:
    found: dict[str, object] = {}
    for constraint in vendor_children(field, "x:validation/x:constraint"):
        name, config = constraint.get("name", ""), constraint.get("config")
        if name in ("required", "readonly"):
            found[name] = (config or "true").strip().lower() != "false"
        elif name in _NUMBER_CONSTRAINTS:
            found[_NUMBER_CONSTRAINTS[name]] = _number(config)
        elif name in _LENGTH_CONSTRAINTS and config and config.strip().isdigit():
            found[_LENGTH_CONSTRAINTS[name]] = int(config)
    return found


def _form_field(field: etree._Element) -> FormField:
    options = tuple(
        (value.get("id", ""), value.get("name") or value.get("id", ""))
        for value in vendor_children(field, "x:value")
    )
    props = {
        prop.get("id", ""): prop.get("value", "")
        for prop in vendor_children(field, "x:properties/x:property")
    }
    kind = field.get("type") or "string"
    default = field.get("defaultValue")
    pattern = date_pattern(field)
    if kind == "date" and default:
        with contextlib.suppress(ValueError):  # refused at upload (checks)
            default = form_date(default, pattern)
    return FormField(
        id=field.get("id", ""),
        label=field.get("label") or field.get("id", ""),
        type=kind,
        default=default,
        options=options,
        widget=props.get("widget", ""),
        date_pattern=pattern if kind == "date" else "",
        **_constraints(field),  # type: ignore[arg-type]
    )


def date_pattern(field: etree._Element) -> str:
    """Return a date form field's pattern: Camunda's dd/MM/yyyy unless it names one
    (a `datePattern` validation constraint or property)."""
    for constraint in vendor_children(field, "x:validation/x:constraint"):
        if constraint.get("name") == "datePattern" and constraint.get("config"):
            return str(constraint.get("config")).strip()
    for prop in vendor_children(field, "x:properties/x:property"):
        if prop.get("id") == "datePattern" and prop.get("value"):
            return str(prop.get("value")).strip()
    return CAMUNDA_DATE_PATTERN


def _properties(element: etree._Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in compiled_xpath(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    )(element):
        props[prop.get("name", "")] = prop.get("value", "")
    for prop in vendor_children(
        element, "bpmn:extensionElements/x:properties/x:property"
    ):
        props[prop.get("name", "")] = prop.get("value", "")
    return props


def _role(element: etree._Element, props: dict[str, str], name: str) -> str:
    return vendor_attr(element, name) or props.get(name, "").strip()


_ROLE_NAMES = (
    "assignee",
    "candidateUsers",
    "candidateGroups",
    "formKey",
    "dueDate",
    "followUpDate",
    "priority",
)


def _roles(element: etree._Element, props: dict[str, str]) -> dict[str, str]:
    """Each `_role` of a task, "" for all when it has no properties and no
    namespaced attribute (where they are read)."""
    if not props and not any(name[0] == "{" for name in element.attrib):
        return dict.fromkeys(_ROLE_NAMES, "")
    return {name: _role(element, props, name) for name in _ROLE_NAMES}


def _documentation(element: etree._Element) -> str:
    doc = element.find("bpmn:documentation", NSMAP)
    return (doc.text or "").strip() if doc is not None else ""


def formal_expression(role: etree._Element) -> str | None:
    """Return the text of a resource role's formal expression, None if it has none."""
    node = role.find("bpmn:resourceAssignmentExpression/bpmn:formalExpression", NSMAP)
    return None if node is None else (node.text or "").strip()


def _resource_roles(element: etree._Element) -> tuple[str, list[str], list[str]]:
    """Camunda 7's reading of BPMN resource roles: humanPerformer is the assignee;
    potentialOwner lists `user(id)`, `group(id)` or a plain group id."""
    assignee = ""
    for role in element.iterfind("bpmn:humanPerformer", NSMAP):
        assignee = formal_expression(role) or assignee
    users: list[str] = []
    groups: list[str] = []
    for role in element.iterfind("bpmn:potentialOwner", NSMAP):
        for item in split_list(formal_expression(role) or ""):
            match = re.fullmatch(r"(user|group)\((.+)\)", item)
            if match is None:
                groups.append(item)
            else:
                (users if match.group(1) == "user" else groups).append(
                    match.group(2).strip()
                )
    return assignee, users, groups


# Within `task_meta_once`, each element's description (read with no lane).
_READ: ContextVar[dict[etree._Element, HumanTaskMeta] | None] = ContextVar(
    "laneway_human_task_meta", default=None
)


@contextlib.contextmanager
def task_meta_once() -> Iterator[None]:
    """Read each human task's XML once while the block runs.

    An upload describes every human task in several places (the support and
    date checks, the warnings, the duplicate-id check, the task map, the
    process); inside this block they share one reading per element. The tree
    must not change inside the block (normalize it first). An element is kept
    alive by the memo, so lxml hands back the same proxy, the memo's key.
    """
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def human_task_meta(element: etree._Element, lane: str | None) -> HumanTaskMeta:
    """Describe one user/manual task or start event from its XML element."""
    read = _READ.get()
    if read is None:
        return _human_task_meta(element, lane)
    meta = read.get(element)
    if meta is None:
        meta = read[element] = _human_task_meta(element, None)
    return meta if lane is None else dataclasses.replace(meta, lane=lane)


_USER_TASK = f"{{{BPMN}}}userTask"


def _human_task_meta(element: etree._Element, lane: str | None) -> HumanTaskMeta:
    # Each reading below looks for one kind of child: skip those not there.
    present = {child.tag for child in element}
    props: dict[str, str] = {}
    fields: list[etree._Element] = []
    assignment = None
    if _EXTENSIONS in present:
        assignment = element.find(
            "bpmn:extensionElements/spiffworkflow:assignmentScript", NSMAP
        )
        props = _properties(element)
        fields = vendor_children(
            element, "bpmn:extensionElements/x:formData/x:formField"
        )
    performer, owners, owner_groups = (
        _resource_roles(element) if _ROLES & present else ("", [], [])
    )
    role = _roles(element, props)
    return HumanTaskMeta(
        bpmn_id=element.get("id", ""),
        name=(element.get("name") or element.get("id", "")).strip(),
        lane=lane,
        documentation=_documentation(element) if _DOCUMENTATION in present else "",
        assignee=role["assignee"] or performer,
        candidate_users=(*split_list(role["candidateUsers"]), *owners),
        candidate_groups=(*split_list(role["candidateGroups"]), *owner_groups),
        form_key=role["formKey"],
        form=tuple(_form_field(f) for f in fields),
        form_ref=form_ref(
            {
                name: vendor_attr(element, name)
                for name in ("formRef", "formRefBinding", "formRefVersion")
            },
            role["formKey"],
        )
        or json_schema_ref(props, element.tag == _USER_TASK),
        due_date=role["dueDate"],
        follow_up_date=role["followUpDate"],
        priority=role["priority"],
        separate_from=split_list(props.get("separateFrom", "")),
        properties=tuple(sorted(props.items())),
        assignment_script=(assignment.text or "") if assignment is not None else "",
        assignment_assignee=(
            assignment.get("assignee", "") if assignment is not None else ""
        ),
    )


def _start_event(process: etree._Element) -> etree._Element | None:
    starts = process.findall("bpmn:startEvent", NSMAP)
    plain = [
        s
        for s in starts
        if not any(local_name(c).endswith("EventDefinition") for c in s)
    ]
    return (plain or starts or [None])[0]


def _human_tasks(process: etree._Element) -> Iterator[etree._Element]:
    """The elements of `process` that open inbox tasks: user tasks, and manual
    tasks outside the Camunda dialect (Camunda 7 passes through a manual task:
    service_tasks._ManualTaskParser)."""
    camunda = is_camunda_dialect(process, unmarked=False)
    for tag in HUMAN_TAGS:
        if tag == "manualTask" and camunda:
            continue
        yield from process.iterfind(f".//bpmn:{tag}", NSMAP)


def process_meta(process: etree._Element) -> ParsedProcess:
    """Describe one executable process: lanes, start form and human tasks."""
    lanes = lane_map(process)
    human = [
        human_task_meta(el, lanes.get(el.get("id", ""))) for el in _human_tasks(process)
    ]
    start = _start_event(process)
    names = tuple(
        (el.get("id", ""), el.get("name") or el.get("id", ""))
        for el in process.iter()
        if isinstance(el.tag, str) and el.get("id")
    )
    return ParsedProcess(
        key=process.get("id", ""),
        name=(process.get("name") or process.get("id", "")).strip(),
        lanes=tuple(dict.fromkeys(lanes.values())),
        start=human_task_meta(start, lanes.get(start.get("id", "")))
        if start is not None
        else None,
        human_tasks=tuple(human),
        candidate_starter_groups=split_list(
            vendor_attr(process, "candidateStarterGroups")
        ),
        candidate_starter_users=split_list(
            vendor_attr(process, "candidateStarterUsers")
        ),
        element_names=names,
        initiator_variable=vendor_attr(start, "initiator") if start is not None else "",
        sequence_flows=tuple(
            SequenceFlow(
                id=el.get("id", ""),
                name=(el.get("name") or "").strip(),
                source=el.get("sourceRef", ""),
                target=el.get("targetRef", ""),
                link=is_link_flow(el, el.getparent()),
            )
            for el in process.iterfind(".//bpmn:sequenceFlow", NSMAP)
        ),
        version_tag=vendor_attr(process, "versionTag"),
        startable_in_tasklist=startable_in_tasklist(process),
    )


def startable_in_tasklist(process: etree._Element) -> bool:
    """Return camunda:isStartableInTasklist as Camunda 7 reads it
    (BpmnParse.isStartable): "true" in any case, or no attribute, is startable;
    any other value ("false", "no", "") is not."""
    for ns in VENDOR_NAMESPACES:
        value = process.get(f"{{{ns}}}isStartableInTasklist")
        if value is not None:
            return value.lower() == "true"
    return True


def all_human_tasks(root: etree._Element) -> dict[str, HumanTaskMeta]:
    """Describe every human task in a file, by element id (called processes too)."""
    found: dict[str, HumanTaskMeta] = {}
    for process in root.iterfind("bpmn:process", NSMAP):
        lanes = lane_map(process)
        for el in _human_tasks(process):
            found[el.get("id", "")] = human_task_meta(el, lanes.get(el.get("id", "")))
    return found
