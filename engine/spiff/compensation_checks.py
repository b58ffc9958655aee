"""Upload checks of compensation and transactions: what compensation.py does not run.

Every construct refused here is named, located and explained (support.py lists
them on the coverage page).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .compensation import (
    COMPENSABLE,
    compensation_definition,
    compensation_event_subprocess,
    compensation_event_subprocesses,
    handler_id,
    is_handler,
)
from .normalize import describe
from .types import Problem
from .xml import BPMN, NSMAP, compiled_xpath, local_name

_THROWS = ("intermediateThrowEvent", "endEvent")
_SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")
_LOOPS = ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
# Compensable besides tasks: a sub-process, a transaction or a call activity
# with a compensation boundary event (its handler runs, as for a task).
_ACTIVITIES = ("subProcess", "transaction", "callActivity")


def _problem(node: etree._Element, why: str) -> Problem:
    return Problem(
        f"The {describe(node)} is refused: {why}.", node.sourceline, node.get("id")
    )


def _scope_of(node: etree._Element) -> etree._Element:
    parent = node.getparent()
    while parent is not None and local_name(parent) not in _SCOPES:
        parent = parent.getparent()
    return parent if parent is not None else node


def _in_event_subprocess(node: etree._Element) -> bool:
    parent = node.getparent()
    while parent is not None:
        if local_name(parent) == "subProcess" and parent.get("triggeredByEvent") == (
            "true"
        ):
            return True
        parent = parent.getparent()
    return False


def _is_compensation_event_subprocess(node: etree._Element) -> bool:
    parent = node.getparent()
    return parent is not None and compensation_event_subprocess(parent) is node


def _compensated_scopes(event: etree._Element) -> list[etree._Element] | None:
    """Return the scopes a compensation throw compensates (compensation.py),
    or None for a throw in an event sub-process but not directly in one (in a
    sub-process inside it), which is not supported."""
    scope = _scope_of(event)
    if _in_event_subprocess(event) and scope.get("triggeredByEvent") != "true":
        return None
    found = [scope]
    while scope.get("triggeredByEvent") == "true":
        scope = _scope_of(scope)
        found.append(scope)
    return found


_EVENT_SUBPROCESS = (
    "compensation inside an event sub-process is not supported, but a "
    "compensation throw directly in it (compensating the scope it is in, as "
    "Camunda 7); compensate from the main flow, or throw it directly in the "
    "event sub-process"
)


_SECOND_BOUNDARY = (
    "an activity has one compensation boundary event (Camunda 7 refuses "
    "more: 'multiple boundary events with compensateEventDefinition not "
    "supported on same activity'); here only the last one's handler would run. "
    "Keep one and let its handler undo everything"
)


def _boundary_problems(
    boundary: etree._Element, nodes: dict, flow_ends: set[str]
) -> Iterator[Problem]:
    scope = _scope_of(boundary)
    activity = nodes.get(boundary.get("attachedToRef"))
    kind = local_name(activity) if activity is not None else ""
    if _in_event_subprocess(boundary):
        yield _problem(boundary, _EVENT_SUBPROCESS)
    elif kind and kind not in (*COMPENSABLE, *_ACTIVITIES):
        yield _problem(
            boundary,
            f"compensating a {kind} is not supported (only tasks, "
            "sub-processes and call activities)",
        )
    elif (
        activity is not None
        and kind in _SCOPES
        and compensation_event_subprocess(activity) is not None
    ):
        yield _problem(
            boundary,
            f"the sub-process {activity.get('id')!r} has a compensation event "
            "sub-process, which runs when it is compensated (Camunda 7 refuses "
            "both: 'compensation boundary event and event subprocess with "
            "compensation start event are not supported on the same scope'); "
            "keep one of them",
        )
    elif (
        activity is not None
        and kind in _SCOPES
        and _inner_handlers(activity) is not None
        and (
            kind == "adHocSubProcess"
            or any(activity.find(f"bpmn:{loop}", NSMAP) is not None for loop in _LOOPS)
        )
    ):
        yield _problem(
            boundary,
            f"the {kind} {activity.get('id')!r} is multi-instance or ad hoc and "
            "has a compensation handler of its own and compensation boundary "
            "events inside, which is not supported (Camunda 7 runs its handler "
            "for each instance, and the inner ones too for a throw without "
            "activityRef); keep either the handler on it or the ones inside",
        )
    elif boundary.get("id") in flow_ends:
        yield _problem(
            boundary,
            "a compensation boundary event has no outgoing sequence flow (BPMN "
            "2.0); associate it with its handler (isForCompensation) instead",
        )
    elif handler_id(scope, boundary) is None:
        yield _problem(
            boundary,
            "it needs exactly one association to a compensation handler (an "
            'activity with isForCompensation="true") in the same scope',
        )


def _handler_problems(handler: etree._Element, ids: dict) -> Iterator[Problem]:
    kind = local_name(handler)
    if _is_compensation_event_subprocess(handler):
        return  # isForCompensation on a compensation event sub-process: it is one
    if _in_event_subprocess(handler):
        yield _problem(handler, _EVENT_SUBPROCESS)
    elif kind not in COMPENSABLE:
        yield _problem(
            handler,
            f"a {kind} as compensation handler is not supported; use a task "
            f"({', '.join(COMPENSABLE)})",
        )
    elif any(handler.find(f"bpmn:{loop}", NSMAP) is not None for loop in _LOOPS):
        yield _problem(
            handler,
            "a multi-instance or loop compensation handler is not supported",
        )
    elif (
        handler.find("bpmn:incoming", NSMAP) is not None
        or handler.find("bpmn:outgoing", NSMAP) is not None
        or handler.get("id") in ids["flow_ends"]
    ):
        yield _problem(
            handler,
            "a compensation handler has no incoming or outgoing sequence flows "
            "(BPMN 2.0): it runs when compensation is thrown",
        )
    elif handler.get("id") in ids["attached"]:
        yield _problem(
            handler, "boundary events on a compensation handler are not supported"
        )
    elif handler.get("id") not in ids["handlers"]:
        yield _problem(
            handler,
            "no compensation boundary event is associated with it, so it would "
            "never run",
        )


def _inner_handlers(activity: etree._Element) -> etree._Element | None:
    """Return a compensation boundary event nested inside `activity`, if any."""
    for boundary in activity.iterfind(".//bpmn:boundaryEvent", NSMAP):
        if compensation_definition(boundary) is not None:
            return boundary
    return None


def _throw_problems(event: etree._Element, nodes: dict) -> Iterator[Problem]:
    definition = compensation_definition(event)
    assert definition is not None
    ref = definition.get("activityRef")
    scopes = _compensated_scopes(event)
    if scopes is None:
        yield _problem(event, _EVENT_SUBPROCESS)
        return
    if (definition.get("waitForCompletion") or "true").strip() == "false":
        yield _problem(
            event,
            'waitForCompletion="false" is not supported (Camunda 7 ignores it and '
            "waits for the handlers, BPMN would not wait); remove the attribute",
        )
    target = nodes.get(ref) if ref else None
    if ref and (target is None or not any(target.getparent() is s for s in scopes)):
        yield _problem(
            event,
            f"activityRef {ref!r} is not an activity of the same scope as the "
            "event (or, in an event sub-process, of the scope it is in) "
            "(Camunda 7 refuses it too)",
        )
        return


def _cancel_event_problems(
    definition: etree._Element, nodes: dict
) -> Iterator[Problem]:
    event = definition.getparent()
    assert event is not None
    kind = local_name(event)
    if kind == "endEvent":
        scope = _scope_of(event)
        if local_name(scope) != "transaction" or _in_event_subprocess(event):
            yield _problem(
                event,
                "a cancel end event must be directly inside a transaction "
                "sub-process (Camunda 7 refuses it elsewhere)",
            )
    elif kind == "boundaryEvent":
        target = nodes.get(event.get("attachedToRef"))
        if target is None or local_name(target) != "transaction":
            yield _problem(
                event, "a cancel boundary event belongs on a transaction sub-process"
            )
    else:
        yield _problem(
            event,
            "cancel events are end events in a transaction or boundary events on "
            f"it, never a {kind}",
        )


def _transaction_problems(root: etree._Element) -> Iterator[Problem]:
    cancels: dict[str, int] = {}
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NSMAP):
        if boundary.find("bpmn:cancelEventDefinition", NSMAP) is not None:
            ref = str(boundary.get("attachedToRef"))
            cancels[ref] = cancels.get(ref, 0) + 1
    for transaction in root.iterfind(".//bpmn:transaction", NSMAP):
        count = cancels.get(str(transaction.get("id")), 0)
        cancel_end = any(
            end.find("bpmn:cancelEventDefinition", NSMAP) is not None
            for end in transaction.iterfind("bpmn:endEvent", NSMAP)
        )
        if any(transaction.find(f"bpmn:{loop}", NSMAP) is not None for loop in _LOOPS):
            yield _problem(
                transaction, "a multi-instance or loop transaction is not supported"
            )
        elif count > 1:
            yield _problem(
                transaction,
                "only one cancel boundary event is allowed on a transaction "
                "(Camunda 7 refuses more)",
            )
        elif cancel_end and not count:
            yield _problem(
                transaction,
                "its cancel end event needs a cancel boundary event on the "
                "transaction, where the case leaves it",
            )


def compensation_problems(root: etree._Element) -> list[Problem]:
    """Return the compensation constructs outside the subset Laneway runs."""
    # Without a compensation event or handler (most diagrams) only the cancel
    # and transaction checks can find anything: the walks below are skipped.
    marked = _compensation_marked(root)
    cancels = root.findall(".//bpmn:cancelEventDefinition", NSMAP)
    nodes = _nodes_by_id(root) if marked or cancels else {}
    ids: dict[str, set[str]] = {
        "flow_ends": set(),
        "attached": set(),
        "handlers": set(),
    }
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP) if marked else ():
        ids["flow_ends"].update({flow.get("sourceRef"), flow.get("targetRef")})
    problems = _boundaries_problems(root, nodes, ids) if marked else []
    for definition in cancels:
        problems.extend(_cancel_event_problems(definition, nodes))
    problems.extend(_transaction_problems(root))
    problems.extend(_event_subprocess_problems(root) if marked else ())
    for element in root.iter(f"{{{BPMN}}}*") if marked else ():
        kind = local_name(element)
        if is_handler(element):
            problems.extend(_handler_problems(element, ids))
        elif kind in _THROWS and compensation_definition(element) is not None:
            problems.extend(_throw_problems(element, nodes))
        elif (
            kind == "intermediateCatchEvent"
            and compensation_definition(element) is not None
        ):
            problems.append(
                _problem(
                    element,
                    "compensation is caught by a boundary event on the compensated "
                    "task, never by an intermediate catch event",
                )
            )
    return problems


def _event_subprocess_problems(root: etree._Element) -> Iterator[Problem]:
    """A scope has one compensation event sub-process (Camunda 7 refuses more)."""
    for scope in root.iter(f"{{{BPMN}}}subProcess", f"{{{BPMN}}}transaction"):
        for extra in compensation_event_subprocesses(scope)[1:]:
            yield _problem(
                extra,
                f"the sub-process {scope.get('id')!r} has another compensation "
                "event sub-process (Camunda 7 refuses them: 'multiple event "
                "subprocesses with compensation start event are not supported "
                "on the same scope'); keep one",
            )


def _boundaries_problems(
    root: etree._Element, nodes: dict, ids: dict[str, set[str]]
) -> list[Problem]:
    """Check every compensation boundary event; note the attached activities
    and the handlers in `ids`."""
    problems: list[Problem] = []
    compensated: set[str] = set()
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NSMAP):
        activity = str(boundary.get("attachedToRef"))
        ids["attached"].add(activity)
        if compensation_definition(boundary) is None:
            continue
        handler = handler_id(_scope_of(boundary), boundary)
        if handler:
            ids["handlers"].add(handler)
        if activity in compensated:
            problems.append(_problem(boundary, _SECOND_BOUNDARY))
            continue
        compensated.add(activity)
        problems.extend(_boundary_problems(boundary, nodes, ids["flow_ends"]))
    return problems


def _compensation_marked(root: etree._Element) -> bool:
    """Whether the document has a compensation event definition or handler."""
    found = compiled_xpath(
        "boolean(descendant-or-self::bpmn:compensateEventDefinition"
        " | descendant-or-self::bpmn:*[@isForCompensation])"
    )(root)
    return bool(found)


def _nodes_by_id(root: etree._Element) -> dict[str | None, etree._Element]:
    return {i: e for e in root.iter(f"{{{BPMN}}}*") if (i := e.get("id"))}
