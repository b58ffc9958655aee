"""Operaton's two travel sagas (shared corpus) through the API, on a real worker.

book-travel: the payment fails with the BPMN error PAYMENT_FAILED; its error
boundary event leads to a compensation throw, which runs the handlers of the
bookings that completed (flight first: it completed last, as Camunda 7 orders
them), waits for both, and the case ends at "Booking cancelled". A payment
that succeeds compensates nothing.

travel-booking: a payment over budget reaches the transaction's cancel end
event; the car, hotel and flight reservations are cancelled (last reserved
first) before the case leaves on the cancel boundary event to notify.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from config.celery import app
from engine.models import Case, Incident, ServiceCall
from tests.clients import signed_in_api
from tests.conftest import PASSWORD
from tests.processes.test_corpus import CORPUS

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BOOK_TRAVEL = CORPUS / "operaton" / "error-compensation--book-travel.bpmn"
TRAVEL_BOOKING = CORPUS / "operaton" / "travel-booking.bpmn"
_OK = "tests.operations.corpus_operation"


def _operations(payment: str) -> dict[str, str]:
    names = ("bookHotel", "bookFlight", "cancelHotel", "cancelFlight")
    return {
        **{f"{name}Delegate": _OK for name in names},
        "processPaymentDelegate": payment,
    }


def _run(users, path, process: str, data: dict) -> tuple[dict, list[tuple[str, str]]]:
    analyst = signed_in_api(users["analyst"], PASSWORD)
    upload = analyst.post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile(path.name, path.read_bytes())},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    requester = signed_in_api(users["requester"], PASSWORD)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        started = requester.post(
            "/api/v1/cases/", {"process": process, "data": data}, format="json"
        )
        assert started.status_code == 201, started.json()
        case_id = started.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if Case.objects.get(pk=case_id).status != Case.Status.RUNNING:
                break
            time.sleep(0.1)
    case = requester.get(f"/api/v1/cases/{case_id}/").json()
    calls = [
        (call.bpmn_id, call.status)
        for call in ServiceCall.objects.filter(case_id=case_id).order_by("pk")
    ]
    return case, calls


def _incidents() -> list[str]:
    return list(Incident.objects.values_list("message", flat=True))


def test_a_declined_payment_compensates_the_flight_then_the_hotel(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = _operations(
        "tests.operations.payment_declined"
    )
    case, calls = _run(users, BOOK_TRAVEL, "book-travel", {})

    assert case["status"] == "completed", (case, calls, _incidents())
    assert [bpmn_id for bpmn_id, _ in calls] == [
        "Task_BookHotel",
        "Task_BookFlight",
        "Task_ProcessPayment",
        "Task_CancelFlight",
        "Task_CancelHotel",
    ]
    assert [status for _, status in calls[3:]] == ["succeeded", "succeeded"]


def test_a_payment_that_succeeds_compensates_nothing(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = _operations(_OK)
    case, calls = _run(users, BOOK_TRAVEL, "book-travel", {})

    assert case["status"] == "completed", (case, calls, _incidents())
    assert [bpmn_id for bpmn_id, _ in calls] == [
        "Task_BookHotel",
        "Task_BookFlight",
        "Task_ProcessPayment",
    ]


def test_a_cancelled_transaction_cancels_car_hotel_flight_then_notifies(
    users, settings
):
    names = ("Flight", "Hotel", "Car")
    settings.ENGINE_SERVICE_OPERATIONS = {
        **{f"reserve{name}Delegate": _OK for name in names},
        **{f"cancel{name}Delegate": _OK for name in names},
        "chargePaymentDelegate": _OK,
        "sendConfirmationDelegate": _OK,
        "notifyCancellationDelegate": _OK,
    }
    case, calls = _run(
        users, TRAVEL_BOOKING, "travel-booking", {"paymentApproved": False}
    )

    assert case["status"] == "completed", (case, calls, _incidents())
    assert [bpmn_id for bpmn_id, _ in calls] == [
        "Task_ReserveFlight",
        "Task_ReserveHotel",
        "Task_ReserveCar",
        "Task_ChargePayment",
        "Task_CancelCar",
        "Task_CancelHotel",
        "Task_CancelFlight",
        "Task_NotifyCancellation",
    ]
    assert {status for _, status in calls} == {"succeeded"}
