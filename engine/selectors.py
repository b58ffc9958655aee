"""Read cases: permission-filtered lists and single cases (no CaseState for lists)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from audit.actions import AuditAction, task_ref_element
from audit.selectors import audit_called_version_ids, audit_list_for_case
from engine.form_validation import form_to_json, start_form_js
from engine.spiff import (
    CompiledProcess,
    event_starts_only,
    message_catches,
    message_start_names,
    signal_start_names,
)
from processes.models import ProcessVersion
from processes.selectors import definition_list, version_get, version_list_current

from .errors import (
    ActionNotAllowed,
    CaseNotFound,
    EngineError,
    IncidentNotFound,
    MessageStartOnly,
    StartNotAllowed,
    StartOnlyByEvent,
)
from .models import BufferedMessage, Case, Incident
from .permissions import (
    VIEW_ANY_CASE,
    VIEW_CASE,
    can_cancel_case,
    can_start,
    can_view_case,
    managed_cases,
)
from .spec_cache import spec_for


def case_list_for_user(
    *,
    user: Any,
    status: str | None = None,
    key: str | None = None,
    started_by_me: bool = False,
) -> QuerySet[Case]:
    """Return the cases the user may see (or only those they started), newest first."""
    qs = Case.objects.select_related("version__definition", "started_by").defer(
        "data", "active_elements"
    )
    if not user.has_perm(VIEW_ANY_CASE):
        granted = get_objects_for_user(
            user, VIEW_CASE, klass=Case, accept_global_perms=False, with_superuser=False
        ).values("pk")
        qs = qs.filter(Q(started_by=user) | Q(pk__in=granted) | managed_cases(user))
    if started_by_me:
        qs = qs.filter(started_by=user)
    if status:
        qs = qs.filter(status=status)
    if key:
        qs = qs.filter(version__definition__key=key)
    return qs.order_by("-started_at")


def case_get(*, user: Any, case_id: UUID | str) -> Case:
    """Return a case the user may see.

    Raises:
        CaseNotFound: when it does not exist or the user may not see it.
    """
    try:
        case = Case.objects.select_related("version__definition", "started_by").get(
            pk=case_id
        )
    except (Case.DoesNotExist, ValueError):
        raise CaseNotFound("No such case.") from None
    if not can_view_case(user, case):
        raise CaseNotFound("No such case.")
    return case


def incident_list_for_case(*, case: Case) -> QuerySet[Incident]:
    """Return a case's incidents, open first."""
    return case.incidents.order_by("status", "-created_at")


def incident_list_for_user(
    *, user: Any, status: str | None = "open"
) -> QuerySet[Incident]:
    """Return incidents of the cases the user may see (all for process-admins)."""
    qs = Incident.objects.select_related("case__version__definition")
    if not user.has_perm("engine.view_incident"):
        qs = qs.filter(case__in=case_list_for_user(user=user).values("pk"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def incident_get(*, user: Any, incident_id: Any) -> Incident:
    """Return one incident of a case the user may see.

    Raises:
        IncidentNotFound: when there is none, or the user may not see its case.
    """
    try:
        return incident_list_for_user(user=user, status=None).get(pk=incident_id)
    except (Incident.DoesNotExist, ValueError, ValidationError):
        raise IncidentNotFound("No such incident.") from None


def incident_open_count(*, user: Any) -> int:
    """Return how many open incidents the user may see."""
    return incident_list_for_user(user=user, status=Incident.Status.OPEN).count()


@dataclass(frozen=True, slots=True)
class CaseCounts:
    """Case figures for the dashboard; the totals are None for who may not see them."""

    started_running: int
    running: int | None = None
    completed_since: int | None = None
    open_incidents: int | None = None


def case_counts_for_user(*, user: Any, since: datetime) -> CaseCounts:
    """Count the user's running cases, and every case for those who oversee them all."""
    running = Q(status=Case.Status.RUNNING)
    if not user.has_perm(VIEW_ANY_CASE):
        mine = Case.objects.filter(running, started_by=user).count()
        return CaseCounts(started_running=mine)
    counts = Case.objects.aggregate(
        mine=Count("pk", filter=running & Q(started_by=user)),
        running=Count("pk", filter=running),
        completed=Count(
            "pk", filter=Q(status=Case.Status.COMPLETED, ended_at__gte=since)
        ),
    )
    return CaseCounts(
        started_running=counts["mine"],
        running=counts["running"],
        completed_since=counts["completed"],
        open_incidents=Incident.objects.filter(status=Incident.Status.OPEN).count(),
    )


@dataclass(frozen=True, slots=True)
class StartableProcess:
    """A process the user may start, as the start page lists it."""

    key: str
    name: str
    version: int
    documentation: str
    lane: str


def process_list_startable_for_user(*, user: Any) -> list[StartableProcess]:
    """Return the processes whose current version the user may start, by name.

    A process that starts only by its message is not listed: a message starts it.
    """
    startable = []
    for version in version_list_current():
        process = spec_for(version)
        if not can_start(user, process) or process_hand_start_refusal(process):
            continue
        start = process.meta.start
        startable.append(
            StartableProcess(
                key=version.definition.key,
                name=version.definition.name or version.definition.key,
                version=version.number,
                documentation=start.documentation if start else "",
                lane=(start.lane or "") if start else "",
            )
        )
    return startable


def process_start_form_for_user(
    *, user: Any, key: str, number: int | None = None
) -> tuple[ProcessVersion, Any]:
    """Return a version of `key` (the current one when number is None) and its
    start event, if the user may start it.

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process or version.
        StartNotAllowed: the user may not start it.
        MessageStartOnly, StartOnlyByEvent: no one starts it by hand.
    """
    version = version_get(key=key, number=number)
    process = spec_for(version)
    if not can_start(user, process):
        raise StartNotAllowed(f"You may not start '{process.meta.name}'.")
    refusal = process_hand_start_refusal(process)
    if refusal is not None:
        raise refusal
    return version, process.meta.start


@dataclass(frozen=True, slots=True)
class StartForm:
    """What a person fills to start a case of a process version."""

    key: str
    name: str
    version: int
    documentation: str
    form: list[dict[str, Any]]  # the start event's formData fields (form_to_json)
    form_js: dict[str, Any] | None  # its Camunda Form, shown instead of `form`


def process_start_form_get(
    *, user: Any, key: str, number: int | None = None
) -> StartForm:
    """Return the start form of a version of `key` (the current one by default),
    as Camunda 7's deployed-start-form, to a user who may start it.

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process or version.
        StartNotAllowed: the user may not start it.
        MessageStartOnly, StartOnlyByEvent: no one starts it by hand.
    """
    version, start = process_start_form_for_user(user=user, key=key, number=number)
    return StartForm(
        key=version.definition.key,
        name=version.definition.name or version.definition.key,
        version=version.number,
        documentation=start.documentation if start is not None else "",
        form=form_to_json(start.form) if start is not None else [],
        form_js=start_form_js(version, start),
    )


def process_hand_start_refusal(process: CompiledProcess) -> EngineError | None:
    """Return why nobody may start the process by hand, or None when one may.

    A process whose every start event waits for a message, a signal or a timer
    starts only by that event (its case would idle at the start event).
    """
    kinds = event_starts_only(process)
    name = process.meta.name
    if kinds == ("message",):
        return MessageStartOnly(
            f"'{name}' starts only when its message arrives; send the message "
            "(POST /api/v1/messages/) to start a case.",
            details={"key": process.key},
        )
    if kinds:
        return StartOnlyByEvent(
            f"'{name}' starts only by its {' or '.join(kinds)} start event; "
            "it cannot be started by hand.",
            details={"key": process.key, "starts": list(kinds)},
        )
    return None


def case_can_cancel(*, user: Any, case: Case) -> bool:
    """Return whether the user may cancel this case (for showing the button)."""
    return can_cancel_case(user, case)


def case_element_states(
    *,
    case: Case,
    incidents: Iterable[Incident] | None = None,
    completed: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """Return the BPMN element ids of a case by state, for marking its diagram.

    ``completed`` lists the elements the case has passed (from its audit trail, in
    first-completion order; an element may also be active again after a loop back),
    ``failed`` those with an open incident and ``active`` the others it waits at.
    `incidents`, the case's incidents when the caller has read them already
    (incident_list_for_case), spares reading them again; `completed`, the elements
    it passed when the caller knows them (the start that created it,
    Case.started), spares reading its audit trail.
    """
    failing: Iterable[str]
    if incidents is None:
        failing = (
            case.incidents.filter(status=Incident.Status.OPEN)
            .exclude(bpmn_id="")
            .order_by("created_at")
            .values_list("bpmn_id", flat=True)
        )
    else:
        failing = (
            i.bpmn_id
            for i in sorted(incidents, key=lambda i: i.created_at)
            if i.status == Incident.Status.OPEN and i.bpmn_id
        )
    failed = list(dict.fromkeys(failing))
    active = [e for e in dict.fromkeys(case.active_elements or []) if e not in failed]
    if completed is None:
        completed = _completed_elements(case)
    return {"completed": list(completed), "active": active, "failed": failed}


def _completed_elements(case: Case) -> Iterable[str]:
    completed: dict[str, None] = {}
    events = (
        audit_list_for_case(case_id=case.pk)
        .filter(action__in=(AuditAction.ELEMENT_COMPLETED, AuditAction.TASK_COMPLETED))
        .values_list("action", "task_ref", "payload")
    )
    for action, task_ref, payload in events:
        if action == AuditAction.ELEMENT_COMPLETED:
            element = (payload or {}).get("element") or task_ref
        else:
            element = task_ref_element(task_ref)
        if element:
            completed[element] = None
    return completed


@dataclass(frozen=True, slots=True)
class Choice:
    """A diagram element or sequence flow to choose on a page: id and label."""

    id: str
    label: str


def case_flow_elements(*, case: Case) -> tuple[list[Choice], list[Choice]]:
    """Return the case's active elements and every flow node of its diagram.

    For the case modification form: what can be cancelled, what started.
    """
    meta = spec_for(case.version).meta
    names = dict(meta.element_names)
    nodes = dict.fromkeys(n for f in meta.sequence_flows for n in (f.source, f.target))
    elements = sorted(
        (Choice(n, f"{names.get(n) or n} ({n})") for n in nodes),
        key=lambda c: c.label.lower(),
    )
    active = [
        Choice(n, f"{names.get(n) or n} ({n})")
        for n in dict.fromkeys(case.active_elements or [])
    ]
    return active, elements


def element_outgoing_flows(*, case: Case, bpmn_id: str) -> list[Choice]:
    """Return the sequence flows leaving an element, labelled by name and target."""
    meta = spec_for(case.version).meta
    names = dict(meta.element_names)
    return [
        Choice(f.id, f"{f.name or f.id} → {names.get(f.target) or f.target}")
        for f in meta.sequence_flows
        if f.source == bpmn_id and not f.link
    ]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One audit event of a case, named by its BPMN element."""

    at: datetime
    actor: str
    action: str
    element: str
    details: dict[str, Any]  # the payload without the task and element names


_NAMING_KEYS = ("task", "name", "element")


def case_timeline(*, case: Case) -> list[TimelineEntry]:
    """Return the case's audit events in chain order, each named by its element."""
    names = dict(spec_for(case.version).meta.element_names)
    entries = []
    for event in audit_list_for_case(case_id=case.pk):
        bpmn_id = event.payload.get("element") or task_ref_element(event.task_ref)
        entries.append(
            TimelineEntry(
                at=event.at,
                actor=event.actor_repr or "system",
                action=event.action,
                element=event.payload.get("name") or names.get(bpmn_id) or bpmn_id,
                details={
                    k: v for k, v in event.payload.items() if k not in _NAMING_KEYS
                },
            )
        )
    return entries


@dataclass(frozen=True, slots=True, order=True)
class WaitingEvent:
    """A message or signal a running case waits for, under the name it waits for."""

    kind: str  # "message" | "signal"
    name: str  # resolved when the element was reached (order-${orderId}: order-42)
    element: str  # the waiting element's name, else its id


def case_waiting_list(*, case: Case) -> list[WaitingEvent]:
    """Return the messages and signals a running case waits for, by kind and name.

    Read from its subscriptions, which hold the names the waiting elements
    resolved (what POST /api/v1/messages/ and /signals/ must send).
    """
    if not case.is_running:
        return []
    names = dict(spec_for(case.version).meta.element_names)
    rows = [
        ("message", name, bpmn_id)
        for name, bpmn_id in case.message_subscriptions.values_list("name", "bpmn_id")
    ] + [
        ("signal", name, bpmn_id)
        for name, bpmn_id in case.signal_subscriptions.values_list("name", "bpmn_id")
    ]
    return sorted(
        {WaitingEvent(kind, name, names.get(b) or b) for kind, name, b in rows}
    )


_START_EVENTS = {
    "message": (b"messageEventDefinition", message_start_names),
    "signal": (b"signalEventDefinition", signal_start_names),
}


def version_list_started_by(*, event: str, name: str) -> list[ProcessVersion]:
    """Return the latest versions whose start event waits for `event` `name`.

    `event` is "message" or "signal". Only diagrams that mention such an event
    definition at all are parsed (the spec cache holds the rest).
    """
    marker, start_names = _START_EVENTS[event]
    latest = (
        version_get(key=definition.key)
        for definition in definition_list()
        if definition.latest_number
    )
    return _naming(latest, (marker,), lambda p: name in start_names(p))


def _naming(
    versions: Iterable[ProcessVersion],
    markers: tuple[bytes, ...],
    names: Callable[[CompiledProcess], bool],
) -> list[ProcessVersion]:
    """Return the versions whose compiled process `names` holds for.

    Only diagrams whose XML has one of `markers` are parsed (the spec cache
    holds the rest).
    """
    found = []
    for version in versions:
        xml = bytes(version.normalized_xml)
        if any(marker in xml for marker in markers):
            if names(spec_for(version)):
                found.append(version)
    return found


_CATCHES = (b"messageEventDefinition", b"receiveTask")


def version_list_called(*, case: Case) -> QuerySet[ProcessVersion]:
    """Return the versions of other files' processes the case's calls started."""
    return ProcessVersion.objects.filter(
        pk__in=audit_called_version_ids(case_ids=[case.pk])
    ).select_related("definition")


def version_list_catching(*, name: str) -> list[ProcessVersion]:
    """Return the versions in use that can catch or start with the message `name`.

    In use: the latest deployed version of each definition (new cases start
    there), every version with a running or suspended case, and every version
    of another file's process such a case's call activities started (a child
    may still run an older version of its process; one that has ended is
    counted too, erring towards an incident rather than a lost message). Only
    diagrams that mention a message catch at all are parsed (the spec cache
    holds them).
    """
    open_statuses = (Case.Status.RUNNING, Case.Status.SUSPENDED)
    open_cases = Case.objects.filter(version=OuterRef("pk"), status__in=open_statuses)
    called = audit_called_version_ids(
        case_ids=Case.objects.filter(status__in=open_statuses).values("pk")
    )
    versions = (
        ProcessVersion.objects.filter(
            Q(pk__in=version_list_current().values("pk"))
            | Exists(open_cases)
            | Q(pk__in=called)
        )
        .select_related("definition")
        .defer("original_xml")
        .order_by("definition__key", "number")
    )
    return _naming(versions, _CATCHES, lambda p: message_catches(p, name))


def buffered_message_list(*, user: Any) -> QuerySet[BufferedMessage]:
    """Return the messages kept for a case to wait for them (ttl_s), oldest first.

    Raises:
        ActionNotAllowed: the user may not send messages (so may not see them).
    """
    if not user.has_perm("engine.send_message"):
        raise ActionNotAllowed("You may not see the messages kept for cases.")
    return BufferedMessage.objects.filter(expires_at__gt=timezone.now()).order_by(
        "created_at", "pk"
    )
