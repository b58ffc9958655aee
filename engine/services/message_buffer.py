"""Messages kept for a while when no case waits yet (Zeebe-style `ttl_s`).

`POST /api/v1/messages/` with `ttl_s` keeps a message that matches no waiting
case (and starts no process) in `BufferedMessage` until it expires. The first
case that starts waiting for its name with matching correlation (and the
message's business key, when it has one) gets it:

* every advance that leaves a case waiting for a message some kept message
  has the name of queues `engine.message_buffer_deliver` on commit (receiver
  `case_buffered_messages`); a freshly kept message is offered once to the
  cases already waiting (`buffered_message_offer`), in case one started
  waiting while it was being kept;
* the task locks the case, then the kept message (FOR UPDATE SKIP LOCKED),
  delivers it and deletes the row in one transaction: delivered once.

Beat drops expired messages (`buffered_messages_expire`). Each step is
audited: `message.buffered` and `message.expired` on the system chain,
`message.delivered` (with `buffered`) on the case.
"""

from typing import Any
from uuid import UUID

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import AuditAction
from audit.services import audit_record
from engine.errors import CaseBusy, CaseSuspended, MessageAmbiguous
from engine.models import BufferedMessage, MessageSubscription

from .advance import case_lock
from .messages import Message, message_case_ids, message_deliver_to_case

BUFFER_DELIVER_TASK = "engine.message_buffer_deliver"
# A case that loops back to wait again takes at most this many kept messages
# in one task run (the next advance queues the task again).
_PER_RUN = 20


def _message(kept: BufferedMessage) -> Message:
    return Message(
        kept.name,
        kept.correlation,
        kept.data,
        buffered=str(kept.pk),
        business_key=kept.business_key,
    )


def buffered_message_offer(*, kept_id: UUID) -> UUID | None:
    """Deliver a kept message to a case that waits for it now; return the case."""
    kept = BufferedMessage.objects.filter(pk=kept_id).first()
    if kept is None:
        return None
    for case_id in message_case_ids(_message(kept)):
        if kept_id in buffered_messages_deliver(case_id=case_id):
            return case_id
    return None


def _deliver_one(case_id: UUID) -> UUID | None:
    """Deliver the oldest kept message the case waits for; return its id."""
    now = timezone.now()
    with transaction.atomic():
        case = case_lock(case_id=case_id)
        if not case.is_running:
            return None
        names = set(
            MessageSubscription.objects.filter(case=case).values_list("name", flat=True)
        )
        candidates = (
            BufferedMessage.objects.select_for_update(skip_locked=True)
            .filter(name__in=names, expires_at__gt=now)
            .filter(Q(business_key="") | Q(business_key=case.business_key))
            .select_related("sender")
            .order_by("created_at")
        )
        for kept in candidates:
            try:
                taken = message_deliver_to_case(
                    user=kept.sender, case_id=case.pk, message=_message(kept)
                )
            except MessageAmbiguous:
                continue  # kept until several elements no longer wait for it
            if taken:
                kept_id = kept.pk
                kept.delete()
                return kept_id
    return None


def buffered_messages_deliver(*, case_id: UUID) -> list[UUID]:
    """Give a waiting case the kept messages it waits for; return their ids."""
    delivered: list[UUID] = []
    for _ in range(_PER_RUN):
        try:
            kept_id = _deliver_one(case_id)
        except (CaseBusy, CaseSuspended):
            break  # its next advance queues this again
        if kept_id is None:
            break
        delivered.append(kept_id)
    return delivered


@transaction.atomic
def buffered_messages_expire() -> int:
    """Drop the kept messages whose time is up (beat); audit each."""
    expired = list(
        BufferedMessage.objects.select_for_update(skip_locked=True).filter(
            expires_at__lte=timezone.now()
        )[:500]
    )
    for kept in expired:
        audit_record(
            actor=None,
            action=AuditAction.MESSAGE_EXPIRED,
            payload={"buffered": str(kept.pk), "name": kept.name},
        )
        kept.delete()
    return len(expired)


def _enqueue(case_id: UUID) -> None:
    current_app.send_task(BUFFER_DELIVER_TASK, args=[str(case_id)])


def case_buffered_messages(sender: Any, advance: Any, **_: Any) -> None:
    """Queue the delivery of kept messages a case now waits for (receiver)."""
    case = advance.case
    names = {m.name for m in advance.outcome.waiting_messages}
    if not names or not case.is_running:
        return
    if BufferedMessage.objects.filter(
        name__in=names, expires_at__gt=timezone.now()
    ).exists():
        case_id = case.pk
        transaction.on_commit(lambda: _enqueue(case_id))
