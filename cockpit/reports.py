"""Per user task: waiting time (offered -> claimed), handling time (claimed ->
completed), their median and p90, and the share completed after the due date.

Offered is when the task was created; claimed is its first `task.claimed` or
`task.assigned` audit event (a task completed unclaimed is claimed as it is
completed); completed is `HumanTask.completed_at`. The range selects the tasks
completed in [since, until).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from audit.actions import AuditAction, task_ref_for
from audit.models import AuditEvent
from engine.models import Case
from processes.models import ProcessVersion
from tasks_app.models import HumanTask

from .statistics import in_range, percentile

_CLAIMS = (AuditAction.TASK_CLAIMED, AuditAction.TASK_ASSIGNED)


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


def _first_claims(
    version: ProcessVersion, since: datetime | None
) -> dict[str, datetime]:
    """The first claim (or assignment) of each task, from the audit log.

    Claims before `since` matter only for tasks completed after it, so the
    earliest of those tasks' creation bounds the read.
    """
    events = AuditEvent.objects.filter(version_id=version.pk, action__in=_CLAIMS)
    if since is not None:
        oldest = (
            HumanTask.objects.filter(
                case__version=version,
                status=HumanTask.Status.COMPLETED,
                completed_at__gte=since,
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if oldest is not None:
            events = events.filter(at__gte=oldest)
    claims: dict[str, datetime] = {}
    for task_ref, at in events.order_by("at").values_list("task_ref", "at"):
        claims.setdefault(task_ref, at)
    return claims


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
    fields += ["due_at"] + (["case__data"] if with_data else [])
    claims = _first_claims(version, since)
    for row in tasks.order_by("completed_at").values_list(*fields):
        pk, case_id, bpmn_id, name, created_at, completed_at, due_at = row[:7]
        assert completed_at is not None
        ref = task_ref_for(bpmn_id=bpmn_id, task_id=pk)
        claimed = min(claims.get(ref, completed_at), completed_at)
        yield TaskTimes(
            case_id=str(case_id),
            task_id=str(pk),
            bpmn_id=bpmn_id,
            name=name,
            offered_at=created_at,
            claimed_at=claimed,
            completed_at=completed_at,
            late=due_at is not None and completed_at > due_at,
            data=row[7] if with_data else {},
        )


def task_report(
    *,
    version: ProcessVersion,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TaskReport]:
    """Return the waiting/handling figures per user task, in element-id order."""
    by_task: dict[str, list[TaskTimes]] = {}
    for times in task_times(version=version, since=since, until=until, with_data=False):
        by_task.setdefault(times.bpmn_id, []).append(times)
    return [
        TaskReport(
            id=bpmn_id,
            name=rows[0].name,
            completed=len(rows),
            waiting_median_s=percentile([r.waiting_s for r in rows], 0.5),
            waiting_p90_s=percentile([r.waiting_s for r in rows], 0.9),
            handling_median_s=percentile([r.handling_s for r in rows], 0.5),
            handling_p90_s=percentile([r.handling_s for r in rows], 0.9),
            late_share=sum(r.late for r in rows) / len(rows),
        )
        for bpmn_id, rows in sorted(by_task.items())
    ]


@dataclass(frozen=True, slots=True)
class CycleTimes:
    """Cycle times (start -> completion) of a process's completed cases."""

    count: int
    median_s: float | None
    p90_s: float | None
    bins: list[dict[str, float]]  # {"from_s", "to_s", "count"}, equal widths


def histogram(values: list[float], bins: int) -> list[dict[str, float]]:
    """Split [min, max] into `bins` equal bins (the last includes max) and count."""
    if not values:
        return []
    low, high = min(values), max(values)
    width = (high - low) / bins if high > low else 0.0
    counts = [0] * (bins if width else 1)
    for value in values:
        index = min(int((value - low) / width), bins - 1) if width else 0
        counts[index] += 1
    return [
        {"from_s": low + i * width, "to_s": low + (i + 1) * width, "count": n}
        for i, n in enumerate(counts)
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


def cycle_times(*, cases: QuerySet[Case], bins: int) -> CycleTimes:
    """Return the count, median, p90 and histogram of the cases' cycle times."""
    values = [
        (ended - started).total_seconds()
        for started, ended in cases.values_list("started_at", "ended_at")
        if ended is not None
    ]
    return CycleTimes(
        count=len(values),
        median_s=percentile(values, 0.5),
        p90_s=percentile(values, 0.9),
        bins=histogram(values, bins),
    )
