"""Management commands act as a named user through the same services and checks."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from engine.models import Case
from processes.models import ProcessVersion
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, EXAMPLES

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_deploy_process_is_for_analysts_only(users):
    path = str(EXAMPLES / "purchase_request.bpmn")
    with pytest.raises(CommandError):
        run("deploy_process", path, "--as", "manager1")
    assert "purchase_request v1 deployed" in run(
        "deploy_process", path, "--as", "analyst"
    )
    assert "purchase_request v1 unchanged" in run(
        "deploy_process", path, "--as", "analyst"
    )


def test_deploy_process_sends_dmn_files_through_the_upload_checks(users, settings):
    path, dmn = EXAMPLES / "purchase_request.bpmn", BPMN_DIR / "check_amounts.dmn"
    assert "purchase_request v1 deployed" in run(
        "deploy_process", str(path), "--dmn", str(dmn), "--as", "analyst"
    )
    version = ProcessVersion.objects.get(definition__key="purchase_request")
    assert [f["name"] for f in version.dmn_files] == ["check_amounts.dmn"]
    settings.PROCESSES_UPLOAD_MAX_BYTES = 1024
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "deploy_process", str(path), "--as", "analyst", stderr=err, stdout=err
        )
    assert "larger than the 1 KiB upload limit" in err.getvalue()
    versions = ProcessVersion.objects.filter(definition__key="purchase_request")
    assert versions.count() == 1


def test_start_and_complete_obey_lanes_and_are_audited_as_the_user(users, purchase):
    output = run(
        "start_case",
        "purchase_request",
        "--data",
        '{"amount": 3, "justification": "Pens"}',
        "--as",
        "requester",
    )
    case = Case.objects.get()
    assert str(case.pk) in output
    task = HumanTask.objects.get(case=case, status="open")
    with pytest.raises(CommandError, match="No such task"):
        run(
            "complete_task",
            str(task.pk),
            "--data",
            '{"approved": true}',
            "--as",
            "outsider",
        )
    with pytest.raises(CommandError, match="approved"):
        run(
            "complete_task",
            str(task.pk),
            "--data",
            '{"approved": "maybe"}',
            "--as",
            "manager1",
        )
    run(
        "complete_task",
        str(task.pk),
        "--data",
        '{"approved": true}',
        "--as",
        "manager1",
    )
    event = AuditEvent.objects.get(case_id=case.pk, action="task.completed")
    assert event.actor_repr == "manager1" and event.payload["data"]["approved"] is True


def test_verify_and_export_audit(users, purchase, tmp_path):
    run(
        "start_case",
        "purchase_request",
        "--data",
        '{"amount": 3, "justification": "Pens"}',
        "--as",
        "requester",
    )
    assert "OK:" in run("verify_audit")
    target = tmp_path / "audit.csv"
    run("export_audit", "--format", "csv", "--output", str(target))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,chain,chain_seq,at")
    assert any(",case.started," in line for line in lines[1:])
