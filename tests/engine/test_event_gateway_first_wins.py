"""An event-based gateway takes the path of its first event only, whatever the
interleaving of a due timer and a message or signal (BPMN 2.0.2 §13.4.4).

Camunda 7 EventBasedGatewayTest#testCatchSignalAndMessageAndTimer: the clock
passes the timer's due date, the job executor has not run the timer job yet,
a message arrives: the message's path is taken, the timer job is removed.
Here the timer's wake (or the sweep) comes a moment after its due moment; a
message or signal delivered in between caught the event AND, in the same
engine run, the due timer, so both paths' tasks opened (seen once in the
conformance run of p11_ebg_sub_signal_wins under load).
"""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections

from engine.models import Case, SignalDelivery
from engine.services import case_start, message_deliver
from engine.services.signals import signal_broadcast, signal_delivery_send
from engine.services.timers import case_fire_timers
from tasks_app.models import HumanTask
from tests.conformance.runner import case_clock_moves_on
from tests.conftest import deploy

BPMN = Path(__file__).parents[1] / "conformance" / "bpmn" / "p11_event_gateways.bpmn"
EVENT_TASKS = {"Task_ES_Go", "Task_ES_Late", "Task_ES_Wake", "Task_ES_Received"}


def _open(case: Case) -> list[str]:
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _waiting_with_timer_due(users, count: int = 1) -> list[Case]:
    """Cases of p11_ebg_sub at the gateway whose PT1S timer is due, not fired."""
    deploy(BPMN, users["analyst"])
    cases = []
    for _ in range(count):
        case, _ = case_start(user=users["requester"], key="p11_ebg_sub", data={})
        case_clock_moves_on(case, timedelta(seconds=5))
        case.refresh_from_db()
        assert case.next_timer_at is not None and _open(case) == []
        cases.append(case)
    return cases


def _deliver(users, event: str) -> None:
    if event == "p11_sub_wake":
        signal_broadcast(actor=None, name=event, data=None)
    else:
        message_deliver(user=users["padmin"], name=event, correlation={}, data={})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event", "task"),
    [
        ("p11_sub_wake", "Task_ES_Wake"),  # signal catch event
        ("p11_sub_go", "Task_ES_Go"),  # message catch event
        ("p11_sub_receive", "Task_ES_Received"),  # receive task
    ],
)
def test_an_event_caught_while_the_timer_is_due_wins_alone(users, event, task):
    (case,) = _waiting_with_timer_due(users)
    _deliver(users, event)
    assert _open(case) == [task]
    assert case_fire_timers(case_id=case.pk) is False  # its wake or sweep comes late
    assert _open(case) == [task]


@pytest.mark.django_db(transaction=True)
def test_a_timer_fired_first_wins_alone(users):
    (case,) = _waiting_with_timer_due(users)
    assert case_fire_timers(case_id=case.pk) is True
    result = signal_broadcast(actor=None, name="p11_sub_wake", data=None)
    assert result.delivered == [] and _open(case) == ["Task_ES_Late"]


@pytest.mark.django_db(transaction=True)
def test_timer_wake_and_signal_at_once_open_one_path_per_case(users):
    """The timers' wakes and a signal broadcast race for the cases (two
    connections, released together, meeting in the middle): each case takes
    exactly one path, the signal's or the timer's."""
    cases = _waiting_with_timer_due(users, count=4)
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def fire_timers() -> None:
        try:
            barrier.wait()
            for case in reversed(cases):  # the broadcast goes oldest first
                case_fire_timers(case_id=case.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def broadcast() -> None:
        try:
            barrier.wait()
            signal_broadcast(actor=None, name="p11_sub_wake", data=None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fire_timers), threading.Thread(target=broadcast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    for pk in SignalDelivery.objects.values_list("pk", flat=True):  # was busy
        signal_delivery_send(outbox_id=pk)
    for case in cases:
        opened = [t for t in _open(case) if t in EVENT_TASKS]
        assert opened in (["Task_ES_Late"], ["Task_ES_Wake"]), (case.pk, opened)
        case.refresh_from_db()
        assert case.next_timer_at is None
        assert not case.signal_subscriptions.exists()
