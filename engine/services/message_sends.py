"""Messages one case sends to another (send tasks, message throw events).

The sending case's advance reports the messages nothing in it caught; the
`case_advanced` receiver here writes each to `MessageOutbox` in the sending
transaction and queues a Celery task when it commits (never before: a
rolled-back send must not wake anyone). The task delivers the message and
deletes its outbox row in one transaction, so it is delivered once; a row
the broker or a dying worker lost is re-sent by the outbox sweep
(engine.services.outbox, shared with the signals a case throws). It
delivers as Camunda 7 correlates one
(`RuntimeService.correlateMessage`): to the one case waiting for it with
matching correlation (`messages.subscription_matches`), or else by starting
the one process whose latest version has a message start event for it.

Anything else (no case and no process, or several) is Camunda's
MismatchingMessageCorrelationException, which fails the sending step. The
sender has committed by then and cannot be rolled back, so the failure is an
incident on the sending case at the sending element (kind `message`, the
message kept in `Incident.detail`), as Camunda makes it for an asynchronous
send. A process admin re-sends it (`incident_retry` → `message_resend`: the
same correlation again, inside the transaction that resolves the incident, so
a message is delivered once however often the button is pressed) or drops it
(`incident_skip`).

A message nothing takes whose sender the diagram draws with message flows to
outside parties only (black-box pools: "we send the customer a letter";
`CompiledProcess.outside_senders`, carried on the outbox row and into the
incident; a re-send of an incident opened before reads it from the sender's
version: the case's, or a called version its call activities started) went
there, as Camunda 7 runs a message throw or end event without implementation
(a none event): no incident, recorded on the sender as `message.sent_outside`.
Unless a process in use can catch or start with that name
(`version_list_catching`, which counts the versions children of running cases
were started on): then it was meant for Laneway, and it is an incident as
above.
"""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import transaction

from audit.actions import AuditAction
from engine.errors import MessageAmbiguous
from engine.models import Case, Incident, MessageOutbox
from engine.selectors import (
    version_list_called,
    version_list_catching,
    version_list_started_by,
)
from engine.spec_cache import spec_for

from .advance import case_audit, case_lock, incident_open, incident_resolve
from .messages import (
    Message,
    MessageResult,
    message_case_ids,
    message_deliver_to_case,
    message_start_case,
)
from .outbox import outbox_enqueue, outbox_stale, outbox_take, outbox_write
from .timer_starts import system_user

MESSAGE_SEND_TASK = "engine.message_outbox_send"
MISMATCH = "MismatchingMessageCorrelation"
logger = logging.getLogger(__name__)


def _where(name: str, correlation: Mapping[str, Any]) -> str:
    pairs = ", ".join(f"{k} = {v!r}" for k, v in correlation.items())
    return f"“{name}”" + (f" with {pairs}" if pairs else "")


@dataclass(frozen=True, slots=True)
class _Routed:
    """Where a message went: cases, or the outside parties, or nowhere and why."""

    result: MessageResult = field(default_factory=MessageResult)
    reason: str = ""  # why nothing took it: an incident on the sender
    outside: str = ""  # the outside parties it went to instead


def _route(message: Message, *, source: UUID, actor: Any, outside: str = "") -> _Routed:
    """Deliver as Camunda correlates; say where it went, or why it went nowhere.

    `outside`: the parties the sender's message flows all go to ("" when they
    do not); a message nothing takes goes there (module docstring).
    """
    where = _where(message.name, message.correlation)
    case_ids = [c for c in message_case_ids(message) if c != source]
    if len(case_ids) > 1:
        return _Routed(reason=f"{len(case_ids)} cases match {where}")
    if case_ids:
        try:
            if message_deliver_to_case(
                user=actor, case_id=case_ids[0], message=message
            ):
                return _Routed(MessageResult(delivered=case_ids))
        except MessageAmbiguous as exc:
            count = exc.details["matches"]
            return _Routed(reason=f"{count} elements of the case wait for {where}")
        return _Routed(reason=f"no case waits for {where}")  # it just stopped
    versions = version_list_started_by(event="message", name=message.name)
    if len(versions) > 1:
        return _Routed(reason=f"{len(versions)} processes start with {where}")
    if not versions:
        return _nowhere(message, where, outside)
    case = message_start_case(
        user=actor or system_user(), version=versions[0], message=message
    )
    return _Routed(MessageResult(started=[case.pk]))


def _nowhere(message: Message, where: str, outside: str) -> _Routed:
    """No case waits and no process starts: to the outside parties, or an incident."""
    reason = f"no case waits for {where} and no process starts with it"
    if not outside:
        return _Routed(reason=reason)
    catching = version_list_catching(name=message.name)
    if not catching:
        return _Routed(outside=outside)
    keys = ", ".join(dict.fromkeys(f"“{v.definition.key}”" for v in catching))
    return _Routed(
        reason=f"{reason} (its message flows go to {outside}, but {keys} can catch it)"
    )


def _technical(message: Message, reason: str) -> str:
    return f"The message '{message.name}' could not be correlated: {reason}."


def message_outbox_send(*, outbox_id: UUID | str) -> MessageResult | None:
    """Deliver one message a case sent (system actor); return where it went.

    None when it is gone (delivered already) or another worker holds it. A
    message nothing takes becomes an incident on the sender at the sending
    element. Raises CaseBusy when a case stayed locked: the row stays and the
    sweep sends it again.
    """
    with outbox_take(MessageOutbox, outbox_id) as row:
        if row is None:
            return None
        message = Message(row.name, row.correlation, row.payload)
        routed = _route(message, source=row.case_id, actor=None, outside=row.outside)
        origin = {
            "bpmn_id": row.bpmn_id,
            "name": row.element_name,
            "id": str(row.pk),
            "outside": row.outside,
        }
        if routed.reason:
            _undelivered(row.case_id, message, routed.reason, origin)
        elif routed.outside:
            _sent_outside(row.case_id, message, routed.outside, origin)
    return routed.result


def message_send_from_case(
    *,
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
    source: UUID,
    origin: Mapping[str, str] | None = None,
) -> MessageResult:
    """Deliver a message a case sent, without an outbox row (system actor).

    For `engine.message_send` tasks queued before the outbox existed.
    """
    message = Message(name, correlation, payload)
    routed = _route(message, source=source, actor=None)
    if routed.reason:
        _undelivered(source, message, routed.reason, origin or {})
    return routed.result


def message_outbox_sweep(*, older_than: timedelta) -> list[UUID]:
    """Return the ids of sent messages still undelivered after `older_than`."""
    return outbox_stale(MessageOutbox, older_than=older_than)


def message_outbox_enqueue(ids: list[UUID]) -> None:
    """Send the outbox rows to the worker queue (after the commit)."""
    outbox_enqueue(MESSAGE_SEND_TASK, ids)


def _sender_audit(
    source: UUID,
    message: Message,
    origin: Mapping[str, str],
    action: AuditAction,
    **payload: Any,
) -> Case:
    """Lock the sending case and record what became of its message on it."""
    case = case_lock(case_id=source, allow_suspended=True)  # only a record
    task_ref = origin.get("bpmn_id", "")
    case_audit(case, None, action, task_ref=task_ref, name=message.name, **payload)
    return case


def _sent_outside(
    source: UUID, message: Message, outside: str, origin: Mapping[str, str]
) -> None:
    """Record on the sender that its message went to the outside parties."""
    with transaction.atomic():
        _sender_audit(
            source, message, origin, AuditAction.MESSAGE_SENT_OUTSIDE, to=outside
        )


def _undelivered(
    source: UUID, message: Message, reason: str, origin: Mapping[str, str]
) -> None:
    logger.warning(
        "message %r from case %s not delivered: %s", message.name, source, reason
    )
    with transaction.atomic():
        case = _sender_audit(
            source, message, origin, AuditAction.MESSAGE_UNDELIVERED, reason=reason
        )
        incident = incident_open(
            case,
            kind=Incident.Kind.MESSAGE,
            spiff_task_id=f"message:{origin.get('id') or uuid.uuid4()}",
            bpmn_id=origin.get("bpmn_id", ""),
            element_name=origin.get("name", ""),
            error_type=MISMATCH,
            message=_technical(message, reason),
        )
        incident.detail = _detail(message, reason, origin.get("outside"))
        incident.save(update_fields=["detail"])


def _detail(message: Message, reason: str, outside: str | None) -> dict[str, Any]:
    """What a re-send needs: the message, why it went nowhere and, when known,
    the outside parties its sender's message flows go to ("" none)."""
    detail = {
        "name": message.name,
        "correlation": dict(message.correlation),
        "data": dict(message.data),
        "reason": reason,
    }
    if outside is not None:
        detail["outside"] = outside
    return detail


def _outside_parties(case: Case, incident: Incident) -> str:
    """The outside parties the sender of an incident's message sends to.

    Carried in the incident since it is so; for one opened before (or from an
    outbox row written before the fact was carried), read from the version of
    the sender: the case's, or a called version one of its call activities
    started (the sender may be in a child).
    """
    carried = incident.detail.get("outside")
    if carried and isinstance(carried, str):
        return carried  # "" also came from outbox rows written before the fact
    for version in [case.version, *version_list_called(case=case)]:
        outside = spec_for(version).outside_senders.get(incident.bpmn_id, "")
        if outside:
            return outside
    return ""


def message_resend(case: Case, incident: Incident, *, user: Any) -> None:
    """Send the message of an open message incident again (under the case lock).

    Delivered or started: the incident resolves in the same transaction as the
    delivery. Still no single receiver: the incident stays open with one more
    attempt.
    """
    detail = incident.detail
    message = Message(detail["name"], detail["correlation"], detail["data"])
    outside = _outside_parties(case, incident)
    routed = _route(message, source=case.pk, actor=user, outside=outside)
    result, reason = routed.result, routed.reason
    if reason:
        incident_open(
            case,
            kind=Incident.Kind.MESSAGE,
            spiff_task_id=incident.spiff_task_id,
            bpmn_id=incident.bpmn_id,
            element_name=incident.element_name,
            error_type=MISMATCH,
            message=_technical(message, reason),
        )
        Incident.objects.filter(pk=incident.pk).update(
            detail=_detail(message, reason, outside)
        )
        return
    went = {"to": routed.outside} if routed.outside else {}
    case_audit(
        case,
        user,
        AuditAction.MESSAGE_RESENT,
        task_ref=incident.bpmn_id,
        name=message.name,
        incident=str(incident.pk),
        delivered=[str(c) for c in result.delivered],
        started=[str(c) for c in result.started],
        **went,
    )
    incident_resolve(case, incident, actor=user, resolution="retry")


def message_drop(case: Case, incident: Incident, *, user: Any) -> None:
    """Resolve an open message incident without sending (under the case lock)."""
    case_audit(
        case,
        user,
        AuditAction.INCIDENT_SKIPPED,
        task_ref=incident.bpmn_id,
        incident=str(incident.pk),
        dropped_message=incident.detail.get("name", ""),
    )
    incident_resolve(case, incident, actor=user, resolution="skip")


def case_messages_send(sender: Any, advance: Any, **_: Any) -> None:
    """Write the messages a case sent to the outbox; queue them on commit (receiver)."""
    rows = [
        MessageOutbox(
            case=advance.case,
            name=m.name,
            payload=dict(m.payload),
            correlation=dict(m.correlation),
            bpmn_id=m.bpmn_id,
            element_name=m.element_name,
            outside=m.outside,
        )
        for m in advance.outcome.sent_messages
    ]
    outbox_write(MessageOutbox, MESSAGE_SEND_TASK, rows)
