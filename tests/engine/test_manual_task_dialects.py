"""A manual task as the engine its diagram is drawn for runs it.

Camunda 7 (ManualTaskActivityBehavior extends TaskActivityBehavior) leaves a
manual task at once and creates no task: in a Camunda diagram it is audited as
an element run, like a none task, and no inbox task is opened. In a plain BPMN
(or SpiffArena) diagram it stays an inbox task, as SpiffArena shows it.
"""

from pathlib import Path

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _start(users, name: str, key: str) -> Case:
    path = BPMN / name
    version_upload(user=users["analyst"], bpmn=path.read_bytes(), filename=path.name)
    case, _ = case_start(user=users["requester"], key=key, data={})
    case.refresh_from_db()
    return case


def _open(case: Case) -> list[str]:
    return sorted(
        HumanTask.objects.filter(case=case, status=HumanTask.Status.OPEN).values_list(
            "bpmn_id", flat=True
        )
    )


def _ran(case: Case, bpmn_id: str) -> list[dict]:
    return list(
        AuditEvent.objects.filter(
            case_id=case.pk, action=AuditAction.ELEMENT_COMPLETED, task_ref=bpmn_id
        ).values_list("payload", flat=True)
    )


def test_a_camunda_manual_task_passes_through_audited_as_an_element_run(users):
    case = _start(users, "manual_task.bpmn", "manual_task")
    assert _open(case) == ["Task_Ship"]
    assert not HumanTask.objects.filter(case=case, bpmn_id="Task_Pack").exists()
    [ran] = _ran(case, "Task_Pack")
    assert ran["kind"] == "PassThroughTask"


def test_a_plain_bpmn_manual_task_is_an_inbox_task(users):
    case = _start(users, "manual_task_plain.bpmn", "manual_task_plain")
    assert _open(case) == ["Task_Pack"]
    assert _ran(case, "Task_Pack") == []
