"""A case modification runs custom listeners unless skipped, as Camunda 7's
ProcessInstanceModificationBuilder.execute(skipCustomListeners, skipIoMappings):
the cancelled user task's delete task listener, then its end execution
listener; the started one's start and create listeners. With
"skip_custom_listeners" (the API field, the page's checkbox) none runs, and a
start that would run listeners of its own is refused (409), nothing changed.

The diagram is tests/conformance/bpmn/c7_process_end_delete_listeners.bpmn
(pel_terminate: every listener appends to `log`).
"""

import pytest

from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

CONFORMANCE_BPMN = BPMN_DIR.parent / "conformance" / "bpmn"
STARTED = ["process-start", "task-create"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(users):
    deploy(CONFORMANCE_BPMN / "c7_process_end_delete_listeners.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="pel_terminate", data={})
    assert case.data["log"] == STARTED
    return case


def _modify(users, case, *instructions, **extra):
    return api_for(users["padmin"]).post(
        f"/api/v1/cases/{case.pk}/modify/",
        {"instructions": list(instructions), "reason": "fix", **extra},
        format="json",
    )


def _open(case):
    return sorted(
        HumanTask.objects.filter(case=case, status=HumanTask.Status.OPEN).values_list(
            "bpmn_id", flat=True
        )
    )


def test_a_modification_runs_the_cancelled_and_started_tasks_listeners(users, case):
    response = _modify(users, case, {"cancel": "Pt_Task"}, {"start_before": "Pt_Task"})
    assert response.status_code == 200, response.content
    log = Case.objects.get(pk=case.pk).data["log"]
    assert log == [*STARTED, "task-delete", "task-end", "task-create"]
    event = AuditEvent.objects.get(case_id=case.pk, action="case.modified")
    assert event.payload["skip_custom_listeners"] is False


def test_skipping_custom_listeners_runs_none_and_refuses_a_start_with_them(users, case):
    response = _modify(
        users,
        case,
        {"cancel": "Pt_Task"},
        {"start_after": "Pt_Task"},
        skip_custom_listeners=True,
    )
    assert response.status_code == 200, response.content
    after = Case.objects.get(pk=case.pk)
    assert after.data["log"] == STARTED
    assert _open(case) == ["Pt_Stop"]
    revision = after.revision
    # Pt_Task's create listener is its own: it would run, so it is refused.
    refused = _modify(
        users, case, {"start_before": "Pt_Task"}, skip_custom_listeners=True
    )
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["details"]["element"] == "Pt_Task"
    assert "without its custom listeners" in body["details"]["reason"]
    assert Case.objects.get(pk=case.pk).revision == revision
    assert _open(case) == ["Pt_Stop"]


def test_a_listener_failing_as_the_modification_cancels_refuses_it(users):
    deploy(CONFORMANCE_BPMN / "cancel_runs_end_listeners.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="cancel_failing_end_listener", data={}
    )
    revision = Case.objects.get(pk=case.pk).revision
    response = _modify(
        users, case, {"cancel": "Cy_Review"}, {"start_before": "Cy_Review"}
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["details"]["element"] == "Cy_Review"
    assert "end listener of 'Review' failed" in body["details"]["reason"]
    assert Case.objects.get(pk=case.pk).revision == revision
    # Skipping custom listeners, the same move is done.
    skipped = _modify(
        users,
        case,
        {"cancel": "Cy_Review"},
        {"start_before": "Cy_Review"},
        skip_custom_listeners=True,
    )
    assert skipped.status_code == 200, skipped.content
    assert "reviewed" not in Case.objects.get(pk=case.pk).data


def test_bad_skip_custom_listeners_names_the_field(users, case):
    response = _modify(users, case, {"cancel": "Pt_Task"}, skip_custom_listeners="x")
    assert response.status_code == 400
    assert "skip_custom_listeners" in response.json()["details"]["fields"]


@pytest.mark.parametrize(
    ("skip", "log"),
    [(False, [*STARTED, "task-delete", "task-end"]), (True, STARTED)],
)
def test_the_repair_page_runs_or_skips_the_listeners(users, case, skip, log):
    page, url = page_for(users["padmin"]), f"/cockpit/cases/{case.pk}/"
    shown = page.get(url).content.decode()
    assert 'name="skip_custom_listeners" data-testid="move-skip-custom-listeners"' in (
        shown
    )
    form = {
        "action": "modify",
        "cancel": "Pt_Task",
        "start_after": "Pt_Task",
        "reason": "not needed",
    }
    moved = page.post(
        url, {**form, **({"skip_custom_listeners": "on"} if skip else {})}, follow=True
    )
    assert moved.status_code == 200
    assert b"The case was moved." in moved.content
    assert Case.objects.get(pk=case.pk).data["log"] == log
    event = AuditEvent.objects.get(case_id=case.pk, action="case.modified")
    assert event.payload["skip_custom_listeners"] is skip
