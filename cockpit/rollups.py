"""Figures of a time range that stay fast with many cases: maintained rollups.

Each range figure of the cockpit is a *metric*: rows of one table (audit events,
human tasks, service calls, cases), each with an element, a time (when it
finished) and for the timed metrics a duration. The beat (`rollup`) adds every
row timed before its mark to `Rollup` rows per version, metric, element and day
(in settings.TIME_ZONE): a count row (`bucket` -1, with the exact smallest and
largest duration) and one row per log-scale duration bucket. A reader takes
the whole days of its range from the rollups and reads the rest live from the
indexed rows: the partial days at either end and the tail since the mark. So a
count is exact at any moment, before, during and after a rollup. The same
statement adds each day's rows to `RollupTotal`, their sum over every day: a
range with no bound before the mark (all of history, the pages' default) reads
those few rows, not one per day.

Percentiles are PostgreSQL's `percentile_cont` over the rows, exact, while an
element has at most settings.COCKPIT_EXACT_LIMIT rows in the range. Above that
they come from the buckets: bucket b >= 1 holds durations in
[MIN_S * GAMMA**(b-1), MIN_S * GAMMA**b) and stands for their harmonic middle,
within RELATIVE_ERROR (0.99%) of every duration in it; interpolating between
two such values keeps the bound, so an approximate median or p90 is within
0.99% of the exact one (durations under MIN_S, 1 ms, count as 0 s). Such
figures carry `approximate=True`.

The mark: the beat locks the one `RollupMark` row with SKIP LOCKED (a second
beat at the same time does nothing), rolls the rows timed in [mark, new mark)
with INSERT ... SELECT ... ON CONFLICT DO UPDATE, and moves the mark, all in one
transaction, so no row is counted twice or lost. The new mark is the earliest
of now - COCKPIT_ROLLUP_LAG_SECONDS and the start of the oldest transaction
still open on the database: a row is timed (timezone.now()) inside a
transaction that started before, so no row timed before the mark can commit
after it. A reader reads the mark, the rollups and the mark again, and retries
if it moved in between.

The rollups exist only on PostgreSQL; elsewhere (the SQLite quick start) every
figure is read live, exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Least, StrIndex, Substr, TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEvent
from engine.models import Case as CaseRow
from engine.models import ServiceCall
from tasks_app.models import HumanTask

from .models import Rollup, RollupMark, RollupTotal

GAMMA = 1.02
MIN_S = 0.001
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
COUNT = -1  # the bucket of the count rows

Versions = Sequence[int] | None  # None: every version


# -- percentiles --------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the `fraction` percentile of values (percentile_cont), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_value(bucket: int) -> float:
    """The duration a bucket stands for (within RELATIVE_ERROR of its members)."""
    if bucket <= 0:
        return 0.0
    low = MIN_S * GAMMA ** (bucket - 1)
    high = low * GAMMA
    return 2 * low * high / (low + high)


def bucket_of(seconds: float) -> int:
    """The bucket of a duration, as the SQL of `_Bucket` computes it."""
    if seconds < MIN_S:
        return 0
    return 1 + math.floor(math.log(seconds / MIN_S) / math.log(GAMMA))


def histogram_percentile(buckets: dict[int, int], fraction: float) -> float | None:
    """percentile_cont over the buckets' values, each repeated by its count."""
    total = sum(buckets.values())
    if not total:
        return None
    position = fraction * (total - 1)
    low = int(position)
    ranks = (low, min(low + 1, total - 1))
    values: list[float] = []
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        while len(values) < 2 and ranks[len(values)] < seen:
            values.append(bucket_value(bucket))
    return values[0] + (values[1] - values[0]) * (position - low)


# -- metrics ------------------------------------------------------------------


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class _Seconds(Func):
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()


class _Bucket(Func):
    output_field = IntegerField()
    template = (
        f"GREATEST(0, 1 + floor(ln(GREATEST(%(expressions)s, {MIN_S / 10}) / {MIN_S})"
        f" / ln({GAMMA}))::integer)"
    )


def _task_ref_element() -> Case:
    """The element of a task_ref ("element:task id" or "element"), in SQL."""
    colon = StrIndex("task_ref", Value(":"))
    return Case(
        When(Exact(colon, 0), then=F("task_ref")),
        default=Substr("task_ref", 1, colon - 1),
        output_field=CharField(),
    )


def _claimed() -> Combinable:
    """When a task was claimed: its first claim, or its completion (no later)."""
    return Least(Coalesce("claimed_at", "completed_at"), "completed_at")


@dataclass(frozen=True)
class Metric:
    """A figure rolled up per version, element and day.

    `rows()` are the rows it counts, of those the ones `where()` selects (metrics
    of the same `rows` are read in one statement: cockpit.rollups.report);
    `version` and `at` name their version id and time; `element` their element;
    `began`/`finished` the duration they time.
    """

    name: str
    rows: Callable[[], QuerySet]
    version: str
    at: str
    element: Callable[[], object] = field(default=lambda: Value(""))
    began: Callable[[], object] | None = None
    finished: Callable[[], object] | None = None
    where: Callable[[], Q] | None = None

    @property
    def timed(self) -> bool:
        return self.began is not None

    def base(self, versions: Versions) -> QuerySet:
        """`rows()` (of the versions) with `el` (element), before `where()`."""
        qs = self.rows().order_by()
        if versions is None:
            return qs.annotate(el=self.element())
        relation, _, name = self.version.rpartition("__")
        if relation and "__" not in relation:
            # The version of a row's case (say) read per row, by primary key: a
            # join lets the planner hash every case once a few thousand rows are
            # live (100,000 cases: 27 ms instead of 1 ms), a cost that grows
            # with the finished cases.
            related = qs.model._meta.get_field(relation).related_model
            assert related is not None and not isinstance(related, str)
            version = related._default_manager.filter(pk=OuterRef(relation))
            qs = qs.alias(_version=Subquery(version.values(name)[:1]))
            qs = qs.filter(_version__in=list(versions))
        else:
            qs = qs.filter(**{f"{self.version}__in": list(versions)})
        return qs.annotate(el=self.element())

    def source(self, versions: Versions) -> QuerySet:
        """Its rows (of the versions) with `el` (element) and, if timed, `b0`/`b1`."""
        qs = self.base(versions)
        if self.where is not None:
            qs = qs.filter(self.where())
        if self.began is not None and self.finished is not None:
            qs = qs.annotate(b0=self.began(), b1=self.finished())
        return qs


_COMPLETIONS = (
    AuditAction.ELEMENT_COMPLETED,
    AuditAction.TASK_COMPLETED,
    AuditAction.SERVICE_SUCCEEDED,
)


def _done_tasks() -> QuerySet:
    return HumanTask.objects.filter(status=HumanTask.Status.COMPLETED)


PASSED = Metric(
    "passed",
    lambda: AuditEvent.objects.filter(
        action__in=_COMPLETIONS, version_id__isnull=False
    ),
    version="version_id",
    at="at",
    element=_task_ref_element,
)


def _task_element() -> F:
    return F("bpmn_id")


def _task_metric(name: str, began=None, finished=None, where=None) -> Metric:  # noqa: ANN001
    """A metric of the completed human tasks, by element and completion time."""
    return Metric(
        name,
        _done_tasks,
        version="case__version_id",
        at="completed_at",
        element=_task_element,
        began=began,
        finished=finished,
        where=where,
    )


TASK = _task_metric("task", lambda: F("created_at"), lambda: F("completed_at"))
WAITING = _task_metric("waiting", lambda: F("created_at"), _claimed)
HANDLING = _task_metric("handling", _claimed, lambda: F("completed_at"))
LATE = _task_metric(
    "late", where=lambda: Q(due_at__isnull=False, completed_at__gt=F("due_at"))
)
CALL = Metric(
    "call",
    lambda: ServiceCall.objects.filter(status=ServiceCall.Status.SUCCEEDED),
    version="case__version_id",
    at="updated_at",  # a succeeded call is not written again
    element=lambda: F("bpmn_id"),
    began=lambda: F("created_at"),
    finished=lambda: F("updated_at"),
)
STARTED = Metric(
    "started", lambda: CaseRow.objects.all(), version="version_id", at="started_at"
)
CYCLE = Metric(
    "cycle",
    lambda: CaseRow.objects.filter(status=CaseRow.Status.COMPLETED),
    version="version_id",
    at="ended_at",
    began=lambda: F("started_at"),
    finished=lambda: F("ended_at"),
)
ENDED = Metric(
    "ended",
    lambda: CaseRow.objects.filter(ended_at__isnull=False),
    version="version_id",
    at="ended_at",
)
METRICS = (PASSED, TASK, WAITING, HANDLING, LATE, CALL, STARTED, CYCLE, ENDED)
# Human tasks offered (by creation) and closed (completed or cancelled), per
# candidate group: open now = offered - closed.
GROUP_METRICS = {"offered": "created_at", "closed": "completed_at"}


def _seconds() -> Combinable:
    """The duration of a `Metric.source` row in seconds (PostgreSQL)."""
    return _Seconds(F("b1") - F("b0"))


# -- the beat -----------------------------------------------------------------


def _tz():  # noqa: ANN202
    return timezone.get_default_timezone()


# The day rows and their totals (RollupTotal) from one read of the source rows
# `r` (rv, el, rday, rn and, for the timed metrics, rb, rlow, rhigh).
_UPSERT = """
    WITH r AS MATERIALIZED ({sql}), days AS (
        INSERT INTO cockpit_rollup
            (version_id, metric, element, day, bucket, n, low, high)
        SELECT r.rv, %s, r.el, r.rday, {bucket}, r.rn, {low}, {high} FROM r
        ON CONFLICT (version_id, metric, element, day, bucket) DO UPDATE SET
            n = cockpit_rollup.n + EXCLUDED.n,
            low = LEAST(cockpit_rollup.low, EXCLUDED.low),
            high = GREATEST(cockpit_rollup.high, EXCLUDED.high)
    )
    INSERT INTO cockpit_rolluptotal
        (version_id, metric, element, bucket, n, low, high, day)
    SELECT r.rv, %s, r.el, {bucket}, sum(r.rn), min({low}), max({high}), min(r.rday)
    FROM r GROUP BY r.rv, r.el{by_bucket}
    ON CONFLICT (version_id, metric, element, bucket) DO UPDATE SET
        n = cockpit_rolluptotal.n + EXCLUDED.n,
        low = LEAST(cockpit_rolluptotal.low, EXCLUDED.low),
        high = GREATEST(cockpit_rolluptotal.high, EXCLUDED.high),
        day = LEAST(cockpit_rolluptotal.day, EXCLUDED.day)
"""


def _upsert(
    cursor,  # noqa: ANN001
    name: str,
    query: tuple[str, Sequence],
    *,
    buckets: bool = False,
    bounds: bool = False,
) -> None:
    """Add the grouped rows of `query` to the day rows and their totals."""
    sql, params = query
    low, high = ("r.rlow", "r.rhigh") if bounds else ("NULL::float8", "NULL::float8")
    cursor.execute(
        _UPSERT.format(
            sql=sql,
            bucket="r.rb" if buckets else str(COUNT),
            by_bucket=", r.rb" if buckets else "",
            low=low,
            high=high,
        ),
        [*params, name, name],
    )


def _roll(metric: Metric, since: datetime | None, until: datetime) -> None:
    """Add the metric's rows timed in [since, until) to the rollups."""
    qs = metric.source(None).filter(**{f"{metric.at}__lt": until})
    if since is not None:
        qs = qs.filter(**{f"{metric.at}__gte": since})
    qs = qs.annotate(rv=F(metric.version), rday=TruncDate(metric.at, tzinfo=_tz()))
    keys = ["rv", "el", "rday"]
    with connection.cursor() as cursor:
        if metric.timed:
            seconds = _seconds()
            counts = qs.values(*keys).annotate(
                rn=Count("pk"), rlow=Min(seconds), rhigh=Max(seconds)
            )
            _upsert(cursor, metric.name, counts.query.sql_with_params(), bounds=True)
            buckets = (
                qs.annotate(rb=_Bucket(seconds))
                .values(*keys, "rb")
                .annotate(rn=Count("pk"))
            )
            _upsert(cursor, metric.name, buckets.query.sql_with_params(), buckets=True)
        else:
            counts = qs.values(*keys).annotate(rn=Count("pk"))
            _upsert(cursor, metric.name, counts.query.sql_with_params())


_GROUPS = """
    SELECT c.version_id AS rv, g.name AS el, (t.{at} AT TIME ZONE %s)::date AS rday,
        count(*) AS rn
    FROM {tasks} AS t JOIN {cases} AS c ON c.id = t.case_id
    CROSS JOIN LATERAL (
        SELECT DISTINCT value AS name FROM jsonb_array_elements_text(
            CASE jsonb_typeof(t.candidate_groups) WHEN 'array'
            THEN t.candidate_groups ELSE '[]'::jsonb END)
    ) AS g
    WHERE t.{at} < %s AND t.{at} >= %s AND length(g.name) <= 255
    GROUP BY 1, 2, 3
"""


def _roll_groups(since: datetime | None, until: datetime) -> None:
    """Add the tasks offered and closed in [since, until) per candidate group."""
    for name, at in GROUP_METRICS.items():
        sql = _GROUPS.format(
            at=at, tasks=HumanTask._meta.db_table, cases=CaseRow._meta.db_table
        )
        floor = since or datetime.min.replace(tzinfo=_tz())
        with connection.cursor() as cursor:
            _upsert(cursor, name, (sql, [_tz().key, until, floor]))


def _new_mark() -> datetime:
    """now - lag, or the start of the oldest open transaction if earlier."""
    mark = timezone.now() - timedelta(seconds=settings.COCKPIT_ROLLUP_LAG_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND xact_start IS NOT NULL"
        )
        (oldest,) = cursor.fetchone()
    return min(mark, oldest) if oldest is not None else mark


def rollup(*, rebuild: bool = False) -> datetime | None:
    """Roll the rows timed since the mark into the rollups; return the new mark.

    None: another beat holds the mark (it does the work), or not PostgreSQL.
    `rebuild` forgets the rollups first and rolls everything again.
    """
    if connection.vendor != "postgresql":
        return None
    RollupMark.objects.get_or_create(pk=1)
    with transaction.atomic():
        mark = RollupMark.objects.select_for_update(skip_locked=True).filter(pk=1)
        row = mark.first()
        if row is None:
            return None
        if rebuild:
            Rollup.objects.all().delete()
            RollupTotal.objects.all().delete()
            row.until = None
        until = _new_mark()
        if row.until is not None and until <= row.until:
            return row.until
        for metric in METRICS:
            _roll(metric, row.until, until)
        _roll_groups(row.until, until)
        row.until, row.run = until, row.run + 1
        row.save(update_fields=["until", "run"])
    return until


# -- reading ------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_tz())


@dataclass(frozen=True)
class _Split:
    """[since, until) as whole days from the rollups and the rest read live."""

    since: datetime | None
    until: datetime | None
    first_day: date | None  # rolled days: [first_day, end_day)
    end_day: date | None
    rolled_from: datetime | None  # live skips [rolled_from, rolled_to)
    rolled_to: datetime | None
    rolled: bool

    def live(self, at: str) -> Q:
        q = Q()
        if self.since is not None:
            q &= Q(**{f"{at}__gte": self.since})
        if self.until is not None:
            q &= Q(**{f"{at}__lt": self.until})
        if self.rolled:
            outside = Q(**{f"{at}__gte": self.rolled_to})
            if self.rolled_from is not None:
                outside |= Q(**{f"{at}__lt": self.rolled_from})
            q &= outside
        return q

    def days(self) -> Q:
        q = Q()
        if self.first_day is not None:
            q &= Q(day__gte=self.first_day)
        if self.end_day is not None:
            q &= Q(day__lt=self.end_day)
        return q


def _split(since: datetime | None, until: datetime | None, mark: datetime | None):
    tz = _tz()
    first = end = None
    if since is not None:
        first = since.astimezone(tz).date()
        if _day_start(first) < since:
            first += timedelta(days=1)
    if until is not None and (mark is None or until < mark):
        end = until.astimezone(tz).date()
    # else every rolled row (before the mark) is before `until`: the day of the
    # mark counts from the rollups up to the mark, so today is no partial day.
    start = _day_start(first) if first is not None else None
    stop = _day_start(end) if end is not None else None
    rolled_to = mark if stop is None or mark is None else min(stop, mark)
    rolled = rolled_to is not None and (start is None or start < rolled_to)
    return _Split(since, until, first, end, start, rolled_to, rolled)


def _rolled(
    versions: Versions,
    since: datetime | None,
    until: datetime | None,
    read,  # noqa: ANN001
    *,
    by_day: bool = False,
) -> tuple[_Split, list]:
    """Read the rollups with `read(rollups)` at one mark (retry if it moved).

    Every rolled day (no bound before the mark) is read from their totals
    (RollupTotal: one row where the days have one each), unless `by_day`.
    """
    for _ in range(5):
        before = RollupMark.objects.filter(pk=1).values_list("until", "run").first()
        split = _split(since, until, before[0] if before else None)
        if not split.rolled:
            return split, []
        every_day = split.first_day is None and split.end_day is None
        rows: QuerySet
        if every_day and not by_day:
            rows = RollupTotal.objects.all()
        else:
            rows = Rollup.objects.filter(split.days())
        if versions is not None:
            rows = rows.filter(version_id__in=list(versions))
        found = list(read(rows))
        after = RollupMark.objects.filter(pk=1).values_list("until", "run").first()
        if after == before:
            return split, found
    return _split(since, until, None), []  # the beat keeps moving: read all live


@dataclass(frozen=True, slots=True)
class Figures:
    """How many rows of an element, and the median and p90 of their durations."""

    count: int
    median_s: float | None = None
    p90_s: float | None = None
    approximate: bool = False
    low: float | None = None  # the shortest and longest duration (exact)
    high: float | None = None
    buckets: dict[int, int] | None = None  # when approximate


def _tally(metric: Metric, versions: Versions, since, until, by: str) -> Counter:  # noqa: ANN001
    """How many rows of the metric per element (`by` "element") or day ("day")."""
    split, rows = _rolled(
        versions,
        since,
        until,
        lambda r: (
            r.filter(metric=metric.name, bucket=COUNT)
            .values_list(by)
            .annotate(n=Sum("n"))
        ),
        by_day=by == "day",
    )
    return _tally_from(metric, versions, split, rows, by)


def _tally_from(
    metric: Metric, versions: Versions, split: _Split, rows: Iterable, by: str
) -> Counter:
    """The rolled (key, n) rows plus the live rows of the split, per key."""
    found: Counter = Counter(dict(rows))
    live = metric.source(versions).filter(split.live(metric.at))
    live = live.annotate(day=TruncDate(metric.at, tzinfo=_tz()))
    key = "el" if by == "element" else "day"
    found.update(dict(live.values_list(key).annotate(n=Count("pk"))))
    return found


def counts(
    metric: Metric,
    *,
    versions: Versions,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Counter[str]:
    """How many rows of the metric each element has in [since, until), exact."""
    return _tally(metric, versions, since, until, "element")


def per_day(
    metric: Metric, *, versions: Versions, since: datetime, until: datetime
) -> Counter[date]:
    """How many rows of the metric each day (settings.TIME_ZONE) has, exact."""
    return _tally(metric, versions, since, until, "day")


def _exact(
    metric: Metric, versions: Versions, q: Q, elements: Iterable[str] | None
) -> dict[str, Figures]:
    """Exact count, median, p90, shortest and longest per element, from the rows."""
    qs = metric.source(versions).filter(q)
    if elements is not None:
        qs = qs.filter(el__in=list(elements))
    if connection.vendor == "postgresql":
        seconds = _seconds()
        rows = qs.values("el").annotate(
            n=Count("pk"),
            median=_Percentile(seconds, fraction=0.5),
            p90=_Percentile(seconds, fraction=0.9),
            lo=Min(seconds),
            hi=Max(seconds),
        )
        return {
            r["el"]: Figures(r["n"], r["median"], r["p90"], False, r["lo"], r["hi"])
            for r in rows
        }
    values: dict[str, list[float]] = {}
    for element, began, finished in qs.values_list("el", "b0", "b1"):
        values.setdefault(element, []).append((finished - began).total_seconds())
    return {
        element: Figures(
            len(v), percentile(v, 0.5), percentile(v, 0.9), False, min(v), max(v)
        )
        for element, v in values.items()
    }


def durations(
    metric: Metric,
    *,
    versions: Versions,
    since: datetime | None = None,
    until: datetime | None = None,
    exact_limit: int | None = None,
) -> dict[str, Figures]:
    """Count, median and p90 of the metric's durations per element in the range.

    Exact for an element with at most `exact_limit` (settings.COCKPIT_EXACT_LIMIT)
    rows in the range; otherwise from the buckets, within RELATIVE_ERROR.
    """
    split, rows = _rolled(
        versions,
        since,
        until,
        lambda r: _duration_rows(r.filter(metric=metric.name), ()),
    )
    return _durations_from(metric, versions, split, rows, exact_limit)


def _duration_rows(rows: QuerySet, by: Sequence[str]) -> QuerySet:
    """(*by, element, bucket, n, shortest, longest, first day) of rollup rows."""
    return rows.values_list(*by, "element", "bucket").annotate(
        n=Sum("n"), lo=Min("low"), hi=Max("high"), first=Min("day")
    )


def _durations_from(
    metric: Metric,
    versions: Versions,
    split: _Split,
    rows: list,
    exact_limit: int | None,
) -> dict[str, Figures]:
    """durations() from the rolled rows (`_duration_rows`) read at the split's mark."""
    limit = settings.COCKPIT_EXACT_LIMIT if exact_limit is None else exact_limit
    if not rows:
        return _exact(metric, versions, split.live(metric.at), None)
    buckets, bounds, first = _histograms(rows)
    live = metric.source(versions).filter(split.live(metric.at))
    seconds = _seconds()
    tail = (
        live.annotate(b=_Bucket(seconds))
        .values_list("el", "b")
        .annotate(n=Count("pk"), lo=Min(seconds), hi=Max(seconds))
    )
    _add_tail(buckets, bounds, tail)
    few = [e for e, b in buckets.items() if b.get(COUNT, 0) <= limit]
    found: dict[str, Figures] = {}
    if few:  # else no element needs the rows themselves: no statement
        found = _exact(metric, versions, _whole(metric, split, few, first), few)
    return _approximate(buckets, bounds, found)


def _histograms(rows: Iterable) -> tuple[dict, dict, dict[str, date]]:
    """Each element's buckets (COUNT: how many), [shortest, longest] and first
    day, from rolled rows (element, bucket, n, shortest, longest, first day)."""
    buckets: dict[str, dict[int, int]] = {}
    bounds: dict[str, list[float]] = {}
    first: dict[str, date] = {}
    for element, bucket, n, lo, hi, day in rows:
        _add(buckets, bounds, element, bucket, n, lo, hi)
        first[element] = min(day, first.get(element, day))
    return buckets, bounds, first


def _add_tail(buckets: dict, bounds: dict, tail: Iterable) -> None:
    """Add live rows (element, bucket, n, shortest, longest) to the histograms."""
    for element, bucket, n, lo, hi in tail:
        _add(buckets, bounds, element, COUNT, n, lo, hi)
        _add(buckets, bounds, element, bucket, n, None, None)


def _approximate(
    buckets: dict, bounds: dict, found: dict[str, Figures]
) -> dict[str, Figures]:
    """`found` (the exact figures) and every other element's from its buckets."""
    for element, histogram in buckets.items():
        if element in found:
            continue
        total = histogram.pop(COUNT, 0)
        lo, hi = bounds.get(element, [None, None])
        found[element] = Figures(
            total,
            _clamp(histogram_percentile(histogram, 0.5), lo, hi),
            _clamp(histogram_percentile(histogram, 0.9), lo, hi),
            True,
            lo,
            hi,
            histogram,
        )
    return found


def report(
    timed: Sequence[Metric],
    counted: Sequence[Metric],
    *,
    versions: Versions,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[dict[str, dict[str, Figures]], dict[str, Counter[str]]]:
    """durations() of each timed metric and counts() of each counted one, per name.

    One read of the rollups for all of them, at one mark (read before and after,
    retried if the beat moved it), instead of one read and two marks per metric.
    On PostgreSQL the rows read live (each metric's tail since the mark, and the
    rows of the elements whose figures are exact) are one statement for the
    metrics that count the same rows (`_live`): as many statements whether the
    figures are exact or from the buckets, with little or much finished data.
    """
    split, rows = _rolled(
        versions,
        since,
        until,
        lambda r: _duration_rows(
            r.filter(
                Q(metric__in=[m.name for m in timed])
                | Q(metric__in=[m.name for m in counted], bucket=COUNT)
            ),
            ("metric",),
        ),
    )
    by_metric: dict[str, list] = {}
    for name, *row in rows:
        by_metric.setdefault(name, []).append(row)
    times: dict[str, Any] = {}
    tallies: dict[str, Any] = {}
    if connection.vendor != "postgresql":
        for m in timed:
            rolled = by_metric.get(m.name, [])
            times[m.name] = _durations_from(m, versions, split, rolled, None)
        for m in counted:
            pairs = _rolled_counts(by_metric.get(m.name, []))
            tallies[m.name] = _tally_from(m, versions, split, pairs, "element")
        return times, tallies
    for group in _same_rows([(m, True) for m in timed] + [(m, False) for m in counted]):
        found = _live(group, versions, split, by_metric)
        for (metric, timing), figures in zip(group, found, strict=True):
            (times if timing else tallies)[metric.name] = figures
    return times, tallies


def _rolled_counts(rows: Iterable) -> Iterator[tuple[str, int]]:
    """(element, n) of the count rows of rolled rows (element, bucket, n, ...)."""
    return ((element, n) for element, bucket, n, *_ in rows if bucket == COUNT)


_Read = tuple[Metric, bool]  # a metric, and whether its durations are read


def _same_rows(metrics: list[_Read]) -> list[list[_Read]]:
    """The metrics in groups that count the same rows (one statement each)."""
    groups: dict[tuple, list[_Read]] = {}
    for m, timing in metrics:
        key = (m.rows, m.version, m.at, m.element)
        groups.setdefault(key, []).append((m, timing))
    return list(groups.values())


# The live rows of the metrics of one `rows()`, in one statement. `r` has per row
# its element, whether it is in the live tail, and per metric i its duration
# s<i>, whether the metric counts the row (w<i>) and whether the metric's exact
# figures read it (x<i>). Out: (i, 0, element, bucket, n, shortest, longest,
# NULL, NULL) per bucket of each metric's tail, then (i, 1, element, NULL, n,
# shortest, longest, median, p90) per element of its exact rows.
_LIVE = """
    WITH r AS MATERIALIZED ({rows})
    SELECT v.i, 0, r.el, {bucket}, count(*), min(v.s), max(v.s), NULL::float8,
        NULL::float8
    FROM r CROSS JOIN LATERAL (VALUES {values}) AS v (i, s, w, x)
    WHERE r.tail AND v.w GROUP BY 1, 3, 4
    UNION ALL
    SELECT v.i, 1, r.el, NULL, count(*), min(v.s), max(v.s),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY v.s),
        percentile_cont(0.9) WITHIN GROUP (ORDER BY v.s)
    FROM r CROSS JOIN LATERAL (VALUES {values}) AS v (i, s, w, x)
    WHERE v.x AND v.w GROUP BY 1, 3
"""


def _flag(q: Q) -> Combinable:
    """Whether a row matches q, as a column (an empty q: every row)."""
    return ExpressionWrapper(q, output_field=BooleanField()) if q else Value(True)


def _live(
    metrics: list[_Read], versions: Versions, split: _Split, by_metric: dict
) -> list[dict]:
    """Per metric (of the same rows), durations() if it is read timed, else
    counts(): its rolled rows (`by_metric`) and one read of the live rows."""
    limit = settings.COCKPIT_EXACT_LIMIT
    tails, exacts = _live_rows(metrics, versions, split, by_metric, limit)
    figures: list[dict] = []
    for i, (metric, timing) in enumerate(metrics):
        rows = by_metric.get(metric.name, [])
        if not timing:
            counted = Counter(dict(_rolled_counts(rows)))
            counted.update({element: n for element, _, n, _, _ in tails[i]})
            figures.append(counted)
        elif not rows:  # every row live: exact, as many as there are
            figures.append(exacts[i])
        else:
            buckets, bounds, _ = _histograms(rows)
            _add_tail(buckets, bounds, tails[i])
            few = [e for e, b in buckets.items() if b.get(COUNT, 0) <= limit]
            exact = {e: exacts[i][e] for e in few if e in exacts[i]}
            figures.append(_approximate(buckets, bounds, exact))
    return figures


def _live_rows(
    metrics: list[_Read],
    versions: Versions,
    split: _Split,
    by_metric: dict[str, list],
    limit: int,
) -> tuple[dict[int, list], dict[int, dict[str, Figures]]]:
    """The `_LIVE` statement: per metric (by its index) the tail's rows
    (element, bucket, n, shortest, longest) and the exact figures per element."""
    at = metrics[0][0].at
    tail = split.live(at)
    wanted, columns = tail, {}
    starts = [split.since if split.since is not None else _tail_start(split)]
    for i, (metric, timing) in enumerate(metrics):
        where = metric.where() if metric.where is not None else Q()
        columns[f"w{i}"] = _flag(where)
        if timing:
            assert metric.began is not None and metric.finished is not None
            began, finished = metric.began(), metric.finished()
            columns[f"s{i}"] = _Seconds(
                cast(Combinable, finished) - cast(Combinable, began)
            )
            exact, start = _exact_rows(metric, split, by_metric, limit)
            columns[f"x{i}"] = _flag(exact)
            wanted = wanted | exact if wanted and exact else Q()
            starts.append(start)
    qs = metrics[0][0].base(versions).filter(wanted)
    if None not in starts:  # one index range for all (the parts are ORed)
        qs = qs.filter(**{f"{at}__gte": min(d for d in starts if d is not None)})
    if split.until is not None:
        qs = qs.filter(**{f"{at}__lt": split.until})
    qs = qs.annotate(tail=_flag(tail), **columns)
    sql, params = qs.values("el", "tail", *columns).query.sql_with_params()
    values = ", ".join(
        f"({i}, r.s{i}, r.w{i}, r.x{i})"
        if timing
        else f"({i}, NULL::float8, r.w{i}, FALSE)"
        for i, (_, timing) in enumerate(metrics)
    )
    bucket = _Bucket.template % {"expressions": "v.s"}
    with connection.cursor() as cursor:
        cursor.execute(_LIVE.format(rows=sql, values=values, bucket=bucket), params)
        found = cursor.fetchall()
    tails: dict[int, list] = {i: [] for i in range(len(metrics))}
    exacts: dict[int, dict[str, Figures]] = {i: {} for i in range(len(metrics))}
    for i, kind, element, b, n, lo, hi, median, p90 in found:
        if kind == 0:
            tails[i].append((element, b, n, lo, hi))
        else:
            exacts[i][element] = Figures(n, median, p90, False, lo, hi)
    return tails, exacts


def _tail_start(split: _Split) -> datetime | None:
    """Where the live tail of a range open before starts: the mark (if rolled)."""
    return split.rolled_to if split.rolled else None


def _exact_rows(
    metric: Metric, split: _Split, by_metric: dict[str, list], limit: int
) -> tuple[Q, datetime | None]:
    """The rows an exact figure of the metric may need, and the earliest of them.

    With no rolled rows, every live row (as `_durations_from`). Else the range's
    rows of the elements with at most `limit` rolled rows (the tail decides
    which stay at most `limit`), from their first rolled day, and the live rows
    of the elements with none rolled: every row before the mark is rolled, so
    theirs are all live (`_durations_from` reads them over the whole range).
    """
    rows = by_metric.get(metric.name, [])
    live, start = split.live(metric.at), split.since
    if split.since is None:
        start = _tail_start(split)
    if not rows:
        return live, start
    buckets, _, first = _histograms(rows)
    exact = live & ~Q(el__in=list(buckets))
    few = [e for e, b in buckets.items() if b.get(COUNT, 0) <= limit]
    if few:
        since = _whole_since(split, few, first)
        exact |= _in_range(metric.at, since, split.until) & Q(el__in=few)
        start = None if since is None or start is None else min(start, since)
    return exact, start


def _whole_since(split: _Split, few: list[str], first: dict) -> datetime | None:
    """Where [since, until) starts for the elements: their first rolled day (no
    row of theirs before: it was rolled) when the range is open before."""
    days = [first[e] for e in few if e in first]
    if split.rolled_from is None and len(days) == len(few) and days:
        return _day_start(min(days))
    return split.since


def _in_range(at: str, since: datetime | None, until: datetime | None) -> Q:
    q = Q(**{f"{at}__gte": since}) if since is not None else Q()
    if until is not None:
        q &= Q(**{f"{at}__lt": until})
    return q


def _whole(metric: Metric, split: _Split, few: list[str], first: dict) -> Q:
    """[since, until), from the first rolled day of the elements (none before)."""
    return _in_range(metric.at, _whole_since(split, few, first), split.until)


def _add(buckets, bounds, element, bucket, n, lo, hi) -> None:  # noqa: ANN001
    histogram = buckets.setdefault(element, {})
    histogram[bucket] = histogram.get(bucket, 0) + n
    if lo is not None:
        low, high = bounds.setdefault(element, [lo, hi])
        bounds[element] = [min(low, lo), max(high, hi)]


def _clamp(value: float | None, low: float | None, high: float | None):  # noqa: ANN202
    """Keep an approximate figure within the exact shortest and longest."""
    if value is None or low is None or high is None:
        return value
    return min(max(value, low), high)


def _open_now(
    versions: Versions, metrics: tuple[str, str], by: str
) -> tuple[_Split, Counter]:
    """Rolled `metrics[0]` minus `metrics[1]` per `by` (the rollups' field), all
    days up to the mark; the split says where the live tail starts."""
    split, rows = _rolled(
        versions,
        None,
        None,
        lambda r: (
            r.filter(metric__in=metrics, bucket=COUNT)
            .values_list("metric", by)
            .annotate(n=Sum("n"))
        ),
    )
    found: Counter = Counter()
    for metric, key, n in rows:
        found[key] += n if metric == metrics[0] else -n
    return split, found


def open_tasks_by_group(versions: Versions) -> Counter[str] | None:
    """Open human tasks per candidate group now: offered - closed, exact.

    None before the first rollup. Each task counts for the version its case had
    when it was rolled up, so after a migration only the sum over a process's
    versions is right: ask with every version of a process, or all.
    """
    split, found = _open_now(versions, ("offered", "closed"), "element")
    if not split.rolled:
        return None
    tasks = HumanTask.objects.order_by()
    if versions is not None:
        tasks = tasks.filter(case__version_id__in=list(versions))
    for at, sign in (("created_at", 1), ("completed_at", -1)):
        live = tasks.filter(**{f"{at}__gte": split.rolled_to})
        for names, n in live.values_list("candidate_groups").annotate(n=Count("pk")):
            for name in set(names or ()):
                found[name] += sign * n
    return +found


def open_cases_by_version(versions: Versions) -> Counter[int] | None:
    """Unfinished cases per version now: started - ended, exact (as above)."""
    split, found = _open_now(versions, ("started", "ended"), "version_id")
    if not split.rolled:
        return None
    for metric, sign in ((STARTED, 1), (ENDED, -1)):
        live = metric.source(versions).filter(split.live(metric.at))
        found.update(
            {
                v: sign * n
                for v, n in live.values_list("version_id").annotate(n=Count("pk"))
            }
        )
    return found
