"""Read human tasks: the inbox and single tasks, permission-filtered."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Replace
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_group, get_objects_for_user

from common.pagination import PAGE_TOTAL
from common.sql import select_compiled
from engine.form_validation import form_js_labels, start_form_js
from engine.models import Case
from engine.selectors import CaseCounts, case_counts_for_user, case_processes
from processes.models import ProcessDefinition

from .errors import TaskInputInvalid, TaskNotFound
from .lifecycle import TaskAction, actions_allowed, separated
from .models import HumanTask, InboxCandidate
from .permissions import VIEW, WORK, can_view, permission_for


class InboxTab(StrEnum):
    """The inbox's tabs, each a filter with its own count."""

    ALL = "all"
    MINE = "mine"  # assigned to me
    UNASSIGNED = "groups"  # offered to my groups (or me) and unclaimed
    OVERDUE = "overdue"
    DUE_TODAY = "today"


# The sortable columns; a leading "-" sorts descending. The default order (most
# urgent first) is served by the open-task index of HumanTask.Meta.
INBOX_SORTS: dict[str, tuple[Any, ...]] = {
    "priority": (
        F("priority").asc(),
        F("due_at").asc(nulls_last=True),
        "created_at",
    ),
    "due": (F("due_at").asc(nulls_last=True), "-priority", "created_at"),
    "created": ("created_at",),
    "process": ("case__version__definition__name", "-priority", "created_at"),
}
INBOX_DEFAULT_SORT = "-priority"
_URGENT = (F("priority").desc(), F("due_at").asc(nulls_last=True), "created_at")


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """What the user asked the inbox for (pages and API read the same parameters)."""

    tab: InboxTab = InboxTab.ALL
    search: str = ""
    process: str = ""  # a process key
    group: str = ""  # a candidate group name
    case_id: str = ""
    sort: str = INBOX_DEFAULT_SORT

    @classmethod
    def from_params(cls, params: Any, *, strict: bool = False) -> "InboxQuery":
        """Read the query string; unknown values fall back to the defaults.

        Raises:
            TaskInputInvalid: with `strict` (the API), for an unknown value.
        """
        tab = params.get("filter") or params.get("show") or InboxTab.ALL
        if params.get("assigned") == "me":
            tab = InboxTab.MINE
        elif params.get("overdue", "").lower() in ("true", "1", "yes"):
            tab = InboxTab.OVERDUE
        sort = params.get("sort") or INBOX_DEFAULT_SORT
        case = params.get("case") or ""
        wrong = {
            "filter": tab not in InboxTab._value2member_map_,
            "sort": sort.lstrip("-") not in INBOX_SORTS,
            "case": bool(case) and not _uuid_or_empty(case),
        }
        if strict and any(wrong.values()):
            raise TaskInputInvalid(
                "Unknown inbox parameter value.",
                details={
                    "fields": {k: ["Unknown value."] for k, v in wrong.items() if v}
                },
            )
        return cls(
            tab=InboxTab.ALL if wrong["filter"] else InboxTab(tab),
            search=(params.get("search") or params.get("q") or "").strip()[:200],
            process=(params.get("process") or "").strip()[:255],
            group=(params.get("group") or "").strip()[:150],
            case_id=_uuid_or_empty(case),
            sort=INBOX_DEFAULT_SORT if wrong["sort"] else sort,
        )


def _uuid_or_empty(value: str) -> str:
    try:
        return str(UUID(value))
    except ValueError:
        return ""


def _as_task_pk(field: str) -> Any:
    """Return guardian's text object_pk as a HumanTask pk (SQLite: UUIDs as hex)."""
    if connection.features.has_native_uuid_field:
        return Cast(field, UUIDField())
    return Replace(field, Value("-"), Value(""), output_field=CharField())


_KIND = InboxCandidate.Kind


def _candidates(user: Any) -> QuerySet[InboxCandidate]:
    """Return the candidate rows (`models.InboxCandidate`) that may put a task in
    the user's inbox (the arms of `_visible` pick the user's principals): of
    tasks free or theirs, whose case is not suspended, and that do not bar the
    user (the user's own BARRED rows, by index)."""
    barred = InboxCandidate.objects.filter(
        task_id=OuterRef("task_id"),
        kind=_KIND.BARRED,
        principal=user.pk,
        suspended=False,
    )
    return (
        InboxCandidate.objects.filter(suspended=False)
        .filter(Q(assignee_id__isnull=True) | Q(assignee_id=user.pk))
        .exclude(Exists(barred))
        .order_by()
    )


def _group_ids(user: Any) -> QuerySet:
    return (
        get_user_model()
        .groups.through.objects.filter(user_id=user.pk)
        .values("group_id")
    )


def _visible(user: Any, *columns: str, kept: Q | None = None) -> QuerySet:
    """Return the user's open tasks as rows of candidate `columns`, each task once.

    One arm per kind of principal (groups, the user), their rows united (UNION
    drops a task found twice: its rows carry the same values), so each arm is
    a range of the candidate index. `kept` (a filter of candidate rows) adds
    the column "kept": whether the task passes it.
    """
    rows = _candidates(user)
    if kept is not None:
        rows = rows.annotate(
            kept=ExpressionWrapper(kept, output_field=BooleanField())
            if kept
            else Value(True)
        )
        columns = (*columns, "kept")
    groups = rows.filter(kind=_KIND.GROUP, principal__in=_group_ids(user))
    own = rows.filter(kind__in=(_KIND.USER, _KIND.ASSIGNEE), principal=user.pk)
    return groups.values(*columns).union(own.values(*columns))


def _visible_open(user: Any, *, probe: bool = False) -> QuerySet[HumanTask]:
    """Return the user's open tasks: theirs, or offered and unclaimed, not barred,
    of cases that are not suspended (read of the candidate table).

    `probe=True` (a few tasks, one case's) asks the candidate table about each
    task (its unique index) instead of reading all the user's rows.
    """
    open_tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
    if probe:
        mine = Q(kind=_KIND.GROUP, principal__in=_group_ids(user)) | Q(
            kind__in=(_KIND.USER, _KIND.ASSIGNEE), principal=user.pk
        )
        return open_tasks.filter(
            Q(assignee=user) | Q(assignee__isnull=True),
            Exists(_candidates(user).filter(mine, task_id=OuterRef("pk"))),
        )
    return open_tasks.filter(pk__in=_visible(user, "task_id"))


def _tab_filter(tab: InboxTab, user: Any, now: datetime) -> Q:
    today_ends = timezone.localtime(now).replace(
        hour=23, minute=59, second=59, microsecond=999999
    )
    return {
        InboxTab.ALL: Q(),
        InboxTab.MINE: Q(assignee=user),
        InboxTab.UNASSIGNED: Q(assignee__isnull=True),
        InboxTab.OVERDUE: Q(due_at__lt=now),
        InboxTab.DUE_TODAY: Q(due_at__gte=now, due_at__lte=today_ends),
    }[tab]


def _search_filter(text: str) -> Q:
    found = Q()
    for word in text.split()[:5]:
        found &= (
            Q(name__icontains=word)
            | Q(case__business_key__icontains=word)
            | Q(case__version__definition__name__icontains=word)
            | Q(case__version__definition__key__icontains=word)
            | Q(search_text__icontains=word)  # the declared business-data columns
        )
    return found


def _query_filter(query: InboxQuery) -> Q:
    """Return the query's case, process, group and search filters as one Q."""
    found = Q()
    if query.case_id:
        found &= Q(case_id=query.case_id)
    if query.process:
        found &= Q(case__version__definition__key=query.process)
    if query.group:
        found &= Q(pk__in=_offered_to_group(query.group))
    if query.search:
        found &= _search_filter(query.search)
    return found


def _filtered(user: Any, query: InboxQuery) -> QuerySet[HumanTask]:
    return _visible_open(user, probe=bool(query.case_id)).filter(_query_filter(query))


def inbox_list_for_user(
    *,
    user: Any,
    query: InboxQuery | None = None,
    case_id: UUID | str | None = None,
    starter: bool = True,
    counted: bool = False,
) -> "QuerySet[HumanTask] | InboxRows":
    """Return the user's open tasks for the query, sorted (most urgent first;
    ties by id).

    The rows carry what a list shows (`_ROW`), and of the related rows only
    what it shows of them, as values (`_shown`: `process_key`, `process_name`,
    `business_key`, `assignee_username`, `starter_username`), not as model
    objects: a row is one HumanTask object, not six. `starter=False` leaves out
    who started each case (the pages show it, the API's rows do not): one join
    less to plan.
    `counted=True` gives each row the number of rows of the whole list
    (common.pagination.PAGE_TOTAL): the page of a long list is counted by the
    statement that reads it, not by a second one.

    On PostgreSQL, but for one case's tasks, the list is read a page at a time
    from the candidate table (`InboxRows`).
    """
    query = query or InboxQuery(case_id=str(case_id or ""))
    shown = _shown(starter=starter)
    if not query.case_id and connection.vendor == "postgresql":
        return InboxRows(user, query, shown=shown, counted=counted)
    qs = _filtered(user, query).filter(_tab_filter(query.tab, user, timezone.now()))
    qs = qs.only(*_ROW).annotate(**shown).order_by(*_order(query))
    if counted:
        qs = qs.annotate(**{PAGE_TOTAL: Window(Count("pk"))})
    return qs


_PROCESS_NAME = "case__version__definition__name"


def _shown(*, starter: bool) -> dict[str, Any]:
    """Return what a row of the inbox shows of its related rows, as annotations.

    The users' names are looked up per row by primary key (a subquery each):
    joined, PostgreSQL paired every row with every user (a nested loop over
    the whole user table, ~9 ms for a page at 100 users).
    """
    shown: dict[str, Any] = {
        "process_key": F("case__version__definition__key"),
        "process_name": F(_PROCESS_NAME),
        "business_key": F("case__business_key"),
        "assignee_username": _username(OuterRef("assignee_id")),
    }
    if starter:
        shown["starter_username"] = _username(OuterRef("case__started_by_id"))
    return shown


def _username(pk: Any) -> Subquery:
    return Subquery(get_user_model().objects.filter(pk=pk).values("username")[:1])


def _order(query: InboxQuery, *, candidates: bool = False) -> tuple[Any, ...]:
    """Return the query's order of tasks (ties by id), or of candidate rows."""
    key = query.sort.lstrip("-")
    order = _URGENT if query.sort == INBOX_DEFAULT_SORT else INBOX_SORTS[key]
    if candidates:
        order = tuple("process__name" if o == _PROCESS_NAME else o for o in order)
    if query.sort.startswith("-") and query.sort != INBOX_DEFAULT_SORT:
        order = tuple(_descending(o) for o in order[:1]) + order[1:]
    return (*order, "task_id" if candidates else "pk")


def _candidate_filter(query: InboxQuery) -> Q:
    """Return the query's search, process and group filters on candidate rows:
    `_query_filter` (but the case) of the columns the rows carry."""
    found = Q()
    if query.process:
        found &= Q(process_id__in=_definitions(key=query.process))
    if query.group:
        groups = Group.objects.filter(name=query.group).values("pk")
        offered = InboxCandidate.objects.filter(
            task_id=OuterRef("task_id"), kind=_KIND.GROUP, principal__in=groups
        )
        found &= Q(Exists(offered))
    for word in query.search.split()[:5]:
        named = Q(name__icontains=word) | Q(key__icontains=word)
        found &= Q(search__icontains=word) | Q(process_id__in=_definitions(named))
    return found


def _definitions(*where: Q, **fields: Any) -> QuerySet:
    return ProcessDefinition.objects.filter(*where, **fields).values("pk")


class InboxRows:
    """A tab of the user's inbox for a query, read a page at a time.

    Sliced (the paginators), it reads the page's tasks with one statement: for
    each of the user's principals (their groups, themselves, themselves as
    assignee) the first rows of its range of the candidate table in the query's
    order, as many as the page's end (a LATERAL join; in the default order an
    index scan stopped by its LIMIT), the tasks named by any (a task offered
    twice is one), sorted. A task among the first n of the list is among the
    first n of each range that holds it, so in the default order ~n rows per
    principal are read whatever the number of open tasks. `count()` counts the
    tab from the candidate table alone.
    """

    ordered = True  # for Django's Paginator

    def __init__(
        self, user: Any, query: InboxQuery, *, shown: dict[str, F], counted: bool
    ) -> None:
        self.user, self.query_, self.shown = user, query, shown
        self.counted, self.now = counted, timezone.now()

    def rows(self, stop: int | None) -> QuerySet[HumanTask]:
        """Return the tab's first `stop` tasks (all: None), in order."""
        user, query = self.user, self.query_
        if stop is not None and stop <= 0:
            return HumanTask.objects.none()
        arm = (
            _candidates(user)
            .filter(
                principal=RawSQL("mine.principal", (), output_field=IntegerField()),
                kind=RawSQL("mine.kind", (), output_field=IntegerField()),
            )
            .filter(_tab_filter(query.tab, user, self.now), _candidate_filter(query))
            .order_by(*_order(query, candidates=True))
            .values("task_id")
        )
        sql, params = (arm if stop is None else arm[:stop]).query.sql_with_params()
        mine, mine_params = _principals(user, query.tab)
        ids = RawSQL(
            f"SELECT c.task_id FROM ({mine}) AS mine CROSS JOIN LATERAL ({sql}) AS c",
            (*mine_params, *params),
        )
        qs = (
            HumanTask.objects.filter(pk__in=ids, status=HumanTask.Status.OPEN)
            .only(*_ROW)
            .annotate(**self.shown)
            .order_by(*_order(query))
        )
        if self.counted:
            counting, counted = _counts_sql(user, query, self.now, tabs=[query.tab])
            total = RawSQL(f"({counting})", counted, output_field=IntegerField())
            qs = qs.annotate(**{PAGE_TOTAL: total})
        return qs

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self.rows(index.stop)[index])
        return self.rows(index + 1)[index]

    def __iter__(self) -> Iterator[HumanTask]:
        return iter(self.rows(None))

    def count(self) -> int:
        return inbox_counts_for_user(user=self.user, query=self.query_)[self.query_.tab]

    def exists(self) -> bool:
        return bool(self[:1])

    @property
    def query(self) -> Any:
        """The SQL of the whole tab (for EXPLAIN)."""
        return self.rows(None).query


def _principals(user: Any, tab: InboxTab) -> tuple[str, list[Any]]:
    """Return a SELECT of the (principal, kind) pairs whose rows make the tab."""
    parts, params = [], []
    if tab is not InboxTab.MINE:
        table = get_user_model().groups.through._meta.db_table
        parts.append(
            f"SELECT group_id AS principal, %s::smallint AS kind "
            f"FROM {table} WHERE user_id = %s"
        )
        params += [_KIND.GROUP.value, user.pk]
        parts.append("SELECT %s::integer AS principal, %s::smallint AS kind")
        params += [user.pk, _KIND.USER.value]
    if tab is not InboxTab.UNASSIGNED:
        parts.append("SELECT %s::integer AS principal, %s::smallint AS kind")
        params += [user.pk, _KIND.ASSIGNEE.value]
    return " UNION ALL ".join(parts), params


_TAB_SQL = {
    InboxTab.ALL: "v.kept",
    InboxTab.MINE: "v.kept AND v.assignee_id = %s",
    InboxTab.UNASSIGNED: "v.kept AND v.assignee_id IS NULL",
    InboxTab.OVERDUE: "v.kept AND v.due_at < %s",
    InboxTab.DUE_TODAY: "v.kept AND v.due_at >= %s AND v.due_at <= %s",
}


def _tab_sql(tab: InboxTab, user: Any, now: datetime) -> tuple[str, list]:
    """Return `_tab_filter` (and the query's filters: v.kept) as SQL on `_visible`'s
    rows (v)."""
    today_ends = timezone.localtime(now).replace(
        hour=23, minute=59, second=59, microsecond=999999
    )
    at = connection.ops.adapt_datetimefield_value
    params = {
        InboxTab.ALL: [],
        InboxTab.MINE: [user.pk],
        InboxTab.UNASSIGNED: [],
        InboxTab.OVERDUE: [at(now)],
        InboxTab.DUE_TODAY: [at(now), at(today_ends)],
    }[tab]
    return _TAB_SQL[tab], params


def _counts_sql(
    user: Any,
    query: InboxQuery,
    now: datetime,
    *,
    tabs: Iterable[InboxTab] = InboxTab,
    by_process: bool = False,
) -> tuple[str, list[Any]]:
    """Return the SELECT counting each of `tabs` of the user's inbox for the
    query's filters (not its case), each task once, from the candidate table
    alone (without search: index-only ranges of the user's principals);
    `by_process`: per process (key, name) of all the user's tasks."""
    visible = _visible(
        user,
        "task_id",
        "assignee_id",
        "due_at",
        "process_id",
        kept=_candidate_filter(query),
    )
    sql, params = visible.query.sql_with_params()
    columns, count_params = [], []
    for tab in tabs:
        where, where_params = _tab_sql(tab, user, now)
        columns.append(f"COUNT(v.task_id) FILTER (WHERE {where})")
        count_params += where_params
    if not by_process:
        return f"SELECT {', '.join(columns)} FROM ({sql}) v", [*count_params, *params]
    definitions = ProcessDefinition._meta.db_table
    return (
        f"SELECT d.key, d.name, {', '.join(columns)} FROM ({sql}) v "
        f"JOIN {definitions} d ON d.id = v.process_id "
        f"GROUP BY d.key, d.name ORDER BY d.name, d.key",
        [*count_params, *params],
    )


def inbox_list_of_case(*, user: Any, case_id: UUID | str) -> list[HumanTask]:
    """Return the open tasks of one case in the user's inbox, most urgent first.

    The rows `inbox_list_for_user` gives for `InboxQuery(case_id=...)`, with the
    columns the API's rows show (`process_key` and `assignee_username` in place
    of the joined objects). It starts from the case's open tasks (the
    humantask_open_of_case index) and asks guardian's (owner, content type,
    object) indexes whether each is granted. A script finding the task of its
    case asks this on every step: the statement is compiled once per process
    (common.sql.select_compiled) and run with the user's and the case's values.
    """
    work = permission_for(WORK)
    return select_compiled(
        ("inbox_list_of_case", work.pk, work.content_type_id),
        lambda user_pk, case_pk: _of_case(
            work.pk, work.content_type_id, user_pk, case_pk
        ),
        user.pk,
        UUID(str(case_id)),
    )


def _of_case(
    work: int, content_type: int, user_pk: int, case_pk: UUID
) -> QuerySet[HumanTask]:
    grant = {"permission_id": work, "content_type_id": content_type}
    groups = get_user_model().groups.through.objects.filter(user_id=user_pk)
    granted = _Probe(
        _grant_of_task(UserObjectPermission.objects.filter(user_id=user_pk, **grant))
    ) | _Probe(
        _grant_of_task(
            GroupObjectPermission.objects.filter(
                group_id__in=groups.values("group_id"), **grant
            )
        )
    )
    barred = HumanTask.barred.through.objects.filter(
        humantask_id=OuterRef("pk"), user_id=user_pk
    )
    return (
        HumanTask.objects.filter(case_id=case_pk, status=HumanTask.Status.OPEN)
        .filter(Q(assignee_id=user_pk) | Q(granted, assignee__isnull=True))
        .filter(~_Probe(barred))
        .exclude(case__status=Case.Status.SUSPENDED)
        .only(*_ROW)
        .annotate(
            process_key=F("case__version__definition__key"),
            assignee_username=F("assignee__username"),
        )
        .order_by(*_URGENT)
    )


class _Probe(Exists):
    """EXISTS asked once per row of the outer query, through an index, whatever
    the planner's statistics say.

    `OFFSET 0` is a fence: PostgreSQL turns neither such a subquery into a join
    nor into a "hashed SubPlan" (which reads every row the subquery could match,
    e.g. all the grants of the user's groups, into a hash first); it is asked
    per outer row, by the correlated key (guardian's object_pk, the barred
    task), so the lookup reads the grants of the case's few tasks, not of all
    open tasks. Stale statistics (autovacuum off or behind a bulk load) made
    the planner choose the hash (tests/api/test_lookup_plan.py).
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


# What a row of the inbox shows of its task (tasks_app.apis.TaskOutput, the
# page's rows: templatetags/inbox.py) besides the related rows' `_shown` values.
_ROW = (
    "case_id",
    "bpmn_id",
    "name",
    "lane",
    "status",
    "assignee_id",
    "candidate_groups",
    "candidate_users",
    "due_at",
    "priority",
    "created_at",
    "business_data",
)


def _grant_of_task(grants: QuerySet) -> QuerySet:
    """Return guardian `grants` narrowed to the outer query's task."""
    if connection.features.has_native_uuid_field:  # the text index's own form
        return grants.filter(object_pk=Cast(OuterRef("pk"), CharField()))
    return grants.annotate(task_pk=_as_task_pk("object_pk")).filter(
        task_pk=OuterRef("pk")
    )


def _descending(order: Any) -> Any:
    if isinstance(order, str):
        return F(order).desc()
    return F(order.expression.name).desc(nulls_last=True)


def inbox_counts_for_user(*, user: Any, query: InboxQuery) -> dict[str, int]:
    """Count each tab of the inbox for the query's search and filters (one
    statement; of the candidate table, but for one case's tasks)."""
    now = timezone.now()
    if not query.case_id:
        sql, params = _counts_sql(user, query, now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return {str(tab): n for tab, n in zip(InboxTab, row, strict=True)}
    return _filtered(user, query).aggregate(
        **{
            str(tab): Count("pk", filter=_tab_filter(tab, user, now))
            for tab in InboxTab
        }
    )


@dataclass(frozen=True, slots=True)
class InboxSummary:
    """What the inbox page shows besides its rows: each tab's count for the query,
    and the processes of all the user's open tasks (the process filter's choices)."""

    counts: dict[str, int]
    processes: list[tuple[str, str]]


def inbox_summary_for_user(*, user: Any, query: InboxQuery) -> InboxSummary:
    """Return `inbox_counts_for_user` and the processes of the user's open tasks
    (key, name; by name), in one statement.

    The user's open tasks are read once, grouped by process: each group counts
    its tasks of each tab that the query's filters keep, and every group is a
    choice of the process filter (whatever the query keeps).
    """
    now, kept = timezone.now(), _query_filter(query)
    if not query.case_id:
        return _summary_of_candidates(user, query, now)
    rows = (
        _visible_open(user)
        .values("case__version__definition__key", "case__version__definition__name")
        .annotate(
            **{
                str(tab): Count("pk", filter=kept & _tab_filter(tab, user, now))
                for tab in InboxTab
            }
        )
        .order_by("case__version__definition__name", "case__version__definition__key")
    )
    counts = dict.fromkeys(map(str, InboxTab), 0)
    processes = []
    for row in rows:
        processes.append(
            (
                row["case__version__definition__key"],
                row["case__version__definition__name"],
            )
        )
        for tab in counts:
            counts[tab] += row[tab]
    return InboxSummary(counts=counts, processes=processes)


def _summary_of_candidates(user: Any, query: InboxQuery, now: datetime) -> InboxSummary:
    """`inbox_summary_for_user` read of the candidate table."""
    sql, params = _counts_sql(user, query, now, by_process=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = dict.fromkeys(map(str, InboxTab), 0)
    for row in rows:
        for tab, n in zip(InboxTab, row[2:], strict=True):
            counts[str(tab)] += n
    return InboxSummary(
        counts=counts, processes=[(key, name) for key, name, *_ in rows]
    )


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's figures: the user's inbox, and the case counts."""

    assigned: int
    offered: int
    overdue: int
    cases: CaseCounts
    since: datetime


def dashboard_for_user(*, user: Any, days: int = 7) -> Dashboard:
    """Count the user's inbox (assigned, offered, overdue) and the recent cases."""
    now = timezone.now()
    tasks = inbox_counts_for_user(user=user, query=InboxQuery())
    since = now - timedelta(days=days)
    return Dashboard(
        assigned=tasks[InboxTab.MINE],
        offered=tasks[InboxTab.UNASSIGNED],
        overdue=tasks[InboxTab.OVERDUE],
        cases=case_counts_for_user(user=user, since=since),
        since=since,
    )


def _offered_to_group(name: str) -> QuerySet:
    group = Group.objects.filter(name=name).first()
    if group is None:
        return HumanTask.objects.none().values("pk")
    return get_objects_for_group(
        group, WORK, klass=HumanTask, accept_global_perms=False
    ).values("pk")


def task_get_for_user(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Return a task the user may see.

    Raises:
        TaskNotFound: when it does not exist or the user may not see it.
    """
    try:
        task = HumanTask.objects.select_related(
            "case__version__definition", "case__started_by", "assignee", "completed_by"
        ).get(pk=task_id)
    except (HumanTask.DoesNotExist, ValueError):
        raise TaskNotFound("No such task.") from None
    if not can_view(user, task):
        raise TaskNotFound("No such task.")
    return task


def open_tasks_of_starter(*, case: Any) -> list[HumanTask]:
    """Return the case's open tasks as its starter sees them (all of them, as
    task_list_for_case), newest first, as rows of the API's inbox
    (`process_key`, `assignee_username`): the start's answer, one statement
    compiled once (common.sql.select_compiled)."""
    return select_compiled(
        ("open_tasks_of_starter",), _open_of_case, UUID(str(case.pk))
    )


def _open_of_case(case_pk: UUID) -> QuerySet[HumanTask]:
    return (
        HumanTask.objects.filter(case_id=case_pk, status=HumanTask.Status.OPEN)
        .annotate(
            process_key=F("case__version__definition__key"),
            assignee_username=F("assignee__username"),
        )
        .order_by("status", "-created_at")
    )


def task_list_for_case(*, case: Any, user: Any) -> list[HumanTask]:
    """Return the case's tasks the user may see (open first).

    The case's starter sees every task of it (what the case waits for), without
    being able to open the ones offered to others.
    """
    tasks = case.human_tasks.select_related("assignee", "completed_by").order_by(
        "status", "-created_at"
    )
    if case.started_by_id == user.pk or user.has_perm(VIEW):
        return list(tasks)
    granted = (
        get_objects_for_user(
            user, VIEW, klass=HumanTask, accept_global_perms=False, with_superuser=False
        )
        .filter(case=case)
        .values("pk")
    )
    return list(tasks.filter(Q(assignee=user) | Q(pk__in=granted)))


@dataclass(frozen=True, slots=True)
class TaskActions:
    """What the user may do with a task now (for showing only usable buttons)."""

    complete: bool
    claim: bool
    release: bool
    assign: bool
    delegate: bool
    plan: bool
    separated: str  # why separation of duties bars the user, or ""


def task_actions_for_user(*, user: Any, task: HumanTask) -> TaskActions:
    """Return the buttons to show: lifecycle actions that would change the task."""
    allowed = actions_allowed(user=user, task=task)
    refusal = separated(user, task) if task.is_open else None
    return TaskActions(
        complete=TaskAction.COMPLETE in allowed,
        claim=TaskAction.CLAIM in allowed,
        release=TaskAction.RELEASE in allowed,
        assign=TaskAction.ASSIGN in allowed,
        delegate=TaskAction.DELEGATE in allowed,
        plan=TaskAction.PLAN in allowed,
        separated=refusal.message if refusal else "",
    )


def task_candidate_names(*, task: HumanTask) -> list[str]:
    """Return the usernames of the task's active candidates that it does not bar."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(pk__in=task.barred.values("pk"))
    )
    named = Q(username__in=task.candidate_users) | Q(
        groups__name__in=task.candidate_groups
    )
    return list(
        users.filter(named)
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )


def task_form_initial(*, task: HumanTask) -> dict[str, Any]:
    """Return the values to prefill the task's form with.

    Fields that another form of the process also asks for (a request being
    revised) come from the case data, a field named like a local variable of
    the task (a camunda:inputOutput input) from that variable, and a
    delegate's draft wins; this task's own earlier answers (a previous review
    round) are not offered again. A Camunda Form as the start form asks for the
    variables its fields' keys name.
    """
    # The forms of the case's process and of every version its calls ran (a
    # child's task asks in the called version's form, not in `process`).
    processes = case_processes(case=task.case)
    process = processes[0]
    shared: set[str] = set()
    for each in processes:
        for meta in (each.meta.start, *each.task_meta.values()):
            if meta is not None and meta.bpmn_id != task.bpmn_id:
                shared.update(field.id for field in meta.form)
    start_form = start_form_js(task.case.version, process.meta.start)
    shared.update(key.split(".")[0] for key in form_js_labels(start_form or {}))
    initial = {key: value for key, value in task.case.data.items() if key in shared}
    # A field named like one of the task's local variables (a camunda:inputOutput
    # input) shows that variable, as Camunda's form of the task's scope does.
    own = {field["id"] for field in task.form}
    local = {key: value for key, value in task.local_data.items() if key in own}
    return {**initial, **local, **(task.draft or {})}
