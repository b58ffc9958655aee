"""The rows of `GET /api/v1/tasks/?case=` are written without DRF's field objects
(issue #16): the same JSON, key for key and in the same order, as the declared
fields of TaskOfCaseOutput (the OpenAPI schema's) give."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from tasks_app import selectors
from tasks_app.apis import TaskOfCaseOutput
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_plan
from tests.api.test_inbox_of_case import _open_task
from tests.clients import api_for

pytestmark = pytest.mark.django_db


class _Declared(TaskOfCaseOutput):
    """TaskOfCaseOutput as DRF writes it from the declared fields."""

    to_representation = serializers.Serializer.to_representation


def _json(data) -> str:
    return JSONRenderer().render(data).decode()


def test_the_rows_of_a_case_are_the_declared_fields_json(users, purchase):
    offered = _open_task(users["requester"], 10)
    planned = _open_task(users["requester"], 20)
    task_claim(user=users["manager1"], task_id=planned.pk)
    due = datetime(2031, 3, 30, 23, 45, 1, 123456, tzinfo=UTC)
    task_plan(user=users["manager1"], task_id=planned.pk, due_at=due, priority=90)

    manager = users["manager1"]
    seen = []
    for task in (offered, planned):
        rows = selectors.inbox_list_of_case(user=manager, case_id=task.case_id)
        for zone in ("UTC", "Europe/Berlin", "America/St_Johns"):
            with timezone.override(zone):
                ours = TaskOfCaseOutput(rows, many=True).data
                declared = _Declared(rows, many=True).data
            assert _json(ours) == _json(declared), zone
        body = api_for(manager).get(f"/api/v1/tasks/?case={task.case_id}").json()
        assert body["results"] == json.loads(_json(_Declared(rows, many=True).data))
        seen += body["results"]
    assert [(r["assignee"], r["priority"]) for r in seen] == [
        (None, offered.priority),
        ("manager1", 90),
    ]
    assert seen[1]["due_at"] == "2031-03-30T23:45:01.123456Z"


def test_unusual_values_are_written_as_the_declared_fields_write_them(users):
    created = timezone.now() - timedelta(days=400)
    row = HumanTask(
        case_id="6f1c2a4e-8a59-4c2b-9a6e-0d3f5b7c9e11",
        bpmn_id="review",
        name="Ünïcode ✓",
        lane="",
        status="open",
        candidate_groups=["a", "b"],
        candidate_users=[],
        due_at=None,
        priority=0,
        created_at=created,
        business_data={"amount": 12.5, "count": 3, "none": None, "flag": True},
    )
    row.process_key = "p"  # type: ignore[attr-defined]
    row.assignee_username = None  # type: ignore[attr-defined]
    for zone in ("UTC", "Asia/Kathmandu"):
        with timezone.override(zone):
            assert list(TaskOfCaseOutput(row).data.items()) == list(
                _Declared(row).data.items()
            ), zone
