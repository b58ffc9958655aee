"""Task e-mails through a real worker to a real SMTP server (aiosmtpd), read back.

Offered (to the candidates' group), assigned, delegated and overdue (the beat
sweep) each mail the right people with a link to the task; a person who switched
notifications off gets none; nothing is sent before the transaction commits and
the worker picks the notice up, so the advance never waits for SMTP.
"""

import base64
import copy
import json
import time
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.utils.saferepr import saferepr
from django.db import transaction
from django.utils import timezone

import tasks_app.tasks  # noqa: F401  (registers the notify and overdue tasks)
from config.celery import app
from engine.services import case_start
from tasks_app import notifications
from tasks_app.models import HumanTask
from tasks_app.notifications import NOTIFY_TASK, overdue_tasks_mark
from tasks_app.services import task_assign, task_delegate
from tests.clients import api_for
from tests.engine.test_connectors import inbox  # noqa: F401 (the SMTP fixture)
from tests.engine.test_service_worker import _wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.TASKS_BASE_URL = "https://laneway.example.org"


def _worker():
    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10)


def _mails(inbox):  # noqa: F811
    return sorted(
        (
            rcpt[0],
            str(make_header(decode_header(message["Subject"]))).strip(),
            message.get_payload(decode=True).decode(),
        )
        for rcpt, message in inbox
    )


def _start(users):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 900, "justification": "Laptop"},
        business_key="PO-42",
    )
    return HumanTask.objects.get(case=case, status="open")


def test_a_new_task_mails_its_group_after_commit_but_not_who_opted_out(
    users,
    purchase,
    inbox,  # noqa: F811
):
    switched = api_for(users["manager2"]).patch(
        "/api/v1/profile/", {"email_notifications": False}, format="json"
    )
    assert switched.status_code == 200
    assert switched.json()["email_notifications"] is False
    task = _start(users)
    assert inbox == []  # committed, but only the worker sends
    with _worker():
        assert _wait_for(lambda: len(inbox) >= 1)
    mails = _mails(inbox)
    assert [(to, subject) for to, subject, _ in mails] == [
        (
            "manager1@example.com",
            "New task: Manager approval (Purchase request · PO-42)",
        )
    ]
    body = mails[0][2]
    assert f"https://laneway.example.org/tasks/{task.pk}/" in body
    assert "Hello manager1" in body


def test_assigned_and_delegated_mail_the_receiver_only(
    users,
    purchase,
    inbox,  # noqa: F811
):
    task = _start(users)
    task_assign(user=users["padmin"], task_id=task.pk, assignee="manager2")
    task_delegate(user=users["manager2"], task_id=task.pk, delegate="finance")
    with _worker():
        assert _wait_for(lambda: len(inbox) >= 2)
        time.sleep(1)  # the group's offer, sent after the assignment, stays unsent
    subjects = [(to, subject.split(":")[0]) for to, subject, _ in _mails(inbox)]
    assert subjects == [
        ("finance@example.com", "Please answer"),
        ("manager2@example.com", "Assigned to you"),
    ]
    delegated = next(body for to, s, body in _mails(inbox) if s.startswith("Please"))
    assert "manager2 asks you to answer" in delegated


def test_an_overdue_task_is_reminded_once_by_the_sweep(
    users,
    purchase,
    inbox,  # noqa: F811
):
    task = _start(users)
    HumanTask.objects.filter(pk=task.pk).update(
        due_at=timezone.now() - timedelta(hours=2), assignee=users["manager1"]
    )
    assert overdue_tasks_mark() == [str(task.pk)]
    assert overdue_tasks_mark() == []  # once per task
    with _worker():
        assert _wait_for(
            lambda: any(s.startswith("Overdue") for _, s, _ in _mails(inbox))
        )
    overdue = [m for m in _mails(inbox) if m[1].startswith("Overdue")]
    assert [to for to, _, _ in overdue] == ["manager1@example.com"]
    assert f"/tasks/{task.pk}/" in overdue[0][2]


def _queued(client, count):
    """The newest `count` messages of Celery's queue, oldest first, decoded."""
    raw = client.lrange(app.amqp.default_queue.name, 0, count - 1)
    return [json.loads(message) for message in reversed(raw)]


def _shape(message):
    """A message with its per-message values (ids, tags, the sender) blanked."""
    message = copy.deepcopy(message)
    headers, properties = message["headers"], message["properties"]
    for key in ("id", "root_id", "origin"):
        headers[key] = type(headers[key]).__name__
    for key in ("correlation_id", "reply_to", "delivery_tag"):
        properties[key] = type(properties[key]).__name__
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


def test_the_notice_is_the_message_celery_sends_and_only_after_commit(users, purchase):
    assert notifications._lane() is not None  # Redis, default routing: pushed directly
    client = redis.Redis.from_url(app.conf.broker_url)
    queue = app.amqp.default_queue.name
    before = client.llen(queue)
    with pytest.raises(RuntimeError), transaction.atomic():
        _start(users)
        raise RuntimeError("rolled back")
    assert client.llen(queue) == before  # a rolled-back start offers nothing
    task = _start(users)
    assert client.llen(queue) == before + 1
    args = [str(task.pk), "offered", None, None]
    app.send_task(NOTIFY_TASK, args=args)
    ours, celerys = _queued(client, 2)
    assert _shape(ours) == _shape(celerys)
    assert ours["headers"]["id"] == ours["properties"]["correlation_id"]
    assert ours["headers"]["id"] != celerys["headers"]["id"]
    client.ltrim(queue, 2, -1)  # neither is for a worker
    for other in ([str(task.pk), "assigned", 7, 3], ["it's", "é", 10**20, "a\\b"]):
        assert notifications._argsrepr(other) == saferepr(other)
