"""Parallel/inclusive joins and multi-instance run as BPMN 2.0 and Camunda 7 say.

Through the services on PostgreSQL: every step loads the case state from the
database (pruned and serialized by the step before), as production does.
Diagrams are the conformance suite's (tests/conformance/bpmn/).
"""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from engine.models import Case
from engine.services import case_start
from tasks_app.errors import NotTaskCandidate, TaskNotFound
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import deploy

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "tests" / "conformance" / "bpmn"


@pytest.fixture
def clerks(users):
    """alice and bob in Clerks (the diagrams' group), carol in no group."""
    clerks_group = Group.objects.get_or_create(name="Clerks")[0]
    made = {}
    for name in ("alice", "bob", "carol"):
        made[name] = get_user_model().objects.create_user(name, f"{name}@example.com")
        if name != "carol":
            made[name].groups.add(clerks_group)
    return {**users, **made}


def _start(people, diagram, key, data=None):
    deploy(DIAGRAMS / diagram, people["analyst"])
    case, _ = case_start(user=people["alice"], key=key, data=data or {})
    return case


def _open(case):
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _complete(case, bpmn_id, user, data=None):
    task = (
        HumanTask.objects.filter(case=case, status="open", bpmn_id=bpmn_id)
        .order_by("created_at", "pk")
        .first()
    )
    assert task is not None, f"{bpmn_id} is not open: {_open(case)}"
    return task_complete(user=user, task_id=task.pk, data=data or {})


def _orders(width):
    return [(width, order) for order in itertools.permutations("ABCD"[:width])]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("width", "order"), _orders(2) + _orders(3) + _orders(4), ids=str
)
def test_parallel_join_fires_once_after_the_last_branch(clerks, width, order):
    case = _start(clerks, f"parallel_join_{width}.bpmn", f"join{width}")
    branches = [f"Task_{letter}" for letter in "ABCD"[:width]]
    assert _open(case) == branches
    for done, letter in enumerate(order, start=1):
        _complete(case, f"Task_{letter}", clerks["bob"], {f"by_{letter}": done})
        expected = sorted(set(branches) - {f"Task_{x}" for x in order[:done]})
        assert _open(case) == (expected or ["Task_After"])
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING and not case.has_incident
    # Every branch's data reached the path after the join.
    assert {k: case.data[k] for k in case.data if k.startswith("by_")} == {
        f"by_{letter}": done for done, letter in enumerate(order, start=1)
    }
    _complete(case, "Task_After", clerks["bob"])
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert HumanTask.objects.filter(case=case, bpmn_id="Task_After").count() == 1


NESTED_ORDERS = [
    ["Task_A", "Task_B1", "Task_B2", "Task_B3", "Task_B_Summary", "Task_C"],
    ["Task_C", "Task_B3", "Task_A", "Task_B2", "Task_B1", "Task_B_Summary"],
    ["Task_B2", "Task_B3", "Task_B1", "Task_B_Summary", "Task_C", "Task_A"],
    ["Task_B1", "Task_C", "Task_B3", "Task_A", "Task_B2", "Task_B_Summary"],
]


@pytest.mark.django_db
@pytest.mark.parametrize("order", NESTED_ORDERS, ids=lambda o: "-".join(o))
def test_nested_three_way_joins_fire_after_their_own_branches(clerks, order):
    case = _start(clerks, "parallel_nested.bpmn", "parallel_nested")
    inner = {"Task_B1", "Task_B2", "Task_B3"}
    done: set[str] = set()
    assert _open(case) == sorted({"Task_A", "Task_C"} | inner)
    for bpmn_id in order:
        _complete(case, bpmn_id, clerks["alice"], {bpmn_id: True})
        done.add(bpmn_id)
        expected = ({"Task_A", "Task_C"} | inner) - done
        if inner <= done and "Task_B_Summary" not in done:
            expected.add("Task_B_Summary")
        assert _open(case) == sorted(expected or {"Task_After"})
    case.refresh_from_db()
    assert all(case.data[bpmn_id] is True for bpmn_id in order)


@pytest.mark.django_db
def test_a_join_inside_a_loop_waits_for_all_branches_of_each_round(clerks):
    # Plain SpiffWorkflow 3.2 fires this join with one branch done in round two
    # when that branch was the last one of round one (tokens consumed twice).
    case = _start(clerks, "parallel_join_loop.bpmn", "join_loop")
    rounds = [("A", "B", "C"), ("C", "A", "B"), ("B", "C", "A"), ("C", "B", "A")]
    for number, order in enumerate(rounds, start=1):
        _complete(case, "Task_Prepare", clerks["bob"], {"round": number})
        for letter in order:
            assert "Task_Decide" not in _open(case)
            _complete(case, f"Task_{letter}", clerks["bob"])
        assert _open(case) == ["Task_Decide"]
        again = number < len(rounds)
        _complete(case, "Task_Decide", clerks["bob"], {"again": again})
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert HumanTask.objects.filter(case=case, bpmn_id="Task_Decide").count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "flags",
    [{"a": True, "b": True, "c": True}, {"a": True, "b": False, "c": True}],
    ids=["all three", "a and c"],
)
def test_inclusive_merge_waits_for_exactly_the_started_branches(clerks, flags):
    case = _start(clerks, "inclusive_join_3.bpmn", "inclusive3")
    _complete(case, "Task_Choose", clerks["alice"], flags)
    started = [f"Task_{k.upper()}" for k, on in sorted(flags.items()) if on]
    assert _open(case) == started
    for order in [started[::-1]]:
        for done, bpmn_id in enumerate(order, start=1):
            _complete(case, bpmn_id, clerks["bob"], {f"done_{bpmn_id}": True})
            assert _open(case) == (sorted(order[done:]) or ["Task_After"])
    case.refresh_from_db()
    assert all(case.data[f"done_{b}"] for b in started)


def _subprocess_complete(task, username, data):
    """Complete a task through `manage.py complete_task` in another OS process."""
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "complete_task",
            str(task.pk),
            "--as",
            username,
            "--data",
            json.dumps(data),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "subprocess_first", [False, True], ids=["here-then-there", "there-then-here"]
)
def test_parallel_instances_completed_from_two_processes_finish_the_activity(
    clerks, subprocess_first
):
    case = _start(clerks, "mi_parallel_cardinality.bpmn", "mi_par_card", {"count": 2})
    first, second = HumanTask.objects.filter(case=case, status="open").order_by(
        "created_at", "pk"
    )
    if subprocess_first:
        _subprocess_complete(first, "bob", {"seen": 1})
        task_complete(user=clerks["alice"], task_id=second.pk, data={"seen": 2})
    else:
        task_complete(user=clerks["alice"], task_id=first.pk, data={"seen": 1})
        _subprocess_complete(second, "bob", {"seen": 2})
    assert _open(case) == ["Task_After"]
    case.refresh_from_db()
    assert not case.has_incident and case.data["seen"] == 2
    assert "loopCounter" not in case.data


@pytest.mark.django_db(transaction=True)
def test_sequential_instances_completed_from_two_processes_run_in_turn(clerks):
    case = _start(
        clerks,
        "mi_sequential_collection.bpmn",
        "mi_seq_coll",
        {"signers": ["alice", "bob", "alice"]},
    )
    for turn, signer in enumerate(["alice", "bob", "alice"]):
        [task] = HumanTask.objects.filter(case=case, status="open")
        assert task.assignee.username == signer
        if turn % 2:
            _subprocess_complete(task, signer, {f"signed_{turn}": True})
        else:
            task_complete(
                user=clerks[signer], task_id=task.pk, data={f"signed_{turn}": True}
            )
    assert _open(case) == ["Task_After"]
    case.refresh_from_db()
    assert all(case.data[f"signed_{turn}"] for turn in range(3))


@pytest.mark.django_db
def test_each_collection_instance_is_assigned_to_its_own_item(clerks):
    case = _start(
        clerks,
        "mi_parallel_assignee.bpmn",
        "mi_par_assignee",
        {"approvers": ["alice", "bob"]},
    )
    tasks = list(
        HumanTask.objects.filter(case=case, status="open").order_by("created_at", "pk")
    )
    assert [t.assignee.username for t in tasks] == ["alice", "bob"]
    with pytest.raises((NotTaskCandidate, TaskNotFound)):
        task_complete(user=clerks["bob"], task_id=tasks[0].pk, data={})
    with pytest.raises((NotTaskCandidate, TaskNotFound)):
        task_complete(user=clerks["carol"], task_id=tasks[1].pk, data={})
    task_complete(user=clerks["alice"], task_id=tasks[0].pk, data={"ok_alice": True})
    assert _open(case) == ["Task_Each"]
    task_complete(user=clerks["bob"], task_id=tasks[1].pk, data={"ok_bob": True})
    assert _open(case) == ["Task_After"]
    case.refresh_from_db()
    assert case.data["ok_alice"] and case.data["ok_bob"]
    assert "approver" not in case.data  # the element variable is local to its instance


@pytest.mark.django_db
def test_sequential_collection_runs_one_signer_after_the_other(clerks):
    signers = ["alice", "bob", "alice"]
    case = _start(
        clerks, "mi_sequential_collection.bpmn", "mi_seq_coll", {"signers": signers}
    )
    for turn, signer in enumerate(signers):
        [task] = HumanTask.objects.filter(case=case, status="open")
        assert (task.bpmn_id, task.assignee.username) == ("Task_Each", signer)
        task_complete(
            user=clerks[signer], task_id=task.pk, data={f"signed_{turn}": True}
        )
        case.refresh_from_db()
        assert not case.has_incident, case.incidents.values_list("message", flat=True)
        assert "signer" not in case.data and "loopCounter" not in case.data
    assert _open(case) == ["Task_After"]
    assert all(case.data[f"signed_{turn}"] for turn in range(3))


@pytest.mark.django_db
def test_sequential_cardinality_counts_instances_as_camunda_does(clerks):
    # Completion condition nrOfInstances - nrOfCompletedInstances == 1: the
    # cardinality (not the instances created so far) minus those done.
    case = _start(clerks, "mi_sequential_cardinality.bpmn", "mi_seq_card", {"count": 4})
    for _ in range(3):
        assert _open(case) == ["Task_Each"]
        _complete(case, "Task_Each", clerks["bob"])
    assert _open(case) == ["Task_After"]
    assert HumanTask.objects.filter(case=case, bpmn_id="Task_Each").count() == 3


@pytest.mark.django_db
def test_sequential_completion_condition_stops_at_the_first_rejection(clerks):
    case = _start(
        clerks,
        "mi_sequential_condition.bpmn",
        "mi_seq_cond",
        {"signers": ["alice", "bob", "alice"], "rejected": False},
    )
    _complete(case, "Task_Each", clerks["alice"], {"rejected": False})
    _complete(case, "Task_Each", clerks["bob"], {"rejected": True})
    assert _open(case) == ["Task_After"]
    assert HumanTask.objects.filter(case=case, bpmn_id="Task_Each").count() == 2


@pytest.mark.django_db
def test_parallel_completion_condition_cancels_the_remaining_instances(clerks):
    case = _start(
        clerks,
        "mi_parallel_condition.bpmn",
        "mi_par_cond",
        {"count": 3, "rejected": False},
    )
    assert _open(case) == ["Task_Each"] * 3
    _complete(case, "Task_Each", clerks["alice"])
    assert _open(case) == ["Task_Each"] * 2
    _complete(case, "Task_Each", clerks["bob"])
    assert _open(case) == ["Task_After"]
    statuses = HumanTask.objects.filter(case=case, bpmn_id="Task_Each").values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["cancelled", "completed", "completed"]


@pytest.mark.django_db
def test_loop_counter_and_element_variable_are_local_to_each_instance(clerks):
    case = _start(
        clerks,
        "mi_sequential_script.bpmn",
        "mi_seq_script",
        {"items": [10, 20, 30], "total": 0, "seen": {}},
    )
    case.refresh_from_db()
    assert case.data["total"] == 10 * 1 + 20 * 2 + 30 * 3
    # Camunda 7, sequential: nrOfInstances, nrOfCompletedInstances, nrOfActiveInstances.
    assert case.data["seen"] == {"0": [3, 0, 1], "1": [3, 1, 1], "2": [3, 2, 1]}
    assert not {"item", "loopCounter", "nrOfInstances"} & set(case.data)
    assert _open(case) == ["Task_After"]


@pytest.mark.django_db
def test_the_element_variable_shadows_a_case_variable_of_the_same_name(clerks):
    case = _start(
        clerks,
        "mi_sequential_collection.bpmn",
        "mi_seq_coll",
        {"signers": ["alice", "bob"], "signer": "nobody"},
    )
    for signer in ("alice", "bob"):
        [task] = HumanTask.objects.filter(case=case, status="open")
        assert task.assignee.username == signer
        case.refresh_from_db()
        assert case.data["signer"] == "nobody"
        task_complete(user=clerks[signer], task_id=task.pk, data={})
    assert _open(case) == ["Task_After"]
    case.refresh_from_db()
    assert case.data["signer"] == "nobody" and not case.has_incident
