"""A human step writes only the index entries a query reads (issue #16).

A completion updates its case, its state and its task, offers the next task with
its group grants and writes the audit events: every index of those tables takes
an entry per row version. engine 0018 keeps room on the case pages (the case's
update stays on its page and writes none of its 11 indexes) and compresses the
state with lz4; tasks_app 0012 indexes a task's people only where set. Each
lookup they served still reads an index.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from guardian.models import GroupObjectPermission

from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


def _plan(qs) -> str:
    statement, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny test tables would be read whole anyway: forbid that, to see
        # which index serves the lookup.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _indexes(table: str) -> dict[tuple[str, ...], str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        tuple(c["columns"]): name
        for name, c in found.items()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    }


@pytest.fixture
def completed(users, review):
    """A purchase request approved by the manager (its task has all its people)."""
    task_complete(user=users["manager1"], task_id=review.pk, data={"approved": True})
    return HumanTask.objects.get(pk=review.pk)


def test_case_rows_keep_room_for_their_update_and_the_state_is_lz4(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class"
            " WHERE relname IN ('engine_case', 'engine_casestate')"
        )
        options = dict(cursor.fetchall())
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
            " WHERE name = 'default_toast_compression'"
        )
        (lz4,) = cursor.fetchone()
        cursor.execute(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = 'engine_casestate'::regclass AND attname = 'state_json'"
        )
        (compression,) = cursor.fetchone()
    assert options == {
        "engine_case": ["fillfactor=80"],
        "engine_casestate": ["fillfactor=80"],
    }
    assert compression == ("l" if lz4 else "")


def test_the_state_a_step_writes_is_lz4_and_reads_back(completed):
    """The state written with lz4 reads back as written: the next step runs on it."""
    case = completed.case
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(state_json),"
            " (SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
            "  WHERE name = 'default_toast_compression')"
            " FROM engine_casestate WHERE case_id = %s",
            [case.pk],
        )
        compression, lz4 = cursor.fetchone()
    assert compression == ("lz4" if lz4 else "pglz")
    assert case.state.state["tasks"]  # the JSON text decoded whole
    assert case.status == "running"
    HumanTask.objects.get(case=case, status="open")  # the next step was offered


def test_a_tasks_people_are_found_by_their_partial_indexes(completed, users):
    manager = users["manager1"]
    assert completed.assignee_id == completed.completed_by_id == manager.pk
    for person, index in (
        ("assignee", "humantask_assignee_set"),
        ("owner", "humantask_owner_set"),
        ("completed_by", "humantask_completed_by_set"),
    ):
        plan = _plan(HumanTask.objects.filter(**{person: manager}))
        assert index in plan, plan
    # Deleting a user checks every PROTECT reference by an index (the same
    # lookups, `IN`): here refused, the user completed a task.
    plan = _plan(HumanTask.objects.filter(completed_by__in=[manager.pk]))
    assert "humantask_completed_by_set" in plan, plan
    assert HumanTask.objects.filter(completed_by=manager).count() == 1
    people = {("assignee_id",), ("owner_id",), ("completed_by_id",)}
    assert people <= set(_indexes(HumanTask._meta.db_table))


def test_deleting_a_group_removes_its_grants(completed):
    group = Group.objects.create(name="Temporary")
    task = HumanTask.objects.filter(status="open").first()
    work = Permission.objects.get(codename="work_on_humantask")
    GroupObjectPermission.objects.assign_perm(work, group, task)
    group.delete()
    assert not GroupObjectPermission.objects.filter(group_id=group.pk).exists()
    assert get_user_model().objects.filter(groups__name="Temporary").count() == 0


def test_a_steps_statements_run_on_plans_made_once(users, purchase):
    """PostgreSQL plans each of a step's statements once per session (issue #16).

    They run prepared (common.sql.prepared_cursor); the server plans the first
    five executions for their values, then keeps a generic plan if it costs no
    more. A statement whose generic plan looked worse (a constant sent as a
    parameter, as `status = $3` once was) would be planned at every step again:
    0.3-1 ms each.
    """
    for n in range(9):
        case, _ = case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": n + 1, "justification": "Chairs"},
        )
        task = HumanTask.objects.get(case=case, status="open")
        task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
        plans = cursor.fetchall()
    for start in (
        'SELECT "engine_case"',  # the case lock
        'SELECT "tasks_app_humantask"',  # the task lock
        'WITH w0 AS (UPDATE "engine_casestate"',  # the step's writes
    ):
        runs = [(g + c, g, c) for text, g, c in plans if text.startswith(start)]
        assert runs, (start, plans)
        _, generic, custom = max(runs)  # the statement every step runs
        assert generic >= 1 and custom == 5, (start, generic, custom)
