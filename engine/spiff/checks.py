"""Deploy-time checks SpiffWorkflow does not make (or makes without a line number).

Each check walks the (normalized) lxml tree and yields located Problems. They
cover the silent-misexecution traps of raw SpiffWorkflow 3.2 (sequence flows
without id are dropped; compensation event sub-processes outside an embedded
sub-process;
ids that clash with its internal spec names), and references
that must resolve before a case can run: operations, called processes (in the
file or deployed), DMN decisions, candidates, expressions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable, Iterator

from lxml import etree

from . import candidates
from .call_bindings import binding_problems, called_outside
from .dates import form_date, java_date_format
from .juel import is_juel
from .listener_places import why_not_drawn
from .listener_scripts import ListenerScriptError
from .listeners import (
    create_sets_task_properties,
    creation_assignee,
    expression_refusal,
    foreign_script,
    task_listener_ignored,
)
from .metadata import (
    HUMAN_TAGS,
    date_pattern,
    formal_expression,
    human_task_meta,
    lane_map,
)
from .normalize import describe as _label
from .normalize import external_topic, owner_of
from .scripting import check_expression, check_script, referenced_names
from .service_tasks import CONNECTOR_OUTPUTS, IO, IO_INPUTS
from .task_names import name_problems
from .types import Problem
from .xml import (
    BPMN,
    ID_VALUES,
    NSMAP,
    VENDOR_NAMESPACES,
    compiled_xpath,
    local_name,
    vendor_attr,
    vendor_children,
)

# SpiffWorkflow names its own specs 'Start' and 'End'; a diagram element with
# one of these ids replaces them and the process stops early without an error.
_RESERVED_IDS = frozenset({"Start", "End"})
# Error and escalation starts run (engine/spiff/events.py); compensation ones
# only in an embedded sub-process (compensation.py).
_UNSUPPORTED_EVENT_STARTS = ("compensateEventDefinition",)


def _by_id(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0] if found else None


def line_of(root: etree._Element, element_id: str | None) -> int | None:
    """Return the source line of the element with this id, or None."""
    element = _by_id(root, element_id)
    return element.sourceline if element is not None else None


# What a sequence flow may connect: the flow nodes of its process or sub-process.
_FLOW_NODES = frozenset(
    {
        *(f"{kind}Event" for kind in ("start", "end", "boundary")),
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        *(f"{kind}Gateway" for kind in ("exclusive", "inclusive", "parallel")),
        "eventBasedGateway",
        "complexGateway",
        *(f"{kind}Task" for kind in ("user", "service", "script", "send", "receive")),
        "businessRuleTask",
        "manualTask",
        "task",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)


def _flow_ends(flow: etree._Element, nodes: dict[str, str]) -> Iterator[Problem]:
    """A sourceRef or targetRef that names no flow node beside the flow.

    Camunda 7 refuses it ("Invalid source/destination of sequence flow");
    SpiffWorkflow would drop a flow from nowhere (its target never reached)
    or fail without saying why. The `<incoming>`/`<outgoing>` lists of the
    nodes are not read, by Camunda nor here: sourceRef and targetRef are the
    flow, so lists that disagree with them run as the refs say.
    """
    for attribute, role in (("sourceRef", "comes from"), ("targetRef", "goes to")):
        ref = (flow.get(attribute) or "").strip()
        if nodes.get(ref) in _FLOW_NODES:
            continue
        if not ref:
            why = f"has no {attribute}"
        elif ref in nodes:
            why = f"{role} '{ref}', which is not a task, event or gateway"
        else:
            scope = _label(flow.getparent())  # described only when it is needed
            why = f"{role} '{ref}', which is not an element of the {scope}"
        yield Problem(
            f"The sequence flow '{flow.get('id')}' {why}: a sequence flow connects "
            f"two tasks, events or gateways of the same process or sub-process "
            f"({attribute}).",
            flow.sourceline,
            flow.get("id"),
        )


def _defaults(root: etree._Element) -> Iterator[Problem]:
    """A `default` naming no sequence flow that leaves the element.

    Camunda 7 deploys it and fails when the default is needed ("default
    sequence flow ... could not be found"); the element names the flow it
    means to leave by, so the upload says which one is wrong.
    """
    for element in root.xpath(".//*[@default]"):
        if not isinstance(element.tag, str) or not element.tag.startswith(
            f"{{{BPMN}}}"
        ):
            continue
        default, ident = element.get("default"), element.get("id")
        leaves = element.getparent().xpath(
            "bpmn:sequenceFlow[@id=$flow and @sourceRef=$node]",
            namespaces=NSMAP,
            flow=default,
            node=ident,
        )
        if not leaves:
            yield Problem(
                f"The default flow '{default}' of {_label(element)} is not one of its "
                "outgoing sequence flows: choose one of them as the default, or "
                "remove the attribute.",
                element.sourceline,
                ident,
            )


def _sequence_flows(root: etree._Element) -> Iterator[Problem]:
    # The ids of each flow's siblings, read once per process or sub-process (not
    # once per flow: quadratic in a diagram's size, issue #16's deploy figure).
    scopes: dict[etree._Element, dict[str, str]] = {}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP):
        if not (flow.get("id") or "").strip():
            source, target = flow.get("sourceRef", "?"), flow.get("targetRef", "?")
            yield Problem(
                f"The sequence flow from '{source}' to '{target}' has no id; "
                "SpiffWorkflow would silently drop it. Give it an id.",
                flow.sourceline,
                None,
            )
            continue
        parent = flow.getparent()
        nodes = scopes.get(parent)
        if nodes is None:
            nodes = scopes[parent] = {
                str(i): child.tag.rpartition("}")[2]  # local_name, inlined
                for child in parent
                if isinstance(child.tag, str) and (i := child.get("id"))
            }
        source = (flow.get("sourceRef") or "").strip()
        target = (flow.get("targetRef") or "").strip()
        if nodes.get(source) in _FLOW_NODES and nodes.get(target) in _FLOW_NODES:
            continue  # both ends are flow nodes beside it (_flow_ends finds nothing)
        yield from _flow_ends(flow, nodes)


def _event_subprocess_starts(root: etree._Element) -> Iterator[Problem]:
    for sub in root.xpath(
        ".//bpmn:subProcess[@triggeredByEvent='true']", namespaces=NSMAP
    ):
        parent = sub.getparent()
        embedded = local_name(parent) == "subProcess" and not any(
            local_name(a) == "subProcess" and a.get("triggeredByEvent") == "true"
            for a in (parent, *parent.iterancestors())
        )
        for start in sub.iterfind("bpmn:startEvent", NSMAP):
            kinds = [local_name(c) for c in start if isinstance(c.tag, str)]
            bad = [k for k in kinds if k in _UNSUPPORTED_EVENT_STARTS]
            if bad and not embedded:
                kind = bad[0].replace("EventDefinition", "")
                yield Problem(
                    f"The {kind} start event '{start.get('id')}' of event sub-process "
                    f"'{sub.get('id')}' is refused: a compensation event "
                    "sub-process belongs in an embedded sub-process (not a "
                    "transaction, nor inside an event sub-process, whose own "
                    "compensation is not supported), which it compensates once "
                    "completed (Camunda 7 "
                    "refuses it elsewhere: 'event subprocess with compensation "
                    "start event is only supported for embedded subprocess').",
                    start.sourceline,
                    start.get("id"),
                )


def _misplaced_starts(root: etree._Element) -> Iterator[Problem]:
    for start in root.iterfind(".//bpmn:startEvent", NSMAP):
        parent = start.getparent()
        if parent.get("triggeredByEvent") == "true":
            continue
        for kind in ("error", "escalation"):
            if start.find(f"bpmn:{kind}EventDefinition", NSMAP) is not None:
                yield Problem(
                    f"The {kind} start event '{start.get('id')}' is not in an event "
                    f"sub-process: it would wait for an {kind} that nothing can send "
                    "to it. Use a none start event, or put it in an event "
                    "sub-process (triggeredByEvent).",
                    start.sourceline,
                    start.get("id"),
                )


def _reserved_ids(root: etree._Element) -> Iterator[Problem]:
    if _RESERVED_IDS.isdisjoint(ID_VALUES(root)):
        return  # no reserved id (most files): no walk
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id") in _RESERVED_IDS:
            yield Problem(
                f"The id '{element.get('id')}' of {_label(element)} is reserved by the "
                "engine; rename it (e.g. '{0}Event').".format(element.get("id")),
                element.sourceline,
                element.get("id"),
            )


def _data_stores(root: etree._Element) -> Iterator[Problem]:
    for store in root.iterfind(".//bpmn:dataStoreReference", NSMAP):
        # Only a store a task reads or writes in a SpiffArena diagram is left
        # by tidy (hygiene.py); the others are drawing and were dropped.
        yield Problem(
            f"The {_label(store)} is read or written by a data association: "
            "SpiffArena runs a data store (JSON, KKV) through a store it registers, "
            "and Laneway has none, so the task would run without its data. Keep "
            "the data in a data object or a case variable, or read and write it "
            "with a service task.",
            store.sourceline,
            store.get("id"),
        )


_SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})


def _data_object_scopes(root: etree._Element) -> Iterator[Problem]:
    """A data association must name a data object of an enclosing scope (BPMN
    2.0.2 §10.4.1: a data object is visible in the process or sub-process that
    declares it and the ones inside). SpiffWorkflow's refusal names no data
    object ("Cannot resolve dataInputAssociation <Element ...>")."""
    references = {
        ref.get("id"): ref
        for ref in root.iterfind(".//bpmn:dataObjectReference", NSMAP)
    }
    if not references:
        return
    declared = {
        obj.get("id"): obj.getparent()
        for obj in root.iterfind(".//bpmn:dataObject", NSMAP)
    }
    seen: set[tuple[str | None, str | None]] = set()
    for association in root.xpath(
        ".//bpmn:dataInputAssociation/bpmn:sourceRef"
        " | .//bpmn:dataOutputAssociation/bpmn:targetRef",
        namespaces=NSMAP,
    ):
        reference = references.get((association.text or "").strip())
        task = association.getparent().getparent()
        if reference is None or (task.get("id"), reference.get("id")) in seen:
            continue
        seen.add((task.get("id"), reference.get("id")))
        name = reference.get("dataObjectRef")
        scope = declared.get(name)
        enclosing = [a for a in task.iterancestors() if local_name(a) in _SCOPES]
        if scope is not None and scope in enclosing:
            continue
        if name is None:
            what = "a data object reference naming no data object (dataObjectRef)"
        elif scope is None:
            what = f"the data object '{name}', which is declared nowhere"
        else:
            what = (
                f"the data object '{name}', declared in the {_label(scope)}, outside it"
            )
        yield Problem(
            f"The {_label(task)} reads or writes {what} (through the reference "
            f"'{reference.get('id')}'): a data object is visible only in the process "
            "or sub-process declaring it and the sub-processes inside. Declare it "
            "there, or pass the value in a variable.",
            association.sourceline,
            task.get("id"),
        )


def _data_object_values(root: etree._Element) -> Iterator[Problem]:
    """A data object's initial value (Flowable's and Activiti's `value`, read as
    camunda:value by tidy) makes a process variable at start there; Camunda 7
    has no data objects (nor this extension), so the variable would never be
    set and the diagram would run without it."""
    for obj in root.iterfind(".//bpmn:dataObject", NSMAP):
        for value in vendor_children(obj, "bpmn:extensionElements/x:value"):
            yield Problem(
                f"The {_label(obj)} has an initial value: Flowable and Activiti make "
                "it a process variable at start, Camunda 7 (which ignores data "
                "objects) and Laneway do not, so the case would run without it. Set "
                "the variable when the case starts (start data, a start form field's "
                "default) or in a script task.",
                value.sourceline,
                obj.get("id"),
            )


def _messages(root: etree._Element) -> Iterator[Problem]:
    for definition in root.iterfind(".//bpmn:messageEventDefinition", NSMAP):
        if not definition.get("messageRef"):
            event = definition.getparent()
            catching = local_name(event) in (
                "startEvent",
                "intermediateCatchEvent",
                "boundaryEvent",
            )
            also = " (Camunda 7 refuses it too)" if catching else ""
            yield Problem(
                f"The message {_label(event)} names no message (messageRef){also}; "
                "it could never be triggered. Choose a message for it.",
                event.sourceline,
                event.get("id"),
            )


# Task listener events Camunda 7 runs and Laneway does not (TaskListener,
# TaskEntity: the "Task Listener Event Lifecycle").
_TASK_EVENTS_NOT_RUN = {
    "update": (
        "Camunda 7 runs an update listener each time a property of the open task "
        "changes (assignee, owner, due date, follow-up date, priority, name, "
        "description; before the assignment listeners), and none runs here"
    ),
    "timeout": (
        "Camunda 7 runs a timeout listener when its timer is due while the task "
        "is open, and the task stays open; none runs here: draw a "
        "non-interrupting timer boundary event with a script task after it"
    ),
}
_TASK_EVENTS = ("create", "assignment", "complete", "delete", *_TASK_EVENTS_NOT_RUN)


def _task_event_reason(listener: etree._Element) -> str | None:
    """Why a task listener's event does not run here (BpmnParse.parseTaskListeners
    refuses a missing or unknown event), or None when it is one that runs."""
    event = listener.get("event")
    if event is None or event not in _TASK_EVENTS:
        what = "has no event" if event is None else f"has the event {event!r}"
        return (
            f"it {what}: Camunda 7 refuses it too (a task listener's event is one "
            f"of {', '.join(_TASK_EVENTS)})"
        )
    return _TASK_EVENTS_NOT_RUN.get(event)


def _what_reason(listener: etree._Element, owner: etree._Element) -> str | None:
    """Why the listener's place, event or what it calls cannot run here, or None."""
    if task_listener_ignored(listener, owner):
        return (
            f"Camunda 7 ignores a task listener on a {local_name(owner)} (it "
            "runs them on user tasks only); draw it as an execution listener "
            "(start or end), or remove it"
        )
    if local_name(listener) == "taskListener" and (why := _task_event_reason(listener)):
        return why
    if listener.get("class") or listener.get("delegateExpression"):
        return (
            "it calls Java code (class or delegateExpression), which does not run here"
        )
    return expression_refusal(listener)


def _listener_reason(listener: etree._Element, owner: etree._Element) -> str:
    script = next((c for c in listener if local_name(c) == "script"), None)
    if why := _what_reason(listener, owner):
        return why
    event = listener.get("event") or "start"
    if decorated := create_sets_task_properties(listener, owner):
        return (
            f"it sets {', '.join(decorated)}, which the task's assignee, candidates, "
            "dates or priority read, and Camunda 7 resolves those before the create "
            "listeners run, so there it changes nothing (a start execution "
            "listener runs before them)"
        )
    if event == "assignment" and creation_assignee(owner, "listener_") is None:
        return (
            "an assignment listener also runs when the task is created with an "
            "assignee, which must then be a name or a variable (${name}) here"
        )
    try:
        foreign_script(listener, owner)
    except ListenerScriptError as exc:
        return (
            f"its {script.get('scriptFormat') if script is not None else ''} script "
            f"uses {exc}, outside the subset that runs here (setVariable, "
            "getVariable, getAssignee, setAssignee on create, if)"
        )
    if script is not None:
        fmt = script.get("scriptFormat") or "?"
        if fmt.strip().lower() not in ("python", "text/x-python", "py"):
            return (
                f"it is a {fmt!r} script; listener scripts run in Python, or in the "
                "subset of JavaScript and Groovy that is translated to it"
            )
        if script.get("resource"):
            return "its script is an external resource; paste the Python inline"
        return (
            "a Python listener assigns variables by name (x = ...); Camunda's "
            "execution and task objects are not available"
        )
    return _placement_reason(owner, event)


def _placement_reason(owner: etree._Element, event: str) -> str:
    if local_name(owner) == "boundaryEvent" or event not in ("start", "end", "take"):
        return f"the event '{event}' cannot run a listener on this element here"
    if drawn := why_not_drawn(owner, event):
        return drawn
    return (
        "only ${execution.setVariable('x', value)}, ${task.setVariable('x', value)} "
        "or a Python script run, and only where the order can be kept (a task, a "
        "sequence flow, a none start or end event, an intermediate event, a "
        "gateway, the process)"
    )


def _listeners(root: etree._Element) -> Iterator[Problem]:
    for kind in ("executionListener", "taskListener"):
        for listener in vendor_children(root, f".//x:{kind}"):
            owner = listener.getparent().getparent()
            yield Problem(
                f"The {kind} of {_label(owner)} would not run here: "
                f"{_listener_reason(listener, owner)}; use a script task or a "
                "service task instead.",
                listener.sourceline,
                owner.get("id"),
            )


def _form_dates(root: etree._Element) -> Iterator[Problem]:
    for field in vendor_children(root, ".//x:formField[@type='date']"):
        owner = field.getparent().getparent().getparent()
        label = f"the date field '{field.get('id', '')}' of {_label(owner)}"
        pattern = date_pattern(field)
        if java_date_format(pattern) is None:
            yield Problem(
                f"The pattern {pattern!r} of {label} is not supported: write it "
                "with days, months and years only (dd, MM, yyyy, as dd/MM/yyyy).",
                field.sourceline,
                owner.get("id"),
            )
            continue
        default = field.get("defaultValue")
        if default and "{" not in default:
            try:
                form_date(default, pattern)
            except ValueError:
                yield Problem(
                    f"The default value {default!r} of {label} is not a date "
                    f"as {pattern} (or YYYY-MM-DD).",
                    field.sourceline,
                    owner.get("id"),
                )


def _form_default_expressions(root: etree._Element) -> Iterator[Problem]:
    """Camunda 7 evaluates a formField's defaultValue as an expression
    (FormFieldHandler: defaultValueExpression); here it would be shown and
    stored as its text."""
    for field in vendor_children(root, ".//x:formField[@defaultValue]"):
        default = field.get("defaultValue", "")
        if "${" in default or "#{" in default:
            owner = field.getparent().getparent().getparent()
            yield Problem(
                f"The default value {default!r} of the field "
                f"'{field.get('id', '')}' of {_label(owner)} is an expression, "
                "which is not evaluated here (the form would show and keep its "
                "text): set the variable in a script task before, or write a "
                "plain default.",
                field.sourceline,
                owner.get("id"),
            )


def _resource_roles(root: etree._Element) -> Iterator[Problem]:
    for role in root.xpath(
        ".//bpmn:humanPerformer | .//bpmn:potentialOwner", namespaces=NSMAP
    ):
        owner = role.getparent()
        if local_name(owner) not in HUMAN_TAGS:
            why = "it is read on user and manual tasks only"
        elif not formal_expression(role):
            why = (
                "it has no resourceAssignmentExpression with a formalExpression "
                "(Camunda 7 refuses it too; a resourceRef is not read): write the "
                "candidates there, use camunda:candidateGroups, or a lane"
            )
        elif local_name(role) == "humanPerformer" and (
            any(owner.get(f"{{{ns}}}assignee") is not None for ns in VENDOR_NAMESPACES)
            or len(owner.findall("bpmn:humanPerformer", NSMAP)) > 1
        ):
            # Camunda 7 BpmnParse: parseHumanPerformer ("multiple humanPerformer
            # sub elements") and parseUserTaskCustomExtensions ("Invalid usage:
            # duplicate assignee declaration") refuse a second assignee.
            why = (
                "the task names its assignee twice (camunda:assignee or another "
                'humanPerformer); Camunda 7 refuses it too ("duplicate assignee '
                'declaration"): keep one'
            )
        else:
            continue
        yield Problem(
            f"The {local_name(role)} of {_label(owner)} is refused: {why}.",
            role.sourceline,
            owner.get("id"),
        )


_PEOPLE = (
    ("assignee", "assignee"),
    ("candidate_users", "candidateUsers"),
    ("candidate_groups", "candidateGroups"),
)


# `bean.method(` inside an expression: Java code, not a value Laneway can read.
_METHOD_CALL = re.compile(r"[\w$]\s*\.\s*[A-Za-z_$][\w$]*\s*\(")


def _people_expressions(root: etree._Element) -> Iterator[Problem]:
    """Assignees and candidates that are expressions Laneway would take literally.

    Camunda 7 evaluates any expression there (${people[loopCounter]},
    ${dept}-managers, ${task.x}); Laneway reads a name, the initiator or one
    whole variable, and would hand the task to a user named like the text.
    """
    for tag in HUMAN_TAGS:
        for element in root.iterfind(f".//bpmn:{tag}", NSMAP):
            meta = human_task_meta(element, None)
            for field, attribute in _PEOPLE:
                values = getattr(meta, field)
                for value in (values,) if isinstance(values, str) else values:
                    if candidates.is_readable(value):
                        continue
                    why = (
                        "calls a method: it is Java code (a bean's or an object's "
                        "method) with no Python equivalent here"
                        if _METHOD_CALL.search(value)
                        else "is refused: an expression here is read only as one "
                        "whole variable (${name}), the initiator or a list of names "
                        "and variables; Camunda 7 would evaluate it, Laneway would "
                        "take it as a name"
                    )
                    yield Problem(
                        f"The {attribute} {value!r} of {_label(element)} {why}. "
                        "Compute the value into a variable first (a script task, "
                        "or a multi-instance element variable) and name it.",
                        element.sourceline,
                        element.get("id"),
                    )


def structure_problems(root: etree._Element) -> list[Problem]:
    """Return the constructs that raw SpiffWorkflow would run wrongly or not at all."""
    return [
        *_sequence_flows(root),
        *_defaults(root),
        *_event_subprocess_starts(root),
        *_misplaced_starts(root),
        *_reserved_ids(root),
        *_data_stores(root),
        *_data_object_scopes(root),
        *_data_object_values(root),
        *_messages(root),
        *_listeners(root),
        *_listener_scopes(root),
        *_form_dates(root),
        *_form_default_expressions(root),
        *_resource_roles(root),
        *_people_expressions(root),
        *name_problems(root),
    ]


def _operations(root: etree._Element, known: Collection[str]) -> Iterator[Problem]:
    for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NSMAP):
        task = operator.getparent().getparent()
        name = operator.get("id", "")
        if name in known or external_topic(task) == name:
            continue  # a Python operation, or an external task (`external_tasks`)
        listed = ", ".join(sorted(known)) or "none are registered"
        yield Problem(
            f"The {_label(task)} calls the operation '{name}', which is not "
            f"registered (known operations: {listed}); only an external topic, "
            "class or delegate expression can wait for an external worker.",
            task.sourceline,
            task.get("id"),
        )


def external_tasks(root: etree._Element, known: Collection[str]) -> list[Problem]:
    """Return a notice for each task that waits for an external worker.

    A Camunda topic, class or delegate expression (or Zeebe job type) with no
    Python operation registered under its name deploys as an external task: an
    outside worker fetches it over /engine-rest/external-task/fetchAndLock.
    """
    found = []
    for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NSMAP):
        task = operator.getparent().getparent()
        name = operator.get("id", "")
        if name and name not in known and external_topic(task) == name:
            found.append(
                Problem(
                    f"The {_label(task)} is an external task: no Python operation "
                    f"is registered as '{name}', so it waits for an external worker "
                    f"to fetch topic '{name}' (POST /engine-rest/external-task/"
                    "fetchAndLock).",
                    task.sourceline,
                    task.get("id"),
                )
            )
    return found


def _executable_ids(root: etree._Element) -> set[str]:
    return {
        str(p.get("id"))
        for p in root.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP)
    }


def _called_processes(
    root: etree._Element, deployed: Collection[str]
) -> Iterator[Problem]:
    executable = _executable_ids(root)
    outside = called_outside(root)
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        called = (call.get("calledElement") or "").strip()
        if called in executable or (called in outside and called in deployed):
            continue
        if is_juel(called):
            continue  # named when the call activity is reached (called.py)
        if not called:
            why = "names no process (calledElement); name the process it calls"
        elif called not in outside:
            why = (
                f"calls the process '{called}' of this file, which is not "
                "executable; tick 'Executable' on it"
            )
        else:
            why = (
                f"calls the process '{called}', which is not an executable process "
                f"in this file nor deployed; deploy '{called}' first (or put it in "
                "the same file)"
            )
        yield Problem(f"The {_label(call)} {why}.", call.sourceline, call.get("id"))


def _has_none_start(process: etree._Element) -> bool:
    return any(
        not any(
            isinstance(c.tag, str) and local_name(c).endswith("EventDefinition")
            for c in start
        )
        for start in process.iterfind("bpmn:startEvent", NSMAP)
    )


def call_start_problems(
    root: etree._Element, called_roots: Collection[etree._Element] = ()
) -> list[Problem]:
    """Call activities whose called process has no none start event.

    BPMN 2.0.2 §10.5.2 (Table 10.85): a called process starts at its none start
    event; its other start events "would not be used in the context of a
    Sub-Process". Camunda 7 fails such a call at run time (no default start
    activity); SpiffWorkflow would wait inside it for the start event's trigger.
    """
    processes = {
        p.get("id"): p
        for r in (root, *called_roots)
        for p in r.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP)
    }  # a call to another process is refused by reference_problems
    found = []
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        called = processes.get((call.get("calledElement") or "").strip())
        if called is None or _has_none_start(called):
            continue
        found.append(
            Problem(
                f"The {_label(call)} calls the process '{called.get('id')}', which "
                "has no none start event: a called process starts there, and its "
                "message, signal or timer start events are not used when it is "
                "called (BPMN 2.0.2 \u00a710.5.2; Camunda 7 fails the call); give "
                "it a none start event.",
                call.sourceline,
                call.get("id"),
            )
        )
    return found


def _decisions(
    root: etree._Element, decision_ids: Collection[str]
) -> Iterator[Problem]:
    for task in root.iterfind(".//bpmn:businessRuleTask", NSMAP):
        operator = "bpmn:extensionElements/spiffworkflow:serviceTaskOperator"
        if task.find(operator, NSMAP) is not None:
            continue  # runs as a service task (normalize.py)
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NSMAP)
        name = (ref.text or "").strip() if ref is not None else ""
        if name in decision_ids:
            continue
        why = (
            f"uses the decision '{name}', which is in none of the DMN files uploaded "
            "with it"
            if name
            else "names no DMN decision (decisionRef)"
        )
        yield Problem(f"The {_label(task)} {why}.", task.sourceline, task.get("id"))


def unrouted_tasks(root: etree._Element) -> list[Problem]:
    """Return a warning for each user task of an executable process with no candidates.

    Such a task still deploys: at run time it is offered to the process's
    default candidate group (see `processes.services.version_upload`).
    """
    found = []
    for process in root.iterfind("bpmn:process", NSMAP):
        if process.get("isExecutable") != "true":
            continue
        lanes = lane_map(process)
        for tag in HUMAN_TAGS:
            for element in process.iterfind(f".//bpmn:{tag}", NSMAP):
                meta = human_task_meta(element, lanes.get(element.get("id", "")))
                if not candidates.has_candidates(meta):
                    found.append(
                        Problem(
                            f"User task '{meta.name}' has no candidates (no lane, "
                            "assignee, candidateUsers or candidateGroups): it is "
                            "offered to the process's default candidate group.",
                            element.sourceline,
                            meta.bpmn_id,
                        )
                    )
    return found


def form_files(root: etree._Element, uploaded: Collection[str] = ()) -> list[Problem]:
    """Return a warning for each user task or start event whose form is a file
    not uploaded with the diagram.

    A Camunda `formKey` (an embedded HTML form, an app's page; `camunda-forms:`
    keys are Camunda Forms, read from the uploaded .form files and refused when
    missing) names a file Laneway does not read. A SpiffArena
    `formJsonSchemaFilename` is read when uploaded (jsonforms.py); when it is
    not, the task deploys as SpiffArena deploys it (SpiffArena fails only when
    the task is shown). Either way the page shows only the fields drawn with
    `camunda:formData` (none, usually), so what the form would ask for must come
    from the API. A missing `formUiSchemaFilename` only loses the layout.
    """
    names = {name.rsplit("/", 1)[-1] for name in uploaded}
    found = []
    for process in root.iterfind("bpmn:process", NSMAP):
        if process.get("isExecutable") != "true":
            continue
        for tag in (*HUMAN_TAGS, "startEvent"):
            for element in process.iterfind(f".//bpmn:{tag}", NSMAP):
                found.extend(_form_file_warnings(element, names))
    return found


def _spiff_property(element: etree._Element, name: str) -> str:
    values = compiled_xpath(
        "bpmn:extensionElements/spiffworkflow:properties/"
        "spiffworkflow:property[@name=$name]/@value"
    )(element, name=name)
    return "".join(values).strip()


def _form_file_warnings(element: etree._Element, names: set[str]) -> list[Problem]:
    if _EXTENSIONS_TAG not in {c.tag for c in element} and not vendor_attr(
        element, "formKey"
    ):
        return []  # no formKey, no property, no formData: names no form file
    schema = _spiff_property(element, "formJsonSchemaFilename")
    key = vendor_attr(element, "formKey") or schema
    if etree.QName(element).localname != "userTask":
        schema = ""  # SpiffArena shows a JSON-schema form on user tasks only
    drawn = vendor_children(element, "bpmn:extensionElements/x:formData/x:formField")
    if not key or drawn or key.startswith("camunda-forms:"):
        return []
    where = (element.sourceline, element.get("id"))
    if schema and schema.rsplit("/", 1)[-1] in names:
        ui = _spiff_property(element, "formUiSchemaFilename")
        if not ui or ui.rsplit("/", 1)[-1] in names:
            return []
        return [
            Problem(
                f"The UI schema of {_label(element)}, '{ui}', was not uploaded: "
                "its form shows the fields in the schema's order, without the "
                "layout (ui:order, widgets, help texts).",
                *where,
            )
        ]
    why = (
        "which was not uploaded: upload it with the diagram (with the Camunda "
        "Forms) to show its fields; until then"
        if schema
        else "which Laneway does not read:"
    )
    return [
        Problem(
            f"The form of {_label(element)} is the file '{key}', "
            f"{why} its page shows no fields, "
            "so what that form asks for must come from the API "
            "(variables sent with the start or the completion) or "
            "from fields drawn with camunda:formData.",
            *where,
        )
    ]


def reference_problems(
    root: etree._Element,
    *,
    known_operations: Collection[str],
    decision_ids: Collection[str],
    deployed_processes: Collection[str] = (),
) -> list[Problem]:
    """Return every operation, process and decision that does not resolve.

    `deployed_processes` are the executable processes of the called documents
    (deployed versions) the file is compiled with; a call activity may call them.
    """
    return [
        *_operations(root, known_operations),
        *_called_processes(root, deployed_processes),
        *binding_problems(root),
        *_decisions(root, decision_ids),
    ]


_EXPRESSIONS = (
    ("bpmn:sequenceFlow/bpmn:conditionExpression", "Condition"),
    ("bpmn:conditionalEventDefinition/bpmn:condition", "Condition"),
    ("bpmn:timerEventDefinition/bpmn:timeDuration", "Timer"),
    ("bpmn:timerEventDefinition/bpmn:timeDate", "Timer"),
    ("bpmn:timerEventDefinition/bpmn:timeCycle", "Timer"),
    ("bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "Loop cardinality"),
    (
        "bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition",
        "Completion condition",
    ),
    ("bpmn:standardLoopCharacteristics/bpmn:loopCondition", "Loop condition"),
    (
        "spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter",
        "Parameter",
    ),
)
_SCRIPTS = (
    ("bpmn:scriptTask/bpmn:script", "Script"),
    ("bpmn:extensionElements/spiffworkflow:preScript", "Pre-script"),
    ("bpmn:extensionElements/spiffworkflow:postScript", "Post-script"),
    ("bpmn:extensionElements/spiffworkflow:assignmentScript", "Assignment listener"),
)


def _compile_problems(
    root: etree._Element, skip: Collection[str | None]
) -> Iterator[Problem]:
    checks = [(path, what, check_expression) for path, what in _EXPRESSIONS]
    checks += [(path, what, check_script) for path, what in _SCRIPTS]
    for path, what, check in checks:
        for node in root.iterfind(f".//{path}", NSMAP):
            owner = owner_of(node)
            text = node.get("value") if what == "Parameter" else node.text
            if not (text or "").strip() or owner.get("id") in skip:
                continue
            why = check(text)
            if why:
                yield Problem(
                    f"{what} of {_label(owner)} ({text.strip()!r}): {why}",
                    node.sourceline,
                    owner.get("id"),
                )


def expression_problems(
    root: etree._Element, *, skip: Collection[str | None] = ()
) -> list[Problem]:
    """Return every condition, timer, script and parameter that does not compile."""
    return list(_compile_problems(root, skip))


def decision_ids(roots: Collection[etree._Element]) -> set[str]:
    """Return the ids of every decision in the DMN files."""
    return {
        d.get("id", "") for r in roots for d in r.xpath("//*[local-name()='decision']")
    }


# Listeners on a task with camunda:inputOutput (Camunda 7's task scope).
_LISTENER_SCRIPTS = (
    ("preScript", "a start listener", "maps the inputs before"),
    ("postScript", "an end listener", "maps the outputs after"),
)


def _listener_scopes(root: etree._Element) -> Iterator[Problem]:
    """Refuse a listener whose variables Camunda 7 puts in its task's scope.

    Camunda 7 runs a task's execution listeners in the task's scope when it
    has camunda:inputOutput: its input parameters shadow the case variables
    of their names (a listener reading or setting one uses the task's), the
    inputs are mapped before the start listeners and the outputs after the
    end listeners. Laneway's listener scripts (a pre/post script, normalized
    from the listeners) read and set the case's variables, before the inputs
    and after the outputs are evaluated: refused where that differs.
    """
    for io in vendor_children(root, f".//bpmn:*/{IO}"):
        task = io.getparent().getparent()
        operator = task.find(
            "bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NSMAP
        )
        if operator is None:
            continue
        inputs = {p.get("name", "") for p in vendor_children(task, IO_INPUTS)}
        parameters = operator.findall(
            "spiffworkflow:parameters/spiffworkflow:parameter", NSMAP
        )[: len(inputs)]
        outputs = operator.findall("spiffworkflow:outputParameter", NSMAP)
        outputs = outputs[len(vendor_children(task, CONNECTOR_OUTPUTS)) :]
        read = {
            "preScript": _names_read(p.get("value", "") for p in parameters),
            "postScript": _names_read(o.get("value", "") for o in outputs),
        }
        for kind, who, order in _LISTENER_SCRIPTS:
            script = task.find(f"bpmn:extensionElements/spiffworkflow:{kind}", NSMAP)
            if script is None or not (script.text or "").strip():
                continue
            why = _listener_scope_reason(script.text, inputs, read[kind], order)
            if why:
                yield Problem(
                    f"The {_label(task)} is refused: {who} {why}; move the "
                    "work to a script task before or after it.",
                    io.sourceline,
                    task.get("id"),
                )


def _names_read(expressions: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for expression in expressions:
        try:
            names |= referenced_names(expression)
        except SyntaxError:
            continue  # refused as an expression elsewhere
    return names


def _listener_scope_reason(
    script: str, inputs: set[str], read: set[str], order: str
) -> str:
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return ""  # refused as a script elsewhere
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    shadowed = sorted(names & inputs)
    if shadowed:
        return (
            f"uses {', '.join(shadowed)}, an input parameter of the task: Camunda 7 "
            "runs the listener in the task's scope, where it is the task's local "
            "variable, not the case's"
        )
    stored = {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)
    }
    raced = sorted(stored & read)
    if raced:
        return (
            f"sets {', '.join(raced)}, which the task's parameters read: Camunda 7 "
            f"{order} the listener, Laneway the other way round"
        )
    return ""


_EXTENSIONS_TAG = f"{{{BPMN}}}extensionElements"


# Every element's id (root included), as plain strings: one walk in C.
