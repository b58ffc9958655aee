"""Link events run as Camunda 7 runs them, and the diagram shows what was drawn.

The link pair is rewritten into a sequence flow when the upload is normalized
(engine/spiff/links.py); the scenarios in tests/conformance/scenarios/link_*.toml
prove how tokens move. Here: the refusals reach the API located, the stored and
served XML is the uploaded one, and the case's history and diagram states name
the drawn throw and catch events.
"""

from pathlib import Path

import pytest

from engine.selectors import case_element_states, case_timeline
from engine.services import case_start
from engine.spiff import bundle_compile
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.processes.uploads import api_upload_refused

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _sequence() -> bytes:
    """link_sequence.bpmn, its tasks offered to the demo cast's managers."""
    return (BPMN / "link_sequence.bpmn").read_bytes().replace(b"approvers", b"Manager")


def _open_task(case) -> HumanTask:
    return HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)


def test_a_case_passes_the_drawn_link_events_and_its_history_names_them(users):
    version_upload(user=users["analyst"], bpmn=_sequence(), filename="links.bpmn")
    case, _ = case_start(user=users["requester"], key="link_sequence", data={})
    task_complete(user=users["manager1"], task_id=_open_task(case).pk, data={})

    case.refresh_from_db()
    assert _open_task(case).bpmn_id == "Task_Review"
    states = case_element_states(case=case)
    assert states["active"] == ["Task_Review"]
    completed = states["completed"]
    assert completed.index("Task_Prepare") < completed.index("Throw_ToReview")
    assert completed.index("Throw_ToReview") < completed.index("Catch_ToReview")
    assert "Throw_ToReview_link" not in completed  # a flow, never an element
    assert "To review" in [entry.element for entry in case_timeline(case=case)]


def test_the_stored_and_served_diagram_is_the_uploaded_one(users, client):
    original = _sequence()
    [upload] = version_upload(
        user=users["analyst"], bpmn=original, filename="links.bpmn"
    )
    version = ProcessVersion.objects.get(pk=upload.version.pk)
    assert bytes(version.original_xml) == original
    normalized = bytes(version.normalized_xml)
    assert b"linkEventDefinition" not in normalized  # what runs: a flow
    assert b'sourceRef="Throw_ToReview" targetRef="Catch_ToReview"' in normalized

    client.force_login(users["analyst"])
    api = client.get("/api/v1/processes/link_sequence/versions/1/xml/")
    page = client.get("/processes/link_sequence/v1/bpmn/")
    assert api.status_code == page.status_code == 200
    assert api.content == page.content == original
    assert client.get("/processes/link_sequence/v1/").status_code == 200


def test_the_api_refuses_a_second_link_catch_of_one_name_located(users, client):
    client.force_login(users["analyst"])
    bpmn = BPMN / "link_refused_two_catches.bpmn"
    error = api_upload_refused(client, bpmn)
    assert error["element_id"] == "Catch_Same_2"
    assert error["line"] == 19
    assert "one link catch event per name" in error["message"]
    assert "'Catch_Same_1' (line 15)" in error["message"]


@pytest.mark.parametrize(
    ("name", "element", "reason"),
    [
        ("link_refused_throw_without_catch", "Throw_Nowhere", "no link catch event"),
        ("link_refused_catch_with_incoming", "Catch_Go", "a sequence flow leads"),
        ("link_refused_throw_with_outgoing", "Throw_Go", "a sequence flow leaves"),
        ("link_refused_boundary", "Boundary_Link", "intermediate throw or catch"),
        ("link_refused_across_subprocess", "Throw_Out", "another process or sub"),
        ("link_refused_throw_listener", "Throw_ToReview", "never runs an execution"),
    ],
)
def test_a_wrong_link_is_the_only_problem_reported(users, name, element, reason):
    """One located problem per wrong link, none left behind by the rewrite."""
    bpmn = BPMN / f"{name}.bpmn"
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"], bpmn=bpmn.read_bytes(), filename=bpmn.name
        )
    [error] = err.value.details["errors"]
    assert error["element_id"] == element
    assert reason in error["message"]
    assert error["line"]


def test_normalizing_the_stored_diagram_again_changes_nothing():
    """The stored normalized XML is normalized again when compiled: idempotent."""
    once = bundle_compile(_sequence(), known_operations=()).normalized_xml
    twice = bundle_compile(once, known_operations=()).normalized_xml
    assert once.count(b"<bpmn:sequenceFlow") == twice.count(b"<bpmn:sequenceFlow") == 5
