"""bench/volume.py: the fill is what the service layer leaves; the gate reads rounds.

The issue #16 volume figures are only meaningful if the filled rows look like real
ones: each copy a finished case with its state, closed tasks, the guardian rows that
stay after completion, barred users, and an audit chain with its head. And the
gate must read noisy rounds without hiding a figure that is really higher.
"""

import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from guardian.models import GroupObjectPermission

from audit.models import AuditChainHead, AuditEvent
from engine.models import Case, CaseState
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.selectors import inbox_list_for_user
from tasks_app.services import task_complete

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import volume  # noqa: E402


def _finish_case(users) -> Case:
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    steps = (("manager1", {"approved": True}), ("finance", {"finance_approved": True}))
    for user, data in steps:
        task = HumanTask.objects.get(case=case, status="open")
        task_complete(user=users[user], task_id=task.pk, data=data)
    case.refresh_from_db()
    assert case.status == "completed"
    return case


@pytest.mark.django_db(transaction=True)
def test_fill_copies_finished_cases_as_the_service_layer_leaves_them(purchase, users):
    templates = [_finish_case(users) for _ in range(2)]
    before = {
        "tasks": HumanTask.objects.count(),
        "events": AuditEvent.objects.filter(case_id__isnull=False).count(),
        "grants": GroupObjectPermission.objects.count(),
    }
    indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    with connection.cursor() as cursor:
        cursor.execute(indexes)
        schema = sorted(row[0] for row in cursor.fetchall())
    counts = volume.fill(cases=8, days=1)
    with connection.cursor() as cursor:
        cursor.execute(indexes)
        assert sorted(row[0] for row in cursor.fetchall()) == schema  # rebuilt

    assert counts["engine_case"] == 8  # 2 templates + 3 copies of each
    assert CaseState.objects.count() == 8
    assert set(Case.objects.values_list("status", flat=True)) == {"completed"}
    # The copies are history: a day old at least, nothing in the future.
    copies = Case.objects.exclude(pk__in=[c.pk for c in templates])
    day_ago = timezone.now() - timedelta(days=1)
    assert not copies.filter(ended_at__gt=day_ago).exists()
    assert not HumanTask.objects.filter(
        case__in=copies, completed_at__gt=day_ago
    ).exists()
    assert not AuditEvent.objects.filter(case_id__in=copies, at__gt=day_ago).exists()
    assert HumanTask.objects.count() == before["tasks"] * 4
    assert not HumanTask.objects.filter(status="open").exists()
    assert AuditEvent.objects.filter(case_id__isnull=False).count() == (
        before["events"] * 4
    )
    assert GroupObjectPermission.objects.count() == before["grants"] * 4
    # The copies' guardian rows point at the copies' tasks and cases, VIEW only.
    copy = Case.objects.exclude(pk__in=[c.pk for c in templates]).first()
    tasks = {str(pk) for pk in copy.human_tasks.values_list("pk", flat=True)}
    granted = set(
        GroupObjectPermission.objects.filter(object_pk__in=tasks).values_list(
            "permission__codename", "object_pk"
        )
    )
    assert granted == {("view_humantask", pk) for pk in tasks}
    assert GroupObjectPermission.objects.filter(object_pk=str(copy.pk)).count() == 2
    assert copy.human_tasks.filter(barred=users["requester"]).count() == 1
    # Its audit trail is a chain ending at its head, naming its own tasks.
    trail = list(AuditEvent.objects.filter(case_id=copy.pk).order_by("chain_seq"))
    assert trail[0].chain == f"case:{copy.pk}" and trail[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(trail, trail[1:], strict=False))
    head = AuditChainHead.objects.get(chain=f"case:{copy.pk}")
    assert (head.chain_seq, head.hash) == (trail[-1].chain_seq, trail[-1].hash)
    refs = {e.task_ref.split(":")[1] for e in trail if ":" in e.task_ref}
    assert refs == tasks
    # Finished work stays out of every inbox.
    assert not inbox_list_for_user(user=users["manager1"]).exists()
    assert Group.objects.filter(name="Manager").exists()


# -- the gate's statistics (bench/paired.py, plain functions) ------------------------


def _rounds(values: list[float], figure: str = "page cpu_ms") -> list[dict]:
    return [{figure: value, "page ms": value} for value in values]


def test_a_figures_ratio_is_the_median_of_its_rounds_ratios():
    # Round 2 caught a burst of load on the filled side only: its ratio is 3.0.
    # The median of the medians would say 22 / 10 = 2.2; the rounds say 1.1.
    empty = _rounds([10.0, 10.0, 20.0])
    filled = _rounds([11.0, 30.0, 22.0])

    figures = volume.summary({"empty": empty, "filled": filled})

    assert figures["volume_round_ratios"]["page cpu_ms"] == [1.1, 3.0, 1.1]
    assert figures["volume_ratios"]["page cpu_ms"] == 1.1
    assert figures["volume_max_ratio"] == 1.1
    assert figures["volume_over"] == []
    assert figures["volume_empty"]["page cpu_ms"] == 10.0  # shown beside it
    assert figures["volume_filled"]["page cpu_ms"] == 22.0


def test_a_figure_higher_in_most_rounds_still_fails_the_gate():
    # Really 1.3x on the filled database, with noise and one lucky round.
    empty = _rounds([10.0, 12.0, 9.0, 11.0, 10.0])
    filled = _rounds([13.0, 16.2, 10.0, 14.0, 13.5])
    flat = {"other cpu_ms": 5.0}
    for rounds in (empty, filled):
        for figures in rounds:
            figures.update(flat)

    figures = volume.summary({"empty": empty, "filled": filled})

    assert figures["volume_ratios"]["other cpu_ms"] == 1.0
    assert figures["volume_ratios"]["page cpu_ms"] == 1.3
    assert figures["volume_max_ratio"] == 1.3
    assert figures["volume_max_ratio_figure"] == "page cpu_ms"
    assert figures["volume_over"] == ["page cpu_ms", "page ms"]
    assert figures["volume_max_ratio"] > volume.FLAT  # run.py: not met


def test_each_database_goes_first_as_often_as_the_other():
    from bench import paired

    names = ("empty", "filled")
    firsts = [
        order[0] for round_ in range(4) for order in paired.orders(names, round_, 10)
    ]
    assert firsts.count("empty") == firsts.count("filled") == 20
    # Back to back: consecutive segments share a database (A B, B A, ...).
    orders = list(paired.orders(names, 0, 3))
    assert orders == [names, names[::-1], names]
