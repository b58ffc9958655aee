"""Migrating running cases to another version of their process (Camunda 7 semantics).

Through the token API as a process admin, on PostgreSQL and a real Celery worker,
state saved and reloaded between every step as production does. The route a
migrated case takes from where it stood is compared with the route of a case
started on the target version and driven to the same element (a differential
check), for every element it can stand at.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from cockpit.models import CaseMigration
from cockpit.tasks import migration_run_task
from config.celery import app
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask, InboxCandidate
from tests.clients import api_for
from tests.conftest import deploy
from tests.engine.test_service_worker import _wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
)


def _diagram(steps: list[str], *, timer: bool = False, boundary: str = "") -> bytes:
    """start -> [a timer] -> user tasks `steps` -> end, as one process `mig`."""
    nodes = ['<bpmn:startEvent id="start"/>']
    order = ["start"]
    if timer:
        nodes.append(
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:intermediateCatchEvent>"
        )
        order.append("wait")
    for step in steps:
        nodes.append(
            f'<bpmn:userTask id="{step}" name="Step {step}" '
            'camunda:candidateGroups="Manager"/>'
        )
        order.append(step)
    if boundary:
        nodes.append(
            f'<bpmn:boundaryEvent id="late" attachedToRef="{boundary}">'
            "<bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            '<bpmn:endEvent id="gave_up"/>'
            '<bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="gave_up"/>'
        )
    nodes.append('<bpmn:endEvent id="end"/>')
    order.append("end")
    flows = "".join(
        f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>'
        for a, b in zip(order, order[1:], strict=False)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="d" '
        'targetNamespace="http://laneway.test">'
        '<bpmn:process id="mig" name="Migrate me" isExecutable="true">'
        f"{''.join(nodes)}{flows}</bpmn:process></bpmn:definitions>"
    ).encode()


def _deploy(tmp_path, users, steps, **kwargs):
    path = tmp_path / f"mig_{'_'.join(steps)}_{len(kwargs)}.bpmn"
    path.write_bytes(_diagram(steps, **kwargs))
    return deploy(path, users["analyst"])


def _open(case: Case) -> list[HumanTask]:
    return list(HumanTask.objects.filter(case=case, status="open"))


def _drive(users, case: Case) -> list[str]:
    """Complete whatever is open, in order, as the manager; return the route."""
    manager, route = api_for(users["manager1"]), []
    while tasks := _open(case):
        task = tasks[0]
        route.append(task.bpmn_id)
        done = manager.post(
            f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json"
        )
        assert done.status_code == 200, done.content
    case.refresh_from_db()
    assert case.status == "completed"
    return route


def _start(users) -> Case:
    case, _ = case_start(user=users["requester"], key="mig", data={"n": 1})
    return case


def _advance_to(users, case: Case, stop: int) -> None:
    for _ in range(stop):
        task = _open(case)[0]
        api_for(users["manager1"]).post(
            f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json"
        )


def _request(users, body: dict, who: str = "padmin"):
    return api_for(users[who]).post(
        "/api/v1/processes/mig/migrations/",
        {"reason": "new step", **body},
        format="json",
    )


def _migrate(users, body: dict):
    """Request a real migration, let the worker carry it out, return its progress."""
    admin = api_for(users["padmin"])
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        answer = _request(users, body)
        assert answer.status_code == 202, answer.content
        assert answer.json()["status"] == "queued"
        url = f"/api/v1/processes/mig/migrations/{answer.json()['id']}/"
        assert _wait_for(lambda: admin.get(url).json()["status"] == "finished")
    final = admin.get(url).json()
    assert final["done"] == final["total"]
    return final


@pytest.mark.parametrize("stop", [0, 1])
def test_a_migrated_case_goes_on_as_a_case_of_the_new_version_would(
    users, tmp_path, stop
):
    _deploy(tmp_path, users, ["A", "B"])
    moved = _start(users)
    _advance_to(users, moved, stop)
    held = _open(moved)[0]
    claim = api_for(users["manager1"]).post(f"/api/v1/tasks/{held.pk}/claim/")
    assert claim.status_code == 200, claim.content
    _deploy(tmp_path, users, ["A", "C", "B"])

    dry = _request(users, {"from_version": 1, "to_version": 2, "dry_run": True})
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "id": None, "status": "checked", "total": 1, "done": 1,
        "migrated": [str(moved.pk)], "refused": [], "busy": [], "dry_run": True,
    }  # fmt: skip
    assert Case.objects.get(pk=moved.pk).version.number == 1  # a dry run moves nothing

    answer = _migrate(users, {"from_version": 1, "to_version": 2})
    assert answer["migrated"] == [str(moved.pk)]
    moved.refresh_from_db()
    assert moved.version.number == 2
    # The open task is the same task: same row, still claimed by the manager.
    kept = HumanTask.objects.get(pk=held.pk)
    assert (kept.status, kept.assignee.username) == ("open", "manager1")
    event = AuditEvent.objects.get(case_id=moved.pk, action="case.migrated")
    assert event.actor_repr == "padmin"
    assert event.payload["before"] == {"version": 1}
    assert event.payload["after"] == {"version": 2}
    assert event.payload["reason"] == "new step"

    fresh = _start(users)  # a case of version 2, driven to the same element
    while _open(fresh)[0].bpmn_id != held.bpmn_id:
        _advance_to(users, fresh, 1)
    assert _drive(users, moved) == _drive(users, fresh)


def test_an_element_missing_from_the_target_is_refused_until_it_is_mapped(
    users, tmp_path
):
    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    _deploy(tmp_path, users, ["A2", "B"])
    dry = _request(users, {"from_version": 1, "to_version": 2, "dry_run": True})
    assert (
        dry.json()["refused"]
        == _migrate(users, {"from_version": 1, "to_version": 2})["refused"]
    )  # the dry run said exactly what the run then found
    (refusal,) = dry.json()["refused"]
    assert refusal["case"] == str(case.pk)
    assert refusal["problems"][0]["element_id"] == "A"
    assert "“A2”" not in refusal["problems"][0]["message"]
    assert "no element “A”" in refusal["problems"][0]["message"]
    case.refresh_from_db()
    assert case.version.number == 1
    assert not AuditEvent.objects.filter(case_id=case.pk, action="case.migrated")

    mapped = _migrate(
        users, {"from_version": 1, "to_version": 2, "mapping": {"A": "A2"}}
    )
    assert mapped["migrated"] == [str(case.pk)]
    assert [t.bpmn_id for t in _open(case)] == ["A2"]
    assert _drive(users, case) == ["A2", "B"]


def test_changes_that_cannot_move_exactly_are_refused_with_their_reason(
    users, tmp_path
):
    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    _deploy(tmp_path, users, ["A", "B"], boundary="A")  # a timer added on the task
    answer = _migrate(users, {"from_version": 1, "to_version": 2})
    (refusal,) = answer["refused"]
    assert "boundary events differ" in refusal["problems"][0]["message"]
    assert Case.objects.get(pk=case.pk).version.number == 1


def test_a_waiting_timer_keeps_its_due_time(users, tmp_path):
    _deploy(tmp_path, users, ["A"], timer=True)
    case = _start(users)
    due = Case.objects.get(pk=case.pk).next_timer_at
    assert due is not None
    _deploy(tmp_path, users, ["A", "B"], timer=True)
    assert _migrate(users, {"from_version": 1, "to_version": 2})["migrated"]
    case.refresh_from_db()
    assert (case.version.number, case.next_timer_at) == (2, due)


def test_only_process_admins_migrate_and_bad_plans_are_400s(users, tmp_path):
    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    _deploy(tmp_path, users, ["A", "C", "B"])
    plan = {"from_version": 1, "to_version": 2}
    for who in ("requester", "analyst", "auditor", "manager1"):
        assert _request(users, plan, who).status_code == 403, who
    same = _request(users, {"from_version": 2, "to_version": 2})
    assert (same.status_code, same.json()["code"]) == (400, "invalid")
    assert "to_version" in same.json()["details"]["fields"]
    bad = _request(users, {**plan, "mapping": {"A": ["x"]}})
    assert bad.status_code == 400 and "mapping" in bad.json()["details"]["fields"]
    missing = _request(users, {"from_version": 1, "to_version": 9})
    assert missing.status_code == 404
    assert Case.objects.get(pk=case.pk).version.number == 1


def test_a_redelivered_run_moves_no_case_twice(users, tmp_path):
    _deploy(tmp_path, users, ["A", "B"])
    cases = [_start(users) for _ in range(3)]
    _deploy(tmp_path, users, ["A", "C", "B"])
    final = _migrate(users, {"from_version": 1, "to_version": 2})
    assert sorted(final["migrated"]) == sorted(str(c.pk) for c in cases)
    # The broker hands the task out again (acks_late after a lost worker).
    CaseMigration.objects.filter(pk=final["id"]).update(status="running")
    migration_run_task.apply(args=[final["id"]])
    again = CaseMigration.objects.get(pk=final["id"])
    assert sorted(again.migrated) == sorted(final["migrated"]) and not again.refused
    for case in cases:
        events = AuditEvent.objects.filter(case_id=case.pk, action="case.migrated")
        assert events.count() == 1


def test_a_migration_whose_message_was_lost_is_sent_again_by_the_sweep(
    users, tmp_path, settings
):
    from cockpit.tasks import migrations_sweep_task

    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    _deploy(tmp_path, users, ["A", "C", "B"])
    answer = _request(users, {"from_version": 1, "to_version": 2})
    assert answer.status_code == 202
    app.control.purge()  # the broker lost the message (no worker was running)
    assert CaseMigration.objects.get().status == "queued"
    settings.ENGINE_OUTBOX_STALE_SECONDS = 0
    admin = api_for(users["padmin"])
    url = f"/api/v1/processes/mig/migrations/{answer.json()['id']}/"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert migrations_sweep_task() == [answer.json()["id"]]
        assert _wait_for(lambda: admin.get(url).json()["status"] == "finished")
    assert admin.get(url).json()["migrated"] == [str(case.pk)]
    assert migrations_sweep_task() == []  # finished: nothing to send again


def test_a_removed_task_moves_the_cases_before_it_and_refuses_those_at_it(
    users, tmp_path
):
    _deploy(tmp_path, users, ["A", "B", "C"])
    before_it = _start(users)
    at_it = _start(users)
    _advance_to(users, at_it, 1)  # waits at B
    _deploy(tmp_path, users, ["A", "C"])  # B removed
    final = _migrate(users, {"from_version": 1, "to_version": 2})
    assert final["migrated"] == [str(before_it.pk)]
    (refusal,) = final["refused"]
    assert refusal["case"] == str(at_it.pk)
    assert refusal["problems"][0]["element_id"] == "B"
    at_it.refresh_from_db()
    assert at_it.version.number == 1 and [t.bpmn_id for t in _open(at_it)] == ["B"]
    assert _drive(users, before_it) == ["A", "C"]  # goes on as v2 to the end
    assert _drive(users, at_it) == ["B", "C"]  # untouched: still runs as v1


def _inbox(users, who: str = "manager1") -> set[str]:
    """The ids of the tasks in someone's inbox (the API's list)."""
    answer = api_for(users[who]).get("/api/v1/tasks/?page_size=100")
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def test_a_suspended_case_migrated_keeps_its_tasks_out_of_every_inbox_until_resumed(
    users, tmp_path
):
    """Camunda 7: a suspended process instance's tasks cannot be worked; migrating
    it does not activate it. Its task, moved onto an element of the new version,
    stays out of every inbox (InboxCandidate.suspended) until it is resumed, and
    what the new version adds after it appears as usual then. A modification of
    a suspended case is refused (it would run the engine) and changes nothing."""
    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    admin = api_for(users["padmin"])
    url = f"/api/v1/cases/{case.pk}/"
    [task] = _open(case)
    assert str(task.pk) in _inbox(users)
    assert admin.post(url + "suspend/", {"reason": "audit"}).status_code == 200
    assert str(task.pk) not in _inbox(users)

    _deploy(tmp_path, users, ["A2", "C", "B"])
    plan = {"from_version": 1, "to_version": 2, "mapping": {"A": "A2"}}
    final = _migrate(users, plan)
    assert final["migrated"] == [str(case.pk)]
    case.refresh_from_db()
    assert (case.status, case.version.number) == ("suspended", 2)
    assert [t.bpmn_id for t in _open(case)] == ["A2"]
    rows = InboxCandidate.objects.filter(task__case=case)
    assert rows.exists() and not rows.filter(suspended=False).exists()
    for who in ("manager1", "manager2", "padmin", "requester"):
        assert str(task.pk) not in _inbox(users, who), who
    modify = admin.post(
        url + "modify/",
        {"instructions": [{"start_before": "C"}], "reason": "skip"},
        format="json",
    )
    assert (modify.status_code, modify.json()["code"]) == (409, "case_suspended")
    assert [t.bpmn_id for t in _open(case)] == ["A2"]

    assert admin.post(url + "resume/", {"reason": "done"}).status_code == 200
    assert str(task.pk) in _inbox(users)
    done = api_for(users["manager1"]).post(
        f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json"
    )
    assert done.status_code == 200, done.content
    [step_c] = _open(case)
    assert step_c.bpmn_id == "C" and str(step_c.pk) in _inbox(users)
    assert not InboxCandidate.objects.filter(task__case=case, suspended=True).exists()
