"""Exact per-element figures of a process version, from Laneway's own tables.

- completed: how many times the element finished in the range (audit events
  `element.completed`, and for the steps a command completes, `task.completed`
  and `service.succeeded`), by the event's time;
- active: how many unfinished cases of the version wait at it now;
- incidents: the open incidents at it now;
- median_s / p90_s: seconds a human task spent open (created -> completed), and
  a service task waited for its operation or external worker (call created ->
  result applied), for those finished in the range; None where no duration is
  known (events, gateways and timers pass in no measured time of their own).

Percentiles are PostgreSQL's `percentile_cont` (linear interpolation between
the closest ranks), so a median of an even count is the mean of the middle two.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, QuerySet

from audit.actions import AuditAction, task_ref_element
from audit.models import AuditEvent
from engine.models import Case, Incident, ServiceCall
from engine.spec_cache import spec_for
from processes.models import ProcessVersion
from tasks_app.models import HumanTask

_COMPLETIONS = (
    AuditAction.ELEMENT_COMPLETED,
    AuditAction.TASK_COMPLETED,
    AuditAction.SERVICE_SUCCEEDED,
)
_UNFINISHED = (Case.Status.RUNNING, Case.Status.SUSPENDED)


@dataclass(frozen=True, slots=True)
class ElementStatistics:
    """The figures of one BPMN element of a version."""

    id: str
    name: str
    active: int
    completed: int
    incidents: int
    median_s: float | None
    p90_s: float | None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the `fraction` percentile of values (percentile_cont), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds(began: str, finished: str) -> Func:
    return Func(
        F(finished) - F(began),
        template="EXTRACT(EPOCH FROM (%(expressions)s))",
        output_field=FloatField(),
    )


def duration_figures(
    qs: QuerySet, *, began: str, finished: str, by: str
) -> dict[str, tuple[int, float | None, float | None]]:
    """Return {group: (count, median_s, p90_s)} of `finished - began` per `by`.

    PostgreSQL computes them (percentile_cont, in one grouped query, without
    sending every row here); elsewhere (the SQLite quick start) Python does the
    same interpolation.
    """
    if connection.vendor == "postgresql":
        seconds = _seconds(began, finished)
        rows = (
            qs.order_by()
            .values(by)
            .annotate(
                n=Count("pk"),
                median=_Percentile(seconds, fraction=0.5),
                p90=_Percentile(seconds, fraction=0.9),
            )
            .values_list(by, "n", "median", "p90")
        )
        return {group: (n, median, p90) for group, n, median, p90 in rows}
    values: dict[str, list[float]] = {}
    for group, start, end in qs.values_list(by, began, finished):
        values.setdefault(group, []).append((end - start).total_seconds())
    return {
        group: (len(v), percentile(v, 0.5), percentile(v, 0.9))
        for group, v in values.items()
    }


def in_range(
    qs: QuerySet, field: str, since: datetime | None, until: datetime | None
) -> QuerySet:
    """Return `qs` with `field` in [since, until) (either end may be open)."""
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


def _completed_counts(
    version: ProcessVersion, since: datetime | None, until: datetime | None
) -> Counter[str]:
    events = in_range(
        AuditEvent.objects.filter(version_id=version.pk, action__in=_COMPLETIONS),
        "at",
        since,
        until,
    )
    counts: Counter[str] = Counter()
    for task_ref, n in events.values_list("task_ref").annotate(n=Count("id")):
        counts[task_ref_element(task_ref)] += n
    return counts


def _active_counts(version: ProcessVersion) -> Counter[str]:
    counts: Counter[str] = Counter()
    rows = Case.objects.filter(version=version, status__in=_UNFINISHED).values_list(
        "active_elements", flat=True
    )
    for elements in rows:
        counts.update(set(elements or ()))
    return counts


def _incident_counts(version: ProcessVersion) -> Counter[str]:
    rows = (
        Incident.objects.filter(case__version=version, status=Incident.Status.OPEN)
        .values_list("bpmn_id")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


def _durations(
    version: ProcessVersion, since: datetime | None, until: datetime | None
) -> dict[str, tuple[float | None, float | None]]:
    tasks = in_range(
        HumanTask.objects.filter(
            case__version=version, status=HumanTask.Status.COMPLETED
        ),
        "completed_at",
        since,
        until,
    )
    calls = in_range(
        ServiceCall.objects.filter(
            case__version=version, status=ServiceCall.Status.SUCCEEDED
        ),
        "updated_at",  # a succeeded call is not written again
        since,
        until,
    )
    figures = duration_figures(
        calls, began="created_at", finished="updated_at", by="bpmn_id"
    )
    figures.update(
        duration_figures(
            tasks, began="created_at", finished="completed_at", by="bpmn_id"
        )
    )
    return {element: (median, p90) for element, (_, median, p90) in figures.items()}


def _element_names(version: ProcessVersion, seen: Iterable[str]) -> dict[str, str]:
    names = dict(spec_for(version).meta.element_names)
    return {element: names.get(element, element) for element in seen}


def version_statistics(
    *,
    version: ProcessVersion,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ElementStatistics]:
    """Return the figures of the elements with any, in element-id order.

    Like Camunda's process-definition statistics, an element no case has reached
    in the range and none waits at is left out.
    """
    completed = _completed_counts(version, since, until)
    active = _active_counts(version)
    incidents = _incident_counts(version)
    durations = _durations(version, since, until)
    seen = {*completed, *active, *incidents, *durations} - {""}
    return [
        ElementStatistics(
            id=element,
            name=name,
            active=active[element],
            completed=completed[element],
            incidents=incidents[element],
            median_s=durations.get(element, (None, None))[0],
            p90_s=durations.get(element, (None, None))[1],
        )
        for element, name in sorted(_element_names(version, seen).items())
    ]


def waiting_cases(*, version: ProcessVersion, element: str) -> QuerySet[Case]:
    """Return the unfinished cases of the version that wait at the element now."""
    return Case.objects.filter(
        version=version,
        status__in=_UNFINISHED,
        active_elements__contains=[element],
    ).order_by("started_at")
