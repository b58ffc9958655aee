"""Messages one case sends to another (send tasks, message throw events).

The sending case's advance reports the messages nothing in it caught; the
`case_advanced` receiver here queues a Celery task when the sending
transaction commits (never before: a rolled-back send must not wake anyone),
and the task delivers each message through the same correlation as
`POST /api/v1/messages/` (`messages.subscription_matches`): to the one case
waiting for it with matching correlation, or else by starting the processes
whose latest version has a message start event for it. As for the API without
`all`, a message that several cases match reaches none; a message nobody
takes is recorded on the sending case (`message.undelivered`, in its audit
trail and timeline) and logged: the sender has committed and cannot be undone.
"""

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from celery import current_app
from django.db import transaction

from audit.actions import AuditAction
from engine.selectors import version_list_started_by

from .advance import case_audit, case_lock
from .messages import (
    Message,
    MessageResult,
    message_case_ids,
    message_deliver_to_case,
    message_start_case,
)
from .timer_starts import system_user

MESSAGE_SEND_TASK = "engine.message_send"
logger = logging.getLogger(__name__)


def message_send_from_case(
    *,
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
    source: UUID,
) -> MessageResult:
    """Deliver a message a case sent (system actor); return where it went."""
    case_ids = [c for c in message_case_ids(name, correlation) if c != source]
    if len(case_ids) > 1:
        _undelivered(source, name, f"{len(case_ids)} cases wait for it")
        return MessageResult()
    if case_ids:
        delivered = message_deliver_to_case(
            user=None, case_id=case_ids[0], message=Message(name, correlation, payload)
        )
        return MessageResult(delivered=case_ids if delivered else [])
    started = [
        message_start_case(
            user=system_user(), version=v, message=Message(name, correlation, payload)
        ).pk
        for v in version_list_started_by(event="message", name=name)
    ]
    if not started:
        _undelivered(source, name, "no case waits for it and no process starts with it")
    return MessageResult(started=started)


def _undelivered(source: UUID, name: str, reason: str) -> None:
    logger.warning("message %r from case %s not delivered: %s", name, source, reason)
    with transaction.atomic():
        case = case_lock(case_id=source, allow_suspended=True)  # only a record
        case_audit(
            case, None, AuditAction.MESSAGE_UNDELIVERED, name=name, reason=reason
        )


def _enqueue(sent: list[tuple[str, dict, dict]], source: UUID) -> None:
    for name, payload, correlation in sent:
        current_app.send_task(
            MESSAGE_SEND_TASK, args=[name, payload, correlation, str(source)]
        )


def case_messages_send(sender: Any, advance: Any, **_: Any) -> None:
    """Queue the messages a case sent, for when its transaction commits (receiver)."""
    sent = [
        (m.name, dict(m.payload), dict(m.correlation))
        for m in advance.outcome.sent_messages
    ]
    if sent:
        source = advance.case.pk
        transaction.on_commit(lambda: _enqueue(sent, source))
