"""Camunda dueDate / followUpDate / priority reach the inbox task."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from engine.services import case_start
from engine.spiff import resolve_due, resolve_priority
from tasks_app.models import HumanTask
from tests.conftest import EXAMPLES, deploy

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("P3D", NOW + timedelta(days=3)),
        ("PT4H30M", NOW + timedelta(hours=4, minutes=30)),
        ("2026-12-01T17:00:00Z", datetime(2026, 12, 1, 17, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("${deadline}", datetime(2027, 1, 2, tzinfo=UTC)),
        ("${missing}", None),
        ("soon", None),
        ("", None),
    ],
)
def test_due_values(value, expected):
    assert resolve_due(value, data={"deadline": "2027-01-02"}, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "data", "expected"),
    [
        ("80", {}, 80),
        ("${prio}", {"prio": 20}, 20),
        ("high", {}, None),
        # Camunda 7 keeps any Java int: nothing is clamped (it was to 0-1000).
        ("5000", {}, 5000),
        ("-3", {}, -3),
        ("${prio}", {"prio": 2**31 - 1}, 2**31 - 1),
        ("${prio}", {"prio": 2**31}, None),  # not a Java int: unreadable
        ("${prio}", {"prio": -(2**31) - 1}, None),
        # A number gives its integer part (Number.intValue()), a text must be a
        # whole number (Integer.valueOf): TaskDecorator.initializeTaskPriority.
        ("${prio}", {"prio": 2.9}, 2),
        ("${prio}", {"prio": "7"}, 7),
        ("${prio}", {"prio": "2.9"}, None),
        ("${prio}", {"prio": float("inf")}, None),
        ("${prio}", {"prio": True}, None),
    ],
)
def test_priority_values(value, data, expected):
    assert resolve_priority(value, data=data) == expected


@pytest.mark.django_db
def test_due_date_and_priority_from_the_diagram(users, tmp_path):
    xml = (
        (EXAMPLES / "purchase_request.bpmn")
        .read_text()
        .replace(
            '<bpmn:userTask id="manager_review" name="Manager approval">',
            '<bpmn:userTask id="manager_review" name="Manager approval"'
            ' camunda:dueDate="P2D" camunda:priority="${urgency}">',
        )
    )
    path = tmp_path / "purchase_due.bpmn"
    path.write_text(xml)
    deploy(path, users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 5, "justification": "x"},
    )
    task = HumanTask.objects.get(case=case)
    assert (
        timedelta(days=1, hours=23)
        < task.due_at - case.started_at
        < timedelta(days=2, hours=1)
    )
    assert task.priority == 50  # ${urgency} is not set: the default


DATED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="dated" name="Dated" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="Manager"
        camunda:dueDate="${deadline}" camunda:priority="${urgency}"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.django_db
def test_an_unreadable_date_or_priority_variable_is_recorded_on_the_case(
    users, tmp_path
):
    """The upload checks literal values; a variable's value is read at run time."""
    path = tmp_path / "dated.bpmn"
    path.write_text(DATED)
    deploy(path, users["analyst"])

    def start(**data):
        case = case_start(user=users["requester"], key="dated", data=data)[0]
        events = AuditEvent.objects.filter(
            case_id=case.pk, action="task.value_unreadable"
        )
        return HumanTask.objects.get(case=case), [e.payload["problem"] for e in events]

    task, problems = start()
    assert (task.due_at, task.priority, problems) == (None, 50, [])
    task, problems = start(deadline="P1D", urgency=70)
    assert task.due_at is not None and task.priority == 70 and problems == []
    task, problems = start(deadline="next week", urgency="high")
    assert (task.due_at, task.priority) == (None, 50)
    assert problems == [
        "the due date ${deadline} holds 'next week', which is not an ISO-8601 date "
        "or duration; the task has no due date",
        "the priority ${urgency} holds 'high', which is not a 32-bit integer (a "
        "task priority); the task has no priority",
    ]
    task, problems = start(urgency=5000)
    assert (task.priority, problems) == (5000, [])  # the inbox sorts it first
    task, problems = start(urgency=2**31)
    assert task.priority == 50 and len(problems) == 1
