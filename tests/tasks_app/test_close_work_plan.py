"""Closing a task deletes its WORK rows through an index on the object (issue #16).

guardian's own indexes lead with the group or user, so the delete by permission,
content type and object read every open task's WORK rows (~8 ms per completion
with 100,000 open tasks). tasks_app 0011 adds an (object_pk, content_type_id)
index to both of guardian's object permission tables.
"""

import pytest
from django.db import connection, transaction

from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.permissions import close_work_statements

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


def test_closing_a_task_deletes_its_work_rows_by_the_object_index(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 10, "justification": "Chairs"},
    )
    task = HumanTask.objects.get(case=case, status="open")
    guardian_deletes = [
        (sql, params)
        for sql, params in close_work_statements(task)
        if "guardian_" in sql
    ]
    assert len(guardian_deletes) == 2
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        # As with many open tasks: 20,000 WORK rows of other tasks per table,
        # the statistics taken (both roll back with the test), so the plan is
        # the one a filled database gets, whatever ran before.
        work, ctype = guardian_deletes[0][1][:2]
        for table, owner, owner_id in (
            ("guardian_groupobjectpermission", "group_id", _group_id(cursor)),
            ("guardian_userobjectpermission", "user_id", users["manager1"].pk),
        ):
            cursor.execute(
                f"INSERT INTO {table} (permission_id, content_type_id, object_pk, "
                f"{owner}) SELECT %s, %s, gen_random_uuid()::text, %s "
                "FROM generate_series(1, 20000)",
                [work, ctype, owner_id],
            )
            cursor.execute(f"ANALYZE {table}")
        for sql, params in guardian_deletes:
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    group_plan, user_plan = sorted(plans, key=lambda p: "userobject" in p)
    assert "laneway_guardian_gop_object" in group_plan, group_plan
    assert "laneway_guardian_uop_object" in user_plan, user_plan


def _group_id(cursor) -> int:
    cursor.execute("SELECT id FROM auth_group WHERE name = 'Manager'")
    return cursor.fetchone()[0]
