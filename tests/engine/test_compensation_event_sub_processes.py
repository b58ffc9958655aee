"""Compensation event sub-processes, through the services.

What the user sees when a completed embedded sub-process with a compensation
event sub-process is compensated (Camunda 7: CompensateEventTest.
testCompensationEventSubProcessWithScope): the event sub-process runs instead
of the inner handlers; a person's task inside it is in the inbox with the
sub-process's variables as they were when it completed, and the case's
history names the event sub-process's elements.
"""

from pathlib import Path

import pytest

from engine.selectors import case_element_states, case_timeline
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.selectors import inbox_list_for_user
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _complete(users, case, bpmn_id: str) -> None:
    task = HumanTask.objects.get(
        case=case, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN
    )
    task_complete(user=users["manager1"], task_id=task.pk, data={})


def test_a_person_works_on_the_compensation_event_sub_process_task(users):
    xml = (BPMN / "compensation_event_sub_process.bpmn").read_bytes()
    version_upload(
        user=users["analyst"],
        bpmn=xml.replace(b"Reviewers", b"Manager"),
        filename="booking.bpmn",
    )
    case, _ = case_start(user=users["requester"], key="comp_esp_booking", data={})
    for bpmn_id in ("CE_Flight", "CE_Hotel", "CE_Validate"):
        _complete(users, case, bpmn_id)
    _complete(users, case, "CE_CancelFlight")
    _complete(users, case, "CE_CancelHotel")

    update = HumanTask.objects.get(case=case, bpmn_id="CE_Update")
    assert update.status == HumanTask.Status.OPEN
    assert update in inbox_list_for_user(user=users["manager1"])
    # The booking sub-process's input parameter, as it was when it completed.
    assert update.variables["trip"] == "T-42"
    case.refresh_from_db()
    assert "trip" not in case.data
    assert case.status == "running"

    _complete(users, case, "CE_Update")
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data["cancelled_trip"] == "T-42"
    completed = case_element_states(case=case)["completed"]
    assert completed.index("CE_CancelFlight") < completed.index("CE_CancelHotel")
    assert completed.index("CE_CancelHotel") < completed.index("CE_Update")
    named = [entry.element for entry in case_timeline(case=case)]
    assert {
        "Handle Compensation",
        "Cancel Flight",
        "Cancel Hotel",
        "Update Customer Record",
    } <= set(named)
    # The compensation end event waited for the event sub-process.
    assert completed.index("CE_Compensation") < completed.index("CE_Throw")
