"""The answer of a task action (complete, claim, detail...) is written without
DRF's field objects (issue #16): the same JSON, key for key and in the same
order, as TaskDetailOutput's declared fields (the OpenAPI schema's) give."""

import json

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from tasks_app.apis import TaskDetailOutput
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_delegate
from tests.api.test_inbox_of_case import _open_task
from tests.clients import api_for

pytestmark = pytest.mark.django_db


class _Declared(TaskDetailOutput):
    """TaskDetailOutput as DRF writes it from the declared fields."""

    to_representation = serializers.Serializer.to_representation


def _both(task, user) -> tuple[str, str]:
    request = RequestFactory().get("/")
    request.user = user
    task = HumanTask.objects.get(pk=task.pk)  # as an answer reads it: case lazily
    ours = TaskDetailOutput(task, context={"request": request}).data
    declared = _Declared(task, context={"request": request}).data
    render = JSONRenderer().render
    return render(ours).decode(), render(declared).decode()


def test_a_task_action_answers_the_declared_fields_json(users, purchase):
    manager = users["manager1"]
    offered, planned, delegated = (_open_task(users["requester"], n) for n in (1, 2, 3))
    claimed = api_for(manager).post(f"/api/v1/tasks/{planned.pk}/claim/")
    assert claimed.json() == json.loads(_both(planned, manager)[1])
    plan = {"due_at": "2031-03-30T23:45:01.123456Z", "priority": 90}
    planned_answer = api_for(manager).patch(
        f"/api/v1/tasks/{planned.pk}/", plan, format="json"
    )
    assert planned_answer.json() == json.loads(_both(planned, manager)[1])
    task_claim(user=users["manager2"], task_id=delegated.pk)
    task_delegate(user=users["manager2"], task_id=delegated.pk, delegate="finance")

    answer = api_for(manager).post(
        f"/api/v1/tasks/{offered.pk}/complete/",
        {"data": {"approved": True}},
        format="json",
    )
    assert answer.status_code == 200
    completed = HumanTask.objects.get(pk=offered.pk)
    assert answer.json() == json.loads(_both(completed, manager)[1])
    assert answer.json()["completed_by"] == "manager1"

    for task, user in (
        (completed, manager),
        (planned, manager),
        (delegated, users["finance"]),
        (delegated, users["manager2"]),
    ):
        for zone in ("UTC", "Europe/Berlin", "America/St_Johns"):
            with timezone.override(zone):
                ours, declared = _both(task, user)
            assert ours == declared, (task.pk, zone)
    planned_json = json.loads(_both(planned, manager)[0])
    assert (planned_json["due_at"], planned_json["priority"]) == (
        "2031-03-30T23:45:01.123456Z",
        90,
    )
    delegated_json = json.loads(_both(delegated, users["finance"])[0])
    assert (delegated_json["owner"], delegated_json["assignee"]) == (
        "manager2",
        "finance",
    )
    assert delegated_json["actions"]
