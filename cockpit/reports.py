"""Per user task: waiting time (offered -> claimed), handling time (claimed ->
completed), their median and p90, and the share completed after the due date.

Offered is when the task was created; claimed is `HumanTask.claimed_at`, its
first claim or assignment (a task completed unclaimed is claimed as it is
completed); completed is `HumanTask.completed_at`. The range selects the tasks
completed in [since, until). The figures come from the maintained rollups and
the rows since (cockpit.rollups): counts and shares exact, medians and p90
exact up to settings.COCKPIT_EXACT_LIMIT tasks of an element, within 0.99% above.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from engine.models import Case
from engine.spec_cache import spec_for
from processes.models import ProcessVersion
from tasks_app.models import HumanTask

from .rollups import (
    CYCLE,
    HANDLING,
    LATE,
    WAITING,
    bucket_value,
    durations,
    report,
)


def in_range(
    qs: QuerySet, field: str, since: datetime | None, until: datetime | None
) -> QuerySet:
    """Return `qs` with `field` in [since, until) (either end may be open)."""
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


@dataclass(frozen=True, slots=True)
class TaskTimes:
    """One completed human task with its three moments."""

    case_id: str
    task_id: str
    bpmn_id: str
    name: str
    offered_at: datetime
    claimed_at: datetime
    completed_at: datetime
    late: bool
    data: dict[str, Any]

    @property
    def waiting_s(self) -> float:
        return (self.claimed_at - self.offered_at).total_seconds()

    @property
    def handling_s(self) -> float:
        return (self.completed_at - self.claimed_at).total_seconds()


@dataclass(frozen=True, slots=True)
class TaskReport:
    """The figures of one user task of a version."""

    id: str
    name: str
    completed: int
    waiting_median_s: float | None
    waiting_p90_s: float | None
    handling_median_s: float | None
    handling_p90_s: float | None
    late_share: float | None
    approximate: bool = False


def task_times(
    *,
    version: ProcessVersion,
    since: datetime | None = None,
    until: datetime | None = None,
    with_data: bool = True,
) -> Iterator[TaskTimes]:
    """Yield every human task of the version completed in the range, oldest first.

    `with_data` adds each task's case variables (the CSV report's columns).
    """
    tasks = in_range(
        HumanTask.objects.filter(
            case__version=version, status=HumanTask.Status.COMPLETED
        ),
        "completed_at",
        since,
        until,
    )
    fields = ["pk", "case_id", "bpmn_id", "name", "created_at", "completed_at"]
    fields += ["due_at", "claimed_at"] + (["case__data"] if with_data else [])
    for row in tasks.order_by("completed_at").values_list(*fields):
        pk, case_id, bpmn_id, name, created_at, completed_at, due_at, claimed = row[:8]
        assert completed_at is not None
        claimed = min(claimed or completed_at, completed_at)
        yield TaskTimes(
            case_id=str(case_id),
            task_id=str(pk),
            bpmn_id=bpmn_id,
            name=name,
            offered_at=created_at,
            claimed_at=claimed,
            completed_at=completed_at,
            late=due_at is not None and completed_at > due_at,
            data=row[8] if with_data else {},
        )


def task_report(
    *,
    version: ProcessVersion,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TaskReport]:
    """Return the waiting/handling figures per user task, in element-id order."""
    window: dict[str, Any] = {"versions": [version.pk], "since": since, "until": until}
    times, tallies = report((WAITING, HANDLING), (LATE,), **window)
    waiting, handling, late = times["waiting"], times["handling"], tallies["late"]
    names = dict(spec_for(version).meta.element_names)
    return [
        TaskReport(
            id=bpmn_id,
            name=names.get(bpmn_id) or bpmn_id,
            completed=wait.count,
            waiting_median_s=wait.median_s,
            waiting_p90_s=wait.p90_s,
            handling_median_s=handling[bpmn_id].median_s,
            handling_p90_s=handling[bpmn_id].p90_s,
            late_share=late[bpmn_id] / wait.count,
            approximate=wait.approximate or handling[bpmn_id].approximate,
        )
        for bpmn_id, wait in sorted(waiting.items())
    ]


@dataclass(frozen=True, slots=True)
class CycleTimes:
    """Cycle times (start -> completion) of a process's completed cases."""

    count: int
    median_s: float | None
    p90_s: float | None
    bins: list[dict[str, float]]  # {"from_s", "to_s", "count"}, equal widths
    # From the rollups' duration buckets (more cases than COCKPIT_EXACT_LIMIT): the
    # median and p90 within 0.99%, a case near a bin edge maybe in its neighbour.
    approximate: bool = False


def histogram(values: list[float], bins: int) -> list[dict[str, float]]:
    """Split [min, max] into `bins` equal bins (the last includes max) and count."""
    if not values:
        return []
    return weighted_histogram(
        [(v, 1) for v in values], low=min(values), high=max(values), bins=bins
    )


def weighted_histogram(
    values: Iterable[tuple[float, int]], *, low: float, high: float, bins: int
) -> list[dict[str, float]]:
    """Count (value, how many) pairs in `bins` equal bins of [low, high]."""
    width = (high - low) / bins if high > low else 0.0
    found = [0] * (bins if width else 1)
    for value, n in values:
        index = min(max(int((value - low) / width), 0), bins - 1) if width else 0
        found[index] += n
    return [
        {"from_s": low + i * width, "to_s": low + (i + 1) * width, "count": n}
        for i, n in enumerate(found)
    ]


def completed_cases(
    *,
    key: str,
    version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Case]:
    """Return the process's cases completed in [since, until), oldest first."""
    cases = Case.objects.filter(
        version__definition__key=key, status=Case.Status.COMPLETED
    ).select_related("version")
    if version is not None:
        cases = cases.filter(version__number=version)
    return in_range(cases, "ended_at", since, until).order_by("ended_at")


def cycle_times(
    *,
    key: str,
    version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bins: int,
) -> CycleTimes:
    """Return the count, median, p90 and histogram of the cases' cycle times."""
    versions = ProcessVersion.objects.filter(definition__key=key)
    if version is not None:
        versions = versions.filter(number=version)
    ids = list(versions.values_list("pk", flat=True))
    figures = durations(CYCLE, versions=ids, since=since, until=until).get("")
    if figures is None:
        return CycleTimes(count=0, median_s=None, p90_s=None, bins=[])
    if figures.buckets is None:
        cases = completed_cases(key=key, version=version, since=since, until=until)
        values = [
            (ended - started).total_seconds()
            for started, ended in cases.values_list("started_at", "ended_at")
            if ended is not None
        ]
        shape = histogram(values, bins)
    else:
        assert figures.low is not None and figures.high is not None
        shape = weighted_histogram(
            ((bucket_value(b), n) for b, n in figures.buckets.items()),
            low=figures.low,
            high=figures.high,
            bins=bins,
        )
    return CycleTimes(
        count=figures.count,
        median_s=figures.median_s,
        p90_s=figures.p90_s,
        bins=shape,
        approximate=figures.approximate,
    )
