"""Read cases: permission-filtered lists, single cases, their incidents,
elements, timeline and what they wait for (no CaseState for lists)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from audit.actions import AuditAction, task_ref_element
from audit.selectors import audit_list_for_case

from ..errors import (
    CaseNotFound,
    IncidentNotFound,
)
from ..models import Case, Incident
from ..permissions import (
    VIEW_ANY_CASE,
    VIEW_CASE,
    can_cancel_case,
    can_view_case,
    managed_cases,
)
from ..spec_cache import spec_for


def case_list_for_user(
    *,
    user: Any,
    status: str | None = None,
    key: str | None = None,
    started_by_me: bool = False,
) -> QuerySet[Case]:
    """Return the cases the user may see (or only those they started), newest first."""
    qs = cases_visible(
        user,
        Case.objects.select_related("version__definition", "started_by").defer(
            "data", "active_elements"
        ),
    )
    if started_by_me:
        qs = qs.filter(started_by=user)
    if status:
        qs = qs.filter(status=status)
    if key:
        qs = qs.filter(version__definition__key=key)
    return qs.order_by("-started_at")


def cases_visible(user: Any, qs: QuerySet[Case]) -> QuerySet[Case]:
    """Narrow `qs` to the cases the user may see (as `can_view_case`, in one query)."""
    if user.has_perm(VIEW_ANY_CASE):
        return qs
    granted = get_objects_for_user(
        user, VIEW_CASE, klass=Case, accept_global_perms=False, with_superuser=False
    ).values("pk")
    return qs.filter(Q(started_by=user) | Q(pk__in=granted) | managed_cases(user))


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
    """A message or signal a running case waits for, under the name it waits for,
    or a receive task without a message waiting to be signalled (`execution`)."""

    kind: str  # "message" | "signal" | "receive task"
    name: str  # resolved when the element was reached (order-${orderId}: order-42)
    element: str  # the waiting element's name, else its id
    execution: str = ""  # a receive task's execution id (what a signal names)


def case_waiting_list(*, case: Case) -> list[WaitingEvent]:
    """Return the messages and signals a running case waits for, by kind and name,
    then the receive tasks without a message it waits at, oldest first.

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
    receives = [
        WaitingEvent("receive task", name or bpmn_id, name or bpmn_id, str(execution))
        for execution, bpmn_id, name in case.receive_waits.values_list(
            "spiff_task_id", "bpmn_id", "element_name"
        )
    ]
    return (
        sorted({WaitingEvent(kind, name, names.get(b) or b) for kind, name, b in rows})
        + receives
    )
