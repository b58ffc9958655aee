"""The cockpit's rollups: the figures are the same before, during and after the beat.

The beat (`cockpit.rollup`) rolls the rows timed before its mark into per-day
aggregates; the API adds the rows since the mark read live. Each test compares
the figures a user gets through the API and pages with the figures read with no
rollups at all (every row live, as before the first beat), and with known values.
"""

import io
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from cockpit.models import Rollup, RollupMark
from cockpit.rollups import (
    RELATIVE_ERROR,
    _Bucket,
    bucket_of,
    histogram_percentile,
    percentile,
    rollup,
)
from cockpit.services import case_suspend
from cockpit.tasks import rollup_task
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete, task_plan
from tests.clients import api_for, page_for

from .conftest import T0, clock_at, finish_purchase, start_purchase

pytestmark = pytest.mark.django_db(transaction=True)

STATS = "/api/v1/processes/purchase_request/versions/1/statistics/"
TASKS = "/api/v1/processes/purchase_request/versions/1/reports/tasks/"
CYCLES = "/api/v1/processes/purchase_request/reports/cycle-times/"


def _roll_at(seconds: float):
    """Run the beat as if it were T0 + seconds (its mark: a minute before)."""
    with clock_at(seconds):
        return rollup_task()


def _figures(user, params=None) -> dict:
    """Everything the cockpit shows of the purchase process, through the API."""
    api = api_for(user)
    found = {}
    for name, url in (("stats", STATS), ("tasks", TASKS), ("cycles", CYCLES)):
        response = api.get(url, params or {})
        assert response.status_code == 200, response.content
        found[name] = response.json()
    return found


def _without_rollups(read):
    """What `read()` returns with no rollups (every row live); they are kept."""
    kept = list(Rollup.objects.all())
    mark = list(RollupMark.objects.all())
    Rollup.objects.all().delete()
    RollupMark.objects.all().delete()
    try:
        return read()
    finally:
        RollupMark.objects.bulk_create(mark)
        Rollup.objects.bulk_create(kept)


def _live(user, params=None) -> dict:
    """The figures read with no rollups (every row live)."""
    return _without_rollups(lambda: _figures(user, params))


def _review(figures: dict) -> dict:
    return {e["id"]: e for e in figures["stats"]["elements"]}["manager_review"]


def test_rolling_up_twice_changes_no_figure(users, reviewed):
    padmin = users["padmin"]
    before = _figures(padmin)
    assert _roll_at(1000) == (T0 + timedelta(seconds=940)).isoformat()
    assert Rollup.objects.filter(metric="task", element="manager_review").exists()
    assert _figures(padmin) == before
    assert _roll_at(1000) == (T0 + timedelta(seconds=940)).isoformat()  # no move
    _roll_at(2000)  # moves, nothing new to add
    assert _figures(padmin) == before
    with clock_at(3000):
        call_command("cockpit_rollup", "--rebuild", stdout=io.StringIO())
    assert RollupMark.objects.get().until == T0 + timedelta(seconds=2940)
    assert _figures(padmin) == before
    review = _review(before)
    assert (review["completed"], review["median_s"]) == (4, 25.0)
    assert review["p90_s"] == pytest.approx(79.0)
    assert review["approximate"] is False


def _one_review_live(users, reviewed) -> None:
    """The beat's mark at T0 + 300 s, the four reviews (10-100 s) rolled; the
    fifth waits 100 s and takes 100 s after it (live)."""
    _roll_at(360)
    _, waiting = reviewed
    task = HumanTask.objects.get(case=waiting, bpmn_id="manager_review")
    with clock_at(600):
        task_claim(user=users["manager1"], task_id=task.pk)
    with clock_at(700):
        task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})


def test_the_live_tail_and_the_rollups_add_up_exactly(users, reviewed):
    """The beat's mark falls mid-day, between finished tasks: both halves count."""
    padmin = users["padmin"]
    _one_review_live(users, reviewed)
    figures = _figures(padmin)
    review = _review(figures)
    assert review["completed"] == 5
    assert review["median_s"] == 30.0  # 10, 20, 30, 100 rolled; 200 live
    assert review["p90_s"] == pytest.approx(160.0)
    (report,) = figures["tasks"]["tasks"]
    assert report["completed"] == 5
    assert report["waiting_median_s"] == 30.0  # the live one waited 100 s
    assert report["handling_p90_s"] == pytest.approx(60.0)  # 0, 0, 0, 0, 100
    assert figures == _live(padmin)
    whole_days = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-04T00:00:00Z"}
    assert _figures(padmin, whole_days) == _live(padmin, whole_days)
    assert _review(_figures(padmin, whole_days))["completed"] == 5


def test_a_figure_crosses_a_day_boundary(users, purchase):
    """Cases finished just before and after midnight land on their own days."""
    midnight = (datetime(2026, 3, 3, tzinfo=UTC) - T0).total_seconds()
    with clock_at(midnight - 100):
        cases = [start_purchase(users) for _ in range(3)]
    for case, at in zip(cases, (-40, 30, 90), strict=True):
        finish_purchase(users, case, midnight + at)
    _roll_at(midnight + 60 + 60)  # the mark: 00:01:00, between the 2nd and 3rd
    padmin = users["padmin"]
    ranges = [
        {},
        {"until": "2026-03-03T00:00:00Z"},
        {"since": "2026-03-03T00:00:00Z"},
        {"since": "2026-03-02T12:00:00Z", "until": "2026-03-03T12:00:00Z"},
        {"since": "2026-03-01T00:00:00Z", "until": "2026-03-05T00:00:00Z"},
    ]
    for params in ranges:
        assert _figures(padmin, params) == _live(padmin, params), params
    before = _figures(padmin, ranges[1])
    after = _figures(padmin, ranges[2])
    assert (before["cycles"]["count"], after["cycles"]["count"]) == (1, 2)
    assert before["cycles"]["median_s"] == 60.0
    assert after["cycles"]["median_s"] == 160.0  # 130 and 190 s
    assert _review(before)["completed"] == 1
    assert _review(after)["completed"] == 2
    page = page_for(padmin).get(
        "/cockpit/", {"since": "2026-03-02T00:00", "until": "2026-03-04T00:00"}
    )
    dashboard = page.context["dashboard"]
    assert dashboard.days == ["2026-03-02", "2026-03-03"]
    assert (dashboard.started, dashboard.completed) == ([3, 0], [1, 2])


def test_concurrent_beats_count_each_row_once(users, reviewed):
    """A beat that finds the mark locked does nothing; two at once add once."""
    padmin = users["padmin"]
    expected = _figures(padmin)
    RollupMark.objects.get_or_create(pk=1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_mark() -> None:
        try:
            with transaction.atomic():
                RollupMark.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_mark)
    holder.start()
    assert locked.wait(10)
    assert _roll_at(1000) is None  # skipped: another beat holds the mark
    release.set()
    holder.join()
    assert not Rollup.objects.exists()

    start = threading.Barrier(3)
    marks: list = []

    def beat() -> None:
        try:
            start.wait(10)
            marks.append(rollup())
        finally:
            connection.close()

    with clock_at(1000):  # the patch covers the threads too
        beats = [threading.Thread(target=beat) for _ in range(3)]
        for thread in beats:
            thread.start()
        for thread in beats:
            thread.join()
    assert len(marks) == 3 and RollupMark.objects.get(pk=1).run == 1
    task_rows = Rollup.objects.filter(metric="task", bucket=-1)
    assert sum(r.n for r in task_rows) == 4
    assert _figures(padmin) == expected


def test_many_rows_give_approximate_medians_within_one_percent(users, reviewed):
    """Above COCKPIT_EXACT_LIMIT rows the buckets answer, flagged, within 0.99%."""
    padmin = users["padmin"]
    exact = _review(_figures(padmin))
    _roll_at(1000)
    with override_settings(COCKPIT_EXACT_LIMIT=3):
        rough = _figures(padmin)
        page = page_for(padmin).get("/cockpit/processes/purchase_request/versions/1/")
    review = _review(rough)
    assert review["approximate"] is True and review["completed"] == 4
    for field in ("median_s", "p90_s"):
        assert review[field] != exact[field]
        assert review[field] == pytest.approx(exact[field], rel=RELATIVE_ERROR)
    assert rough["tasks"]["tasks"][0]["approximate"] is True
    assert "≈" in page.content.decode()
    assert _review(_figures(padmin))["approximate"] is False  # 4 rows: exact


def test_bucket_percentiles_stay_within_the_stated_error():
    """Log-uniform durations from 1 ms to 100 days, bucketed by the rollups' SQL."""
    rng = random.Random(13)
    values = [10 ** rng.uniform(-3, 7) for _ in range(2000)]
    with connection.cursor() as cursor:
        expression = _Bucket.template % {"expressions": "v"}
        cursor.execute(f"SELECT {expression} FROM unnest(%s::float8[]) AS v", [values])
        buckets = [b for (b,) in cursor.fetchall()]
    assert buckets == [bucket_of(v) for v in values]
    for size in (1, 2, 7, 100, 2000):
        histogram: dict[int, int] = {}
        for bucket in buckets[:size]:
            histogram[bucket] = histogram.get(bucket, 0) + 1
        for fraction in (0.0, 0.5, 0.9, 1.0):
            exact = percentile(values[:size], fraction)
            rough = histogram_percentile(histogram, fraction)
            assert exact is not None and rough is not None
            assert abs(rough - exact) <= RELATIVE_ERROR * exact * (1 + 1e-9)


def test_open_now_counts_from_the_rollups_match_the_rows(users, purchase):
    """Open cases and tasks: offered - closed up to the mark, the rest live."""
    with clock_at(0):
        first, held, late, unclaimed = [start_purchase(users) for _ in range(4)]
    finish_purchase(users, first, 60)
    case_suspend(user=users["padmin"], case_id=held.pk, reason="hold")
    review = HumanTask.objects.get(case=late, bpmn_id="manager_review")
    task_plan(user=users["padmin"], task_id=review.pk, due_at=T0)
    with clock_at(100):
        task_claim(user=users["manager1"], task_id=review.pk)
    _roll_at(260)  # the mark: T0 + 200 s
    with clock_at(300):
        start_purchase(users)  # offered after the mark
    task = HumanTask.objects.get(case=unclaimed, bpmn_id="manager_review")
    with clock_at(400):  # closed after the mark, the finance task offered
        task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})
    client = page_for(users["padmin"])

    def load(params):
        d = client.get("/cockpit/", params).context["dashboard"]
        return d.open_cases, d.by_group, d.by_user

    for params in ({}, {"process": "purchase_request"}, {"version": 1}):
        assert load(params) == _without_rollups(lambda p=params: load(p)), params
    open_cases, by_group, by_user = load({})
    assert open_cases == [
        {"process": "purchase_request", "status": "running", "count": 3},
        {"process": "purchase_request", "status": "suspended", "count": 1},
    ]
    groups = {g.name: (g.open, g.overdue) for g in by_group}
    assert groups == {"Manager": (3, 1), "Finance": (1, 0)}
    assert [(u.name, u.open, u.overdue) for u in by_user] == [("manager1", 1, 1)]
    assert Rollup.objects.filter(metric="offered", element="Manager").exists()


def test_the_task_report_reads_the_rollups_once_at_one_mark(users, reviewed):
    """Waiting, handling and late share: one mark (read before and after), one
    read of the rollups and one of the live rows (the three tails and the exact
    rows): as many statements with exact figures as with approximate ones, so
    the report costs the same with little or much finished data."""
    padmin = users["padmin"]
    _one_review_live(users, reviewed)
    _, waiting = reviewed
    finance = HumanTask.objects.get(case=waiting, bpmn_id="finance_review")
    with clock_at(800):  # after the mark: the only finance task, read live
        task_complete(
            user=users["finance"], task_id=finance.pk, data={"finance_approved": True}
        )
    api = api_for(padmin)
    expected = {t["id"]: t for t in _live(padmin)["tasks"]["tasks"]}
    # The request's own: token, its user's permissions (two), the version.
    for limit in (None, 3):
        with override_settings(COCKPIT_EXACT_LIMIT=limit or 2000):
            with CaptureQueriesContext(connection) as captured:
                response = api.get(TASKS)
        assert response.status_code == 200, response.content
        sql = [q["sql"] for q in captured.captured_queries]
        assert sum("cockpit_rollupmark" in s for s in sql) == 2
        assert sum('FROM "cockpit_rollup' in s for s in sql) == 3  # 2 marks + 1
        assert sum("tasks_app_humantask" in s for s in sql) == 1
        assert len(sql) == 4 + 4, "\n".join(sql)
        found = {t["id"]: t for t in response.json()["tasks"]}
        assert found["finance_review"] == expected["finance_review"]  # 1 row: exact
        if limit is None:
            assert found == expected
        else:  # 5 manager reviews: from the buckets
            assert found["manager_review"]["approximate"] is True
            assert found["manager_review"]["completed"] == 5
