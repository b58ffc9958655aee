"""RollupTotal: the day rollups summed, which a range over every day reads (issue #16).

The beat writes the totals with the day rows; they must be exactly the day rows
summed per version, metric, element and bucket (the smallest and largest, the
first day), after each beat, however the rows were split between beats, and
after a rebuild; and the figures read from them must be those read from the
day rows and those read live.
"""

import io
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db.models import Max, Min, Sum

from cockpit.models import Rollup, RollupTotal
from cockpit.rollups import open_cases_by_version
from engine.models import Case
from tests.cockpit.test_rollups import _figures, _live, _review, _roll_at

from .conftest import T0, clock_at, finish_purchase, start_purchase

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_DAY = {"since": "2000-01-01T00:00:00Z"}  # read from the day rows


def _summed_days() -> dict:
    rows = Rollup.objects.values_list("version_id", "metric", "element", "bucket")
    return {
        tuple(r[:4]): r[4:]
        for r in rows.annotate(
            n=Sum("n"), low=Min("low"), high=Max("high"), day=Min("day")
        ).order_by()
    }


def _totals() -> dict:
    rows = RollupTotal.objects.values_list(
        "version_id", "metric", "element", "bucket", "n", "low", "high", "day"
    )
    return {tuple(r[:4]): r[4:] for r in rows}


def _days_from_t0(day: int) -> float:
    return (datetime(2026, 3, 2 + day, 10, tzinfo=UTC) - T0).total_seconds()


def test_the_totals_are_the_day_rows_summed(users, purchase):
    padmin = users["padmin"]
    with clock_at(0):
        cases = [start_purchase(users) for _ in range(6)]
    for i, case in enumerate(cases):  # finished on three days, 40 s apart
        finish_purchase(users, case, _days_from_t0(i // 2) + 40 * i)
    for day in range(3):  # a beat a day: the totals grow by what each adds
        _roll_at(_days_from_t0(day) + 3600)
        assert _totals() == _summed_days()
        assert len(_totals()) < Rollup.objects.count() or day == 0
        assert _figures(padmin) == _live(padmin) == _figures(padmin, EVERY_DAY)
    review = _review(_figures(padmin))
    assert review["completed"] == 6
    with clock_at(_days_from_t0(4)):
        call_command("cockpit_rollup", "--rebuild", stdout=io.StringIO())
    assert _totals() == _summed_days()
    assert _figures(padmin) == _live(padmin)
    unfinished = Case.objects.exclude(status="completed").values_list("version_id")
    assert +open_cases_by_version(None) == Counter(v for (v,) in unfinished)
