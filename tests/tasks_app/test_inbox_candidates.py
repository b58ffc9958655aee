"""The inbox read from the candidate table equals the guardian-based inbox (issue #16).

Random sequences of what users and admins do through the services (start cases
whose tasks are offered to groups, named users or an assignee, claim, release,
assign, delegate, complete, plan, suspend and resume, cancel, grant or revoke a
WORK row by guardian's shortcuts, join or leave a group); after every step, for
every user, each tab of the inbox (its rows in order, some pages of it), the
tabs' counts and the page's summary equal what the guardian-based query that
the candidate table replaced gives (`_reference`, kept here), and the table
equals what the data migration's backfill writes from scratch.
"""

import importlib
import random
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import CharField, Q, UUIDField
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from cockpit.errors import CockpitError
from cockpit.services.repairs import case_resume, case_suspend
from common.errors import DomainError
from engine.models import Case
from engine.services import case_cancel, case_start
from tasks_app import selectors
from tasks_app.candidates import candidates_backfill
from tasks_app.models import HumanTask, InboxCandidate
from tasks_app.permissions import WORK, permission_for
from tasks_app.selectors import (
    InboxQuery,
    InboxRows,
    InboxTab,
    inbox_counts_for_user,
    inbox_list_for_user,
    inbox_summary_for_user,
)
from tasks_app.services import (
    task_assign,
    task_claim,
    task_complete,
    task_delegate,
    task_plan,
    task_unclaim,
)
from tests.conftest import deploy

pytestmark = pytest.mark.django_db

MIX = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Definitions_mix" targetNamespace="http://laneway.example/bpmn">
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="fork">
      <bpmn:incoming>f0</bpmn:incoming>
      <bpmn:outgoing>f1</bpmn:outgoing><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:userTask id="groups" name="Two groups"
                   camunda:candidateGroups="Manager,Finance">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="separateFrom" value="initiator" />
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>g1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="named" name="Named people"
                   camunda:candidateUsers="manager1,outsider"
                   camunda:candidateGroups="Finance">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="assigned" name="Assigned" camunda:assignee="manager2">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="after" name="Someone else" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="separateFrom" value="groups" />
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>g4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>g1</bpmn:incoming><bpmn:incoming>g2</bpmn:incoming>
      <bpmn:incoming>g3</bpmn:incoming><bpmn:incoming>g4</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork" />
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="groups" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="named" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="assigned" />
    <bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="after" />
    <bpmn:sequenceFlow id="g1" sourceRef="groups" targetRef="join" />
    <bpmn:sequenceFlow id="g2" sourceRef="named" targetRef="join" />
    <bpmn:sequenceFlow id="g3" sourceRef="assigned" targetRef="join" />
    <bpmn:sequenceFlow id="g4" sourceRef="after" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
PROCESSES = (("mix_a", "Alpha mix"), ("mix_b", "Beta mix"))
STARTERS = ("requester", "requester2", "manager1", "finance")


@pytest.fixture
def mixes(users, tmp_path):
    for key, name in PROCESSES:
        path = tmp_path / f"{key}.bpmn"
        path.write_text(MIX.replace("{key}", key).replace("{name}", name))
        deploy(path, users["analyst"])


def _reference_tasks(user):
    """The guardian-based inbox the candidate table replaced (main before it):
    the tasks of the user's and their groups' WORK rows and their assigned
    tasks, open, theirs or unclaimed, not barred, of cases not suspended."""
    work = permission_for(WORK).pk

    def granted(model, **owner):
        return (
            model.objects.filter(**owner, permission_id=work)
            .order_by()
            .values_list(Cast("object_pk", UUIDField()), flat=True)
        )

    ids = granted(GroupObjectPermission, group__user=user).union(
        granted(UserObjectPermission, user=user),
        HumanTask.objects.filter(assignee=user, status="open")
        .order_by()
        .values_list("pk", flat=True),
        all=True,
    )
    return (
        HumanTask.objects.filter(pk__in=ids, status="open")
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .exclude(barred=user)
        .exclude(case__status=Case.Status.SUSPENDED)
        .select_related("case__version__definition")
    )


def _reference(user) -> list[HumanTask]:
    tasks = _reference_tasks(user)
    far = timezone.now() + timedelta(days=36500)
    return sorted(
        tasks,
        key=lambda t: (-t.priority, t.due_at or far, t.created_at, str(t.pk)),
    )


def _in_tab(tab: InboxTab, task: HumanTask, user, now) -> bool:
    ends = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    due = task.due_at
    return {
        InboxTab.ALL: True,
        InboxTab.MINE: task.assignee_id == user.pk,
        InboxTab.UNASSIGNED: task.assignee_id is None,
        InboxTab.OVERDUE: due is not None and due < now,
        InboxTab.DUE_TODAY: due is not None and now <= due <= ends,
    }[tab]


def _check_inbox(user, *, queries: bool = True) -> None:
    """The user's tabs, counts and summary equal the guardian-based inbox's;
    `queries`: the searches, filters and orders of QUERIES too."""
    now = timezone.now()
    expected = _reference(user)
    for tab in InboxTab:
        wanted = [t.pk for t in expected if _in_tab(tab, t, user, now)]
        rows = inbox_list_for_user(user=user, query=InboxQuery(tab=tab))
        assert isinstance(rows, InboxRows)
        assert [t.pk for t in rows] == wanted, (user.username, tab)
        assert [t.pk for t in rows[1:3]] == wanted[1:3], (user.username, tab)
        assert rows.count() == len(wanted)
    counts = inbox_counts_for_user(user=user, query=InboxQuery())
    assert counts == {
        str(tab): sum(_in_tab(tab, t, user, now) for t in expected) for tab in InboxTab
    }, user.username
    summary = inbox_summary_for_user(user=user, query=InboxQuery())
    assert summary.counts == counts
    processes = {
        (t.case.version.definition.key, t.case.version.definition.name)
        for t in expected
    }
    assert summary.processes == sorted(processes, key=lambda p: (p[1], p[0]))
    for query in QUERIES if queries else ():
        _check_query(user, query, now)


# Searches, filters and orders, read of the candidate table too.
QUERIES = (
    InboxQuery(sort="due", search="mix"),
    InboxQuery(search="alpha"),
    InboxQuery(search="Named   people"),
    InboxQuery(process="mix_b", sort="-created"),
    InboxQuery(group="Finance", sort="priority"),
    InboxQuery(tab=InboxTab.UNASSIGNED, search="o", sort="process"),
    InboxQuery(tab=InboxTab.MINE, sort="-due"),
)


def _check_query(user, query: InboxQuery, now) -> None:
    """The list (in order), the tabs' counts and the summary of a query equal
    the guardian-based inbox's with the query's filters (`_query_filter`)."""
    kept = _reference_tasks(user).filter(selectors._query_filter(query))
    ordered = kept.order_by(*selectors._order(query))
    wanted = [t.pk for t in ordered if _in_tab(query.tab, t, user, now)]
    rows = inbox_list_for_user(user=user, query=query)
    assert [t.pk for t in rows] == wanted, (user.username, query)
    assert [t.pk for t in rows[1:4]] == wanted[1:4], (user.username, query)
    counts = {
        str(tab): sum(_in_tab(tab, t, user, now) for t in kept) for tab in InboxTab
    }
    assert inbox_counts_for_user(user=user, query=query) == counts, query
    summary = inbox_summary_for_user(user=user, query=query)
    assert summary.counts == counts, query


def _table() -> set[tuple]:
    return set(
        InboxCandidate.objects.values_list(
            "task_id",
            "kind",
            "principal",
            "assignee_id",
            "process_id",
            "suspended",
            "priority",
            "due_at",
            "created_at",
            "search",
        )
    )


MIGRATION = ("tasks_app", "0009_inbox_candidates")


def _migration_backfill() -> None:
    """Run the data migration's own (frozen) backfill on its historical models."""
    module = importlib.import_module("tasks_app.migrations." + MIGRATION[1])
    loader = MigrationLoader(connection)
    historical = loader.project_state(MIGRATION).apps
    with connection.schema_editor() as editor:
        module.backfill(historical, editor)


def _check_backfill() -> None:
    """The table the writes kept equals the one the migration writes afresh, and
    the one candidates_backfill (the bench's rebuild) writes."""
    kept = _table()
    InboxCandidate.objects.all().delete()
    _migration_backfill()
    assert _table() == kept
    InboxCandidate.objects.all().delete()
    candidates_backfill(apps)
    assert _table() == kept


def _step(rng: random.Random, users: dict) -> str:
    """Do one random thing through the services; return what (refusals are fine)."""
    people = list(users.values())
    tasks = list(HumanTask.objects.filter(status="open").select_related("assignee"))
    cases = list(Case.objects.filter(status__in=["running", "suspended"]))
    task = rng.choice(tasks) if tasks else None
    user = rng.choice(people)
    if task is not None and rng.random() < 0.8:  # mostly someone who may act
        seeing = [p for p in people if task in _reference(p)]
        user = rng.choice(seeing) if seeing else user
    weights = {"start": 2, "membership": 1}
    if task is not None:
        weights.update(claim=3, release=2, assign=2, delegate=2, complete=2)
        weights.update(plan=1, grant=1, revoke=1)
    if cases:
        weights.update(suspend=1, resume=1, cancel=1)
    (action,) = rng.choices(list(weights), weights=list(weights.values()))
    people_named = ["manager1", "manager2", "finance", "outsider"]
    admin = users["padmin"]
    acts = {
        "start": lambda: case_start(
            user=users[rng.choice(STARTERS)], key=rng.choice(PROCESSES)[0], data={}
        ),
        "claim": lambda: task_claim(user=user, task_id=task.pk),
        "release": lambda: task_unclaim(user=task.assignee or user, task_id=task.pk),
        "assign": lambda: task_assign(
            user=admin, task_id=task.pk, assignee=rng.choice(people_named)
        ),
        "delegate": lambda: task_delegate(
            user=user, task_id=task.pk, delegate=rng.choice(people_named)
        ),
        "complete": lambda: task_complete(user=user, task_id=task.pk, data={}),
        "plan": lambda: _plan(rng, admin, task),
        "grant": lambda: assign_perm(WORK, rng.choice(people), task),
        "revoke": lambda: remove_perm(WORK, rng.choice(people), task),
        "suspend": lambda: case_suspend(
            user=admin, case_id=rng.choice(cases).pk, reason="test"
        ),
        "resume": lambda: case_resume(
            user=admin, case_id=rng.choice(cases).pk, reason="test"
        ),
        "cancel": lambda: case_cancel(
            user=admin, case_id=rng.choice(cases).pk, reason="test"
        ),
        "membership": lambda: _membership(rng, user),
    }
    try:
        acts[action]()
    except (DomainError, CockpitError):
        return f"{action} refused"
    return action


def _plan(rng: random.Random, admin, task: HumanTask) -> None:
    due = rng.choice([None, timedelta(days=-3), timedelta(hours=1), timedelta(days=4)])
    task_plan(
        user=admin,
        task_id=task.pk,
        due_at=None if due is None else timezone.now() + due,
        priority=rng.choice([10, 50, 50, 90]),
    )


def _membership(rng: random.Random, user) -> None:
    """The user joins or leaves a group (the inbox reads memberships live)."""
    group = Group.objects.get(name=rng.choice(["Manager", "Finance"]))
    if group.user_set.filter(pk=user.pk).exists():
        user.groups.remove(group)
    else:
        user.groups.add(group)


@pytest.mark.parametrize("seed", range(2))
def test_the_candidate_inbox_equals_the_guardian_inbox_after_every_step(
    users, mixes, seed
):
    rng = random.Random(seed)
    done = []
    for _ in range(16):
        done.append(_step(rng, users))
        # Every user's tabs after every step (what the writes keep); the
        # searches, filters and orders (how the reads are built) for one user
        # drawn each step, and for everyone at the end: a third of the time.
        searched = rng.choice(list(users))
        for name, user in users.items():
            _check_inbox(user, queries=name == searched)
    _check_backfill()
    for user in users.values():
        _check_inbox(user)
    assert any(not d.endswith("refused") and d != "start" for d in done), done


def test_a_task_offered_twice_to_a_user_is_one_row_of_their_inbox(users, mixes):
    """The named task is offered to manager1 by name and, once they join Finance,
    through the group: the merge keeps one row, the counts count it once."""
    case, _ = case_start(user=users["requester"], key="mix_a", data={})
    manager1 = users["manager1"]
    manager1.groups.add(Group.objects.get(name="Finance"))
    named = HumanTask.objects.get(case=case, bpmn_id="named")
    assert InboxCandidate.objects.filter(task=named).count() == 3  # Finance, 2 users
    rows = [t.pk for t in inbox_list_for_user(user=manager1)]
    assert rows.count(named.pk) == 1
    assert inbox_counts_for_user(user=manager1, query=InboxQuery())["all"] == len(rows)
    _check_inbox(manager1)


def test_a_closed_task_leaves_no_candidate_rows(users, mixes):
    case, _ = case_start(user=users["requester"], key="mix_a", data={})
    task = HumanTask.objects.get(case=case, bpmn_id="groups")
    task_complete(user=users["manager1"], task_id=task.pk, data={})
    assert not InboxCandidate.objects.filter(task=task).exists()
    case_cancel(user=users["requester"], case_id=case.pk, reason="done")
    assert not InboxCandidate.objects.exists()


def test_the_object_pk_of_a_candidate_is_the_tasks(users, mixes):
    """Guardian's text ids and the candidate's task ids name the same tasks."""
    case_start(user=users["requester"], key="mix_b", data={})
    work = permission_for(WORK).pk
    granted = set(
        GroupObjectPermission.objects.filter(permission_id=work).values_list(
            "object_pk", flat=True
        )
    )
    rows = InboxCandidate.objects.filter(kind=InboxCandidate.Kind.GROUP)
    assert {str(pk) for pk in rows.values_list("task_id", flat=True)} == granted
    assert (
        set(
            rows.annotate(text=Cast("task_id", CharField())).values_list(
                "text", flat=True
            )
        )
        == granted
    )
