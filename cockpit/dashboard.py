"""The cockpit dashboard's figures: cases per day, open cases, open and overdue tasks.

Filters: a process key, a version number of it, and a time range [since, until)
for the per-day series (default: the last 30 whole days and today up to now,
so every day but today comes whole from the rollups). Open cases and
tasks are counted as they are now, for the chosen process and version.

The per-day series come from the maintained rollups and the rows since
(cockpit.rollups), exact; the open counts are grouped in the database from the
open rows (partial indexes on the open cases and tasks).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from engine.models import Case, Incident
from processes.models import ProcessVersion
from tasks_app.models import HumanTask

from .rollups import (
    CYCLE,
    STARTED,
    Versions,
    open_cases_by_version,
    open_tasks_by_group,
    per_day,
)

DEFAULT_DAYS = 30
_OPEN = (Case.Status.RUNNING, Case.Status.SUSPENDED)


@dataclass(frozen=True, slots=True)
class DashboardFilters:
    """What the dashboard shows: one process (and version) or all, over a range."""

    process: str = ""
    version: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupLoad:
    """Open and overdue tasks offered to one group (or assigned to one user)."""

    name: str
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class CockpitDashboard:
    days: list[str]
    started: list[int]
    completed: list[int]
    open_cases: list[dict] = field(default_factory=list)
    by_group: list[GroupLoad] = field(default_factory=list)
    by_user: list[GroupLoad] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)


def _versions(filters: DashboardFilters) -> Versions:
    """The ids of the versions the filters choose (None: every version)."""
    if not filters.process:
        return None
    versions = ProcessVersion.objects.filter(definition__key=filters.process)
    if filters.version is not None:
        versions = versions.filter(number=filters.version)
    return list(versions.values_list("pk", flat=True))


def _of(qs: QuerySet, path: str, versions: Versions) -> QuerySet:
    return qs if versions is None else qs.filter(**{f"{path}__in": versions})


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _days(since: datetime, until: datetime) -> list[date]:
    first = timezone.localdate(since)
    last = timezone.localdate(until - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _by_groups(tasks: QuerySet[HumanTask]) -> Counter[str]:
    """How many of the tasks each candidate group has (grouped by the whole list
    in the database, so few rows come back: each list counts once per group)."""
    found: Counter[str] = Counter()
    for names, n in tasks.values_list("candidate_groups").annotate(n=Count("pk")):
        for name in set(names or ()):
            found[name] += n
    return found


def _group_load(versions: Versions, now: datetime, *, rolled: bool) -> list[GroupLoad]:
    """Open and overdue tasks per candidate group.

    Open: from the rollups (offered - closed) and the tasks since their mark when
    `rolled`, else counted from the open tasks; overdue: the open tasks past their
    due date (an index on the open tasks' due dates).
    """
    tasks = _of(
        HumanTask.objects.filter(status=HumanTask.Status.OPEN).order_by(),
        "case__version_id",
        versions,
    )
    groups = open_tasks_by_group(versions) if rolled else None
    if groups is None:
        groups = _by_groups(tasks)
    overdue = _by_groups(tasks.filter(due_at__lt=now))
    return [GroupLoad(n, groups[n], overdue[n]) for n in sorted(groups)]


def _open_cases(versions: Versions, *, rolled: bool) -> list[dict]:
    """Open cases per process and status (running, suspended)."""
    open_now = open_cases_by_version(versions) if rolled else None
    if open_now is None:
        rows = (
            _of(Case.objects.filter(status__in=_OPEN), "version_id", versions)
            .values_list("version__definition__key", "status")
            .annotate(n=Count("pk"))
        )
        found = Counter({(key, status): n for key, status, n in rows})
    else:
        keys = dict(
            ProcessVersion.objects.filter(pk__in=list(open_now)).values_list(
                "pk", "definition__key"
            )
        )
        suspended = (
            _of(
                Case.objects.filter(status=Case.Status.SUSPENDED).order_by(),
                "version_id",
                versions,
            )
            .values_list("version_id")
            .annotate(n=Count("pk"))
        )
        found = Counter()
        for version_id, n in open_now.items():
            found[(keys[version_id], Case.Status.RUNNING.value)] += n
        for version_id, n in suspended:
            found[(keys[version_id], Case.Status.RUNNING.value)] -= n
            found[(keys[version_id], Case.Status.SUSPENDED.value)] += n
    return [
        {"process": key, "status": status, "count": n}
        for (key, status), n in sorted(found.items())
        if n > 0
    ]


def _user_load(versions: Versions, now: datetime) -> list[GroupLoad]:
    """Open and overdue tasks per assignee (the (status, assignee) index)."""
    tasks = _of(
        HumanTask.objects.filter(
            status=HumanTask.Status.OPEN, assignee__isnull=False
        ).order_by(),
        "case__version_id",
        versions,
    )
    rows = tasks.values_list("assignee__username").annotate(
        n=Count("pk"), late=Count("pk", filter=Q(due_at__lt=now))
    )
    return [GroupLoad(name, n, late) for name, n, late in sorted(rows)]


def cockpit_dashboard(*, filters: DashboardFilters) -> CockpitDashboard:
    """Return the dashboard's figures for the filters."""
    now = timezone.now()
    until = filters.until or now
    since = filters.since or _midnight(
        timezone.localdate(until) - timedelta(days=DEFAULT_DAYS)
    )
    versions = _versions(filters)
    window: dict[str, Any] = {"versions": versions, "since": since, "until": until}
    started = per_day(STARTED, **window)
    completed = per_day(CYCLE, **window)
    days = _days(since, until)
    # A migrated case's rolled figures stay with its old version: the rollups
    # answer for every version of a process (or all), not for one version.
    rolled = filters.version is None
    incidents = (
        _of(
            Incident.objects.filter(status=Incident.Status.OPEN),
            "case__version_id",
            versions,
        )
        .values("case__version__definition__key", "bpmn_id")
        .annotate(n=Count("pk"))
        .order_by("case__version__definition__key", "bpmn_id")
    )
    return CockpitDashboard(
        days=[d.isoformat() for d in days],
        started=[started[d] for d in days],
        completed=[completed[d] for d in days],
        open_cases=_open_cases(versions, rolled=rolled),
        by_group=_group_load(versions, now, rolled=rolled),
        by_user=_user_load(versions, now),
        incidents=[
            {
                "process": r["case__version__definition__key"],
                "element": r["bpmn_id"],
                "count": r["n"],
            }
            for r in incidents
        ],
    )
