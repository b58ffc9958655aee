"""Compensating sub-processes and call activities, through the services.

What the user sees when a compensation throw reaches a completed embedded
sub-process (Camunda 7: its event scope): the handlers of the tasks inside run,
last completed first, and the case's history names each one; a handler a
person works on is offered like any task, with the sub-process's variables as
they were when it completed.
"""

from pathlib import Path

import pytest

from engine.selectors import case_element_states, case_timeline
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _upload(users, name: str) -> None:
    xml = (BPMN / name).read_bytes().replace(b"Reviewers", b"Manager")
    version_upload(user=users["analyst"], bpmn=xml, filename=name)


def _complete(users, case, bpmn_id: str, data: dict | None = None) -> None:
    task = HumanTask.objects.filter(
        case=case, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN
    ).order_by("pk")[0]
    task_complete(user=users["manager1"], task_id=task.pk, data=data or {})


def test_the_history_names_the_handlers_of_a_compensated_sub_process(users):
    _upload(users, "compensation_sub_process_inner.bpmn")
    case, _ = case_start(
        user=users["requester"], key="comp_sub_inner", data={"undone": []}
    )
    for bpmn_id in ("CSI_Hotel", "CSI_Flight", "CSI_Pay"):
        _complete(users, case, bpmn_id)

    case.refresh_from_db()
    assert case.data["undone"] == ["payment", "flight", "hotel"]
    completed = case_element_states(case=case)["completed"]
    handlers = ["CSI_UndoPay", "CSI_UndoFlight", "CSI_UndoHotel"]
    assert [c for c in completed if c in handlers] == handlers
    assert completed.index("CSI_UndoHotel") < completed.index("CSI_Throw")
    named = [entry.element for entry in case_timeline(case=case)]
    assert {"Refund", "Cancel the flight", "Cancel the hotel"} <= set(named)


def test_a_person_undoes_each_room_of_a_compensated_multi_instance_sub_process(users):
    xml = (BPMN / "compensation_mi_sub_process_ref.bpmn").read_bytes()
    xml = xml.replace(b"Reviewers", b"Manager").replace(
        b'<bpmn:scriptTask id="CMR_UndoBook" name="Cancel the room" '
        b'isForCompensation="true" scriptFormat="python">\n'
        b"        <bpmn:script>undone = undone + [room]</bpmn:script>\n"
        b"      </bpmn:scriptTask>",
        b'<bpmn:userTask id="CMR_UndoBook" name="Cancel the room" '
        b'isForCompensation="true" camunda:candidateGroups="Manager" '
        b'camunda:assignee="manager1"/>',
    )
    assert b'<bpmn:userTask id="CMR_UndoBook"' in xml
    version_upload(user=users["analyst"], bpmn=xml, filename="rooms.bpmn")
    case, _ = case_start(
        user=users["requester"],
        key="comp_mi_sub_ref",
        data={"undone": [], "rooms": ["r1", "r2"]},
    )
    _complete(users, case, "CMR_Open")
    _complete(users, case, "CMR_Book", {"confirmation": "c1"})
    _complete(users, case, "CMR_Book", {"confirmation": "c2"})

    undo = HumanTask.objects.filter(case=case, bpmn_id="CMR_UndoBook").order_by("pk")
    assert [t.status for t in undo] == [HumanTask.Status.OPEN] * 2
    # Last completed first, each seeing its instance's room (the snapshot).
    assert [t.local_data.get("room") for t in undo] == ["r2", "r1"]
    assert not HumanTask.objects.filter(case=case, bpmn_id="CMR_After").exists()
    for task in undo:
        task_complete(user=users["manager1"], task_id=task.pk, data={})
    assert HumanTask.objects.filter(
        case=case, bpmn_id="CMR_After", status=HumanTask.Status.OPEN
    ).exists()
