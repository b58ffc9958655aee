"""The cockpit dashboard's figures: cases per day, open cases, open and overdue tasks.

Filters: a process key, a version number of it, and a time range [since, until)
for the per-day series (default: the last 30 days up to now). Open cases and
tasks are counted as they are now, for the chosen process and version.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from engine.models import Case, Incident
from tasks_app.models import HumanTask

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


def _cases(filters: DashboardFilters) -> QuerySet[Case]:
    qs = Case.objects.all()
    if filters.process:
        qs = qs.filter(version__definition__key=filters.process)
        if filters.version is not None:
            qs = qs.filter(version__number=filters.version)
    return qs


def _per_day(qs: QuerySet[Case], at: str, since: datetime, until: datetime) -> Counter:
    rows = (
        qs.filter(**{f"{at}__gte": since, f"{at}__lt": until})
        .annotate(day=TruncDate(at))
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    return Counter(dict(rows))


def _days(since: datetime, until: datetime) -> list[date]:
    first = timezone.localdate(since)
    last = timezone.localdate(until - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _load(tasks: QuerySet[HumanTask], now: datetime) -> tuple[list, list]:
    groups: Counter[str] = Counter()
    groups_late: Counter[str] = Counter()
    users: Counter[str] = Counter()
    users_late: Counter[str] = Counter()
    rows = tasks.values_list("candidate_groups", "assignee__username", "due_at")
    for candidate_groups, assignee, due_at in rows:
        late = due_at is not None and due_at < now
        for name in set(candidate_groups or ()):
            groups[name] += 1
            groups_late[name] += late
        if assignee:
            users[assignee] += 1
            users_late[assignee] += late
    return (
        [GroupLoad(n, groups[n], groups_late[n]) for n in sorted(groups)],
        [GroupLoad(n, users[n], users_late[n]) for n in sorted(users)],
    )


def cockpit_dashboard(*, filters: DashboardFilters) -> CockpitDashboard:
    """Return the dashboard's figures for the filters."""
    now = timezone.now()
    until = filters.until or now
    since = filters.since or until - timedelta(days=DEFAULT_DAYS)
    cases = _cases(filters)
    started = _per_day(cases, "started_at", since, until)
    completed = _per_day(
        cases.filter(status=Case.Status.COMPLETED), "ended_at", since, until
    )
    days = _days(since, until)
    open_cases = list(
        cases.filter(status__in=_OPEN)
        .values("version__definition__key", "status")
        .annotate(n=Count("pk"))
        .order_by("version__definition__key", "status")
    )
    tasks = HumanTask.objects.filter(
        status=HumanTask.Status.OPEN, case__in=cases.values("pk")
    )
    by_group, by_user = _load(tasks, now)
    incidents = (
        Incident.objects.filter(
            status=Incident.Status.OPEN, case__in=cases.values("pk")
        )
        .values("case__version__definition__key", "bpmn_id")
        .annotate(n=Count("pk"))
        .order_by("case__version__definition__key", "bpmn_id")
    )
    return CockpitDashboard(
        days=[d.isoformat() for d in days],
        started=[started[d] for d in days],
        completed=[completed[d] for d in days],
        open_cases=[
            {
                "process": r["version__definition__key"],
                "status": r["status"],
                "count": r["n"],
            }
            for r in open_cases
        ],
        by_group=by_group,
        by_user=by_user,
        incidents=[
            {
                "process": r["case__version__definition__key"],
                "element": r["bpmn_id"],
                "count": r["n"],
            }
            for r in incidents
        ],
    )
