"""E-mail about tasks: offered, assigned, delegated, overdue (Django's mail framework).

The services only enqueue: `notify_on_commit` sends a Celery task once the
transaction commits, so a slow or unreachable SMTP server never holds the case
lock or slows an advance, and a rolled-back change mails nobody. The worker
(`task_notify`) decides the recipients when it runs: active people with an
e-mail address who have not switched notifications off in their profile
(`Profile.email_notifications`), and not the person who caused the notice.
Overdue reminders come from beat (`overdue_tasks_mark`), once per task.

The link in each mail is TASKS_BASE_URL + the task's page.
"""

import json
import os
import re
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property, partial
from typing import Any
from urllib.parse import urlsplit

import redis
from celery import current_app
from celery.utils.nodenames import anon_nodename
from celery.utils.saferepr import saferepr
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from common.uuids import uuid4_text

from .models import HumanTask, Profile

NOTIFY_TASK = "tasks_app.task_notify"
OVERDUE_BATCH = 500


class Notice(StrEnum):
    """Why a person gets a mail about a task."""

    OFFERED = "offered"  # a new task for them, or for their group
    ASSIGNED = "assigned"  # someone assigned it to them
    DELEGATED = "delegated"  # someone asks them to answer it
    OVERDUE = "overdue"  # its due date passed


def notify_on_commit(
    task: HumanTask,
    notice: Notice,
    *,
    to: Any = None,
    actor: Any = None,
) -> None:
    """Mail about the task after the transaction commits (via the worker).

    `to` names one recipient (assigned, delegated); otherwise the task's holder
    or candidates get it. `actor` (who caused it) is never mailed.
    """
    _enqueue(
        [
            str(task.pk),
            str(notice),
            to.pk if to is not None else None,
            actor.pk if actor is not None else None,
        ]
    )


def _enqueue(args: list[Any]) -> None:
    transaction.on_commit(partial(_publish, args))


def _publish(args: list[Any]) -> None:
    """Send the notice to the worker (after the commit; never before).

    On Redis with Celery's default routing, the message Celery would send is
    pushed with one LPUSH on a kept client (`_Lane`): Celery's and Kombu's
    publishing machinery cost 0.6-0.8 ms of CPU a message, more than the rest of
    the notice. Anywhere else, or when that push fails, Celery sends it (with
    its retries).
    """
    lane = _lane()
    if lane is not None:
        try:
            lane.push(args)
            return
        except redis.RedisError:
            pass  # Celery reconnects and retries by its own policy
    current_app.send_task(NOTIFY_TASK, args=args)


@dataclass(frozen=True)
class _Lane:
    """Celery's message protocol 2 for NOTIFY_TASK, as Kombu's Redis transport
    stores it: a JSON envelope with the body base64-encoded, in the queue's list
    (tests/tasks_app/test_notifications.py compares it with Celery's own)."""

    client: redis.Redis
    queue: str
    origin: str
    reply_to: str

    def push(self, args: list[Any]) -> None:
        task_id = uuid4_text()
        embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
        body = b64encode(json.dumps([args, {}, embed]).encode()).decode()
        texts, slots = self._template
        values = {
            "task_id": task_id,
            "body": body,
            "argsrepr": _argsrepr(args),
            "delivery_tag": uuid4_text(),
        }
        parts = [texts[0]]
        for slot, text in zip(slots, texts[1:], strict=True):
            parts += (_JSON_STR(values[slot]), text)
        self._lpush("".join(parts))

    def message(
        self, *, task_id: str, body: str, argsrepr: str, delivery_tag: str
    ) -> dict[str, Any]:
        """Return the message (Kombu's envelope) `push` sends, as a dict."""
        return {
            "body": body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": NOTIFY_TASK,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": argsrepr,
                "kwargsrepr": "{}",
                "origin": self.origin,
                "ignore_result": None,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": self.reply_to,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": self.queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": delivery_tag,
            },
        }

    @cached_property
    def _template(self) -> tuple[list[str], list[str]]:
        """Return `json.dumps(message(...))` cut where its per-message values go:
        (the texts between them, the value of each cut). A message is the texts
        with each value's JSON string between them: the same text, made without
        encoding the whole envelope each time."""
        marks = {name: f"@laneway-{name}@" for name in _SLOTS}
        whole = json.dumps(self.message(**marks))
        cut = re.compile("|".join(re.escape(_JSON_STR(m)) for m in marks.values()))
        by_mark = {_JSON_STR(mark): name for name, mark in marks.items()}
        return cut.split(whole), [by_mark[m] for m in cut.findall(whole)]

    def _lpush(self, message: str) -> None:
        """LPUSH the message on a connection of the client's pool.

        What `client.lpush` sends and reads, without redis-py's per-command
        machinery (its retries: a failed push falls back to Celery's).
        """
        pool = self.client.connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command("LPUSH", self.queue, message)
            connection.read_response()
        except redis.ResponseError:
            raise  # Redis refused it: the connection is fine
        except BaseException:
            connection.disconnect()  # in an unknown state
            raise
        finally:
            pool.release(connection)


_SLOTS = ("task_id", "body", "argsrepr", "delivery_tag")
_JSON_STR = json.encoder.encode_basestring_ascii  # json.dumps of a str


_PLAIN_ARG = re.compile(r"[\w.:-]*", re.ASCII)


def _argsrepr(args: list[Any]) -> str:
    """Return Celery's `saferepr(args)`: `repr` for a notice's arguments (ids, a
    notice name, user ids or None), which it writes alike; saferepr is a Python
    tokenizer, ~15 µs a message."""
    if all(
        a is None or type(a) is int or (type(a) is str and _PLAIN_ARG.fullmatch(a))
        for a in args
    ):
        return repr(args)
    return str(saferepr(args))


_LANES: dict[int, _Lane | None] = {}  # by process: a forked child opens its own


def _lane() -> _Lane | None:
    """Return the direct lane when Celery would publish to a plain Redis queue."""
    pid = os.getpid()
    if pid not in _LANES:
        _LANES[pid] = _lane_open()
    return _LANES[pid]


def _lane_open() -> _Lane | None:
    conf = current_app.conf
    url = conf.broker_url
    plain = (
        isinstance(url, str)
        and urlsplit(url).scheme == "redis"  # TLS: Kombu's broker_use_ssl applies
        and ";" not in url  # a failover list: Kombu fails over
        and not conf.broker_transport_options
        and not conf.task_routes
        and not conf.task_queues
        and not conf.task_default_priority
        and conf.task_default_delivery_mode in (2, "persistent")
        and conf.task_serializer == "json"
        and not conf.task_compression
        and conf.task_protocol != 1
    )
    if not plain:
        return None
    queue = current_app.amqp.default_queue
    if queue.exchange.type != "direct" or queue.queue_arguments:
        return None
    return _Lane(
        client=redis.Redis.from_url(url, health_check_interval=25),
        queue=queue.name,
        origin=anon_nodename(),
        reply_to=current_app.thread_oid,
    )


def _candidates(task: HumanTask) -> Any:
    users = get_user_model().objects.filter(is_active=True)
    if task.assignee_id is not None:
        return users.filter(pk=task.assignee_id)
    named = Q(username__in=task.candidate_users) | Q(
        groups__name__in=task.candidate_groups
    )
    return users.filter(named).exclude(pk__in=task.barred.values("pk")).distinct()


def recipients(
    task: HumanTask, notice: Notice, *, to_id: int | None, actor_id: int | None
) -> list[Any]:
    """Return who gets the mail: holder or candidates, or `to_id`; opted-in only."""
    users = (
        get_user_model().objects.filter(pk=to_id, is_active=True)
        if to_id is not None
        else _candidates(task)
    )
    opted_out = Profile.objects.filter(email_notifications=False).values("user_id")
    if actor_id is not None:
        users = users.exclude(pk=actor_id)
    return list(users.exclude(pk__in=opted_out).exclude(email="").order_by("pk"))


_SUBJECTS = {
    Notice.OFFERED: "New task: {name}",
    Notice.ASSIGNED: "Assigned to you: {name}",
    Notice.DELEGATED: "Please answer: {name}",
    Notice.OVERDUE: "Overdue: {name}",
}
_OPENERS = {
    Notice.OFFERED: "A task is waiting for you or your group.",
    Notice.ASSIGNED: "{actor} assigned a task to you.",
    Notice.DELEGATED: "{actor} asks you to answer a task; it then goes back to them.",
    Notice.OVERDUE: "A task you may work on is overdue (it was due {due}).",
}


def task_url(task: HumanTask) -> str:
    """Return the absolute link to the task's page."""
    return settings.TASKS_BASE_URL + reverse("task-detail", args=[task.pk])


def _message(task: HumanTask, notice: Notice, actor: Any, to: Any) -> EmailMessage:
    case = task.case
    process = case.version.definition.name
    reference = f" · {case.business_key}" if case.business_key else ""
    subject = _SUBJECTS[notice].format(name=task.name) + f" ({process}{reference})"
    due = (
        timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
        if task.due_at
        else ""
    )
    opener = _OPENERS[notice].format(
        actor=actor.get_username() if actor else "Someone", due=due
    )
    lines = [
        f"Hello {to.get_username()},",
        "",
        opener,
        "",
        f"Task: {task.name}",
        f"Process: {process}{reference}",
        *([f"Due: {due}"] if due else []),
        "",
        f"Open it: {task_url(task)}",
        "",
        "You get these e-mails because notifications are on in your profile "
        f"({settings.TASKS_BASE_URL}{reverse('profile')}).",
    ]
    return EmailMessage(
        subject=" ".join(subject.split())[:200], body="\n".join(lines), to=[to.email]
    )


def task_notify(
    *, task_id: str, notice: str, to_id: int | None = None, actor_id: int | None = None
) -> int:
    """Send the notice's mails (in the worker, outside any transaction); count them.

    A task that closed before the worker got to it mails nobody; neither does an
    offer to a group once someone holds the task.
    """
    task = (
        HumanTask.objects.select_related("case__version__definition")
        .filter(pk=task_id, status=HumanTask.Status.OPEN)
        .first()
    )
    if task is None:
        return 0
    kind = Notice(notice)
    if kind is Notice.OFFERED and to_id is None and task.assignee_id is not None:
        return 0  # claimed or assigned meanwhile: its holder knows, or is mailed
    people = recipients(task, kind, to_id=to_id, actor_id=actor_id)
    if not people:
        return 0
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    messages = [_message(task, kind, actor, person) for person in people]
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def overdue_tasks_mark(*, now: datetime | None = None) -> list[str]:
    """Mark open tasks whose due date passed as reminded; mail them after commit.

    Skips rows another transaction holds (an advance closing the task): the
    next sweep sees them again. Returns the ids marked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            HumanTask.objects.select_for_update(skip_locked=True)
            .filter(
                status=HumanTask.Status.OPEN,
                due_at__lt=now,
                overdue_notified_at__isnull=True,
            )
            .order_by("due_at")
            .values_list("pk", flat=True)[:OVERDUE_BATCH]
        )
        HumanTask.objects.filter(pk__in=ids).update(overdue_notified_at=now)
        for pk in ids:
            _enqueue([str(pk), str(Notice.OVERDUE), None, None])
    return [str(pk) for pk in ids]


def profile_get(*, user: Any) -> Profile:
    """Return the user's settings (the defaults when never changed)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


@transaction.atomic
def profile_update(*, user: Any, email_notifications: bool) -> Profile:
    """Switch the user's task e-mails on or off."""
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"email_notifications": email_notifications}
    )
    return profile
