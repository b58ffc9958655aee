"""`GET /api/v1/tasks/?case=` probes the grants of the case's tasks, whatever the
planner's statistics say (issue #16).

A server with autovacuum off (or lagging a bulk load) plans with row counts from
before the open tasks came: the planner then reads ALL the grants of the user's
groups into a hash (a "hashed SubPlan") instead of asking guardian's index about
each task of the case, and the lookup's cost grows with every open task. The
statistics here are made stale the way such a server's are: ANALYZE on a nearly
empty database, then the grants of many open tasks added without one.
"""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm

from tasks_app.models import HumanTask
from tasks_app.permissions import WORK, permission_for
from tests.api.test_inbox_of_case import _open_task
from tests.clients import api_for

pytestmark = pytest.mark.django_db

OTHER_TASKS = 20_000  # open tasks of other cases, offered to the same group
GRANT_TABLES = ("guardian_groupobjectpermission", "guardian_userobjectpermission")
BARRED = "tasks_app_humantask_barred"


def _stale_statistics(user) -> None:
    """ANALYZE now, then add the WORK grants of OTHER_TASKS open tasks offered
    to the Manager group and to `user` alone, as a server with autovacuum off
    never re-analyzes."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    work = permission_for(WORK)
    of_task = {"permission": work, "content_type_id": work.content_type_id}
    group = Group.objects.get(name="Manager")
    GroupObjectPermission.objects.bulk_create(
        GroupObjectPermission(group=group, **of_task, object_pk=str(uuid.uuid4()))
        for _ in range(OTHER_TASKS)
    )
    UserObjectPermission.objects.bulk_create(
        UserObjectPermission(user=user, **of_task, object_pk=str(uuid.uuid4()))
        for _ in range(OTHER_TASKS)
    )


def _lookup_statement(user, task: HumanTask) -> str:
    """Return the statement the API ran to find the case's tasks."""
    api = api_for(user)
    api.get(f"/api/v1/tasks/?case={task.case_id}")  # the token, the statement: warm
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/v1/tasks/?case={task.case_id}")
    assert [row["id"] for row in response.json()["results"]] == [str(task.pk)]
    (statement,) = [q["sql"] for q in captured if "tasks_app_humantask" in q["sql"]]
    return statement


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _explained(statement: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}")
        (row,) = cursor.fetchall()
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return document[0]["Plan"]


def _text(plan: dict[str, Any], depth: int = 0) -> str:
    """Return the plan as indented lines (node, relation, subplan, condition)."""
    line = " ".join(
        str(plan[key])
        for key in (
            "Node Type",
            "Relation Name",
            "Index Name",
            "Subplan Name",
            "Index Cond",
        )
        if key in plan
    )
    rows = f"rows={plan.get('Actual Rows')} loops={plan.get('Actual Loops')}"
    lines = [f"{'  ' * depth}{line} {rows}"]
    lines += [_text(child, depth + 1) for child in plan.get("Plans", ())]
    return "\n".join(lines)


def _assert_probes(plan: dict[str, Any]) -> None:
    listing = _text(plan)
    for node in _nodes(plan):
        relation = node.get("Relation Name")
        if relation == "tasks_app_humantask":  # the case's tasks alone
            # An index scan, or a bitmap heap scan of a case_id index's bitmap.
            cond = node.get("Index Cond", "") + node.get("Recheck Cond", "")
            assert "case_id = " in cond, listing
        assert "hashed" not in node.get("Subplan Name", ""), listing
        if relation in GRANT_TABLES:  # asked by the task's key
            assert "object_pk" in node.get("Index Cond", ""), listing
        if relation in (*GRANT_TABLES, BARRED):
            # One probe per task of the case: a row at most, not the group's
            # OTHER_TASKS grants.
            assert node["Actual Rows"] * node["Actual Loops"] <= 1, listing


@pytest.fixture
def stale(users, purchase) -> HumanTask:
    """A task offered to manager1's group, looked up with stale statistics."""
    manager = users["manager1"]
    for _ in range(3):  # what the server held when it was last analyzed
        held = _open_task(users["requester"], 10)
        held.barred.add(manager)
        assign_perm(WORK, manager, held)
    _stale_statistics(manager)
    return _open_task(users["requester"], 20)


def test_the_lookup_probes_the_grants_of_the_case_tasks_with_stale_statistics(
    users, stale
):
    _assert_probes(_explained(_lookup_statement(users["manager1"], stale)))
