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
The range figures come from the maintained rollups and the rows since
(cockpit.rollups): counts exact, medians and p90 exact up to
settings.COCKPIT_EXACT_LIMIT rows of an element, within 0.99% above.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from engine.models import Case, Incident
from engine.spec_cache import spec_for
from processes.models import ProcessVersion

from .rollups import CALL, PASSED, TASK, counts, durations

_UNFINISHED = (Case.Status.RUNNING, Case.Status.SUSPENDED)


@dataclass(frozen=True, slots=True)
class ElementStatistics:
    """The figures of one BPMN element of a version.

    `approximate`: the median and p90 come from the rollups' duration buckets
    (more rows than settings.COCKPIT_EXACT_LIMIT), within 0.99% of the exact ones.
    """

    id: str
    name: str
    active: int
    completed: int
    incidents: int
    median_s: float | None
    p90_s: float | None
    approximate: bool = False


def _active_counts(version: ProcessVersion) -> Counter[str]:
    """How many unfinished cases wait at each element now.

    Grouped by the whole list in the database (the open cases' partial index),
    so few rows come back however many cases wait: each list counts once per
    element in it.
    """
    counts: Counter[str] = Counter()
    rows = (
        Case.objects.filter(version=version, status__in=_UNFINISHED)
        .order_by()
        .values_list("active_elements")
        .annotate(n=Count("pk"))
    )
    for elements, n in rows:
        for element in set(elements or ()):
            counts[element] += n
    return counts


def _incident_counts(version: ProcessVersion) -> Counter[str]:
    rows = (
        Incident.objects.filter(case__version=version, status=Incident.Status.OPEN)
        .values_list("bpmn_id")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


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
    window: dict[str, Any] = {"versions": [version.pk], "since": since, "until": until}
    completed = counts(PASSED, **window)
    active = _active_counts(version)
    incidents = _incident_counts(version)
    timed = durations(CALL, **window)
    timed.update(durations(TASK, **window))
    seen = {*completed, *active, *incidents, *timed} - {""}
    return [
        ElementStatistics(
            id=element,
            name=name,
            active=active[element],
            completed=completed[element],
            incidents=incidents[element],
            median_s=timed[element].median_s if element in timed else None,
            p90_s=timed[element].p90_s if element in timed else None,
            approximate=element in timed and timed[element].approximate,
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
