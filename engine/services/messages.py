"""Deliver messages to waiting cases, or start a case with a message start event.

Correlation rule: every entry of `correlation` must equal, for a case to match,
the case variable of that name (`Case.data`, Camunda-style) or the case's
SpiffWorkflow correlation property of that name (`processVariableCorrelation`,
kept in `MessageSubscription.correlation`). A message awaited inside a called
process reads that called instance's variables and business key instead
(Camunda 7: an instance of its own, whose business key is none unless the
call activity's `camunda:in businessKey` gives one). An empty correlation matches every
case waiting for the name. SpiffWorkflow then checks its own correlation
properties once more when the message is thrown at the case.

A business key (Camunda 7's `processInstanceBusinessKey`) narrows the waiting
cases to those with that `Case.business_key`, besides the correlation (AND);
a case a message start event starts gets it as its business key.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.actions import AuditAction
from audit.services import audit_record
from engine.errors import (
    ActionNotAllowed,
    FormInvalid,
    MessageAmbiguous,
    MessageNotCorrelated,
)
from engine.idempotency import body_fingerprint, request_replayed
from engine.models import (
    BUSINESS_KEY_MAX_LENGTH,
    BufferedMessage,
    Case,
    MessageRequest,
    MessageSubscription,
)
from engine.selectors import version_list_started_by
from engine.spec_cache import spec_for
from engine.spiff import (
    MessageCatchersAmbiguous,
    MessageNotCaught,
    workflow_deliver_message,
    workflow_start_by_message,
)
from processes.models import ProcessVersion

from .advance import case_advance, case_audit, case_lock
from .cases import case_start_at_event, case_start_by_event_check
from .script_host import case_scripts

SEND_MESSAGE = "engine.send_message"
BUFFER_OFFER_TASK = "engine.message_buffer_offer"


@dataclass(frozen=True, slots=True)
class MessageResult:
    """The cases a message reached: `delivered` waited for it, `started` with it.

    `buffered`: the id under which a message nobody took is kept (`ttl_s`).
    """

    delivered: list[UUID] = field(default_factory=list)
    started: list[UUID] = field(default_factory=list)
    buffered: UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON (what an Idempotency-Key replays)."""
        return {
            "delivered": [str(c) for c in self.delivered],
            "started": [str(c) for c in self.started],
            "buffered": str(self.buffered) if self.buffered else None,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> "MessageResult":
        """Return the result `as_dict` stored."""
        buffered = stored.get("buffered")
        return cls(
            delivered=[UUID(c) for c in stored.get("delivered", [])],
            started=[UUID(c) for c in stored.get("started", [])],
            buffered=UUID(buffered) if buffered else None,
        )


@dataclass(frozen=True, slots=True)
class Message:
    """A message to deliver: its name, correlation values and payload.

    `business_key`: "" for any case, else only a case with that business key
    (and the business key of a case the message starts).
    """

    name: str
    correlation: Mapping[str, Any]
    data: Mapping[str, Any]
    buffered: str = ""  # the kept message's id, when it was kept (ttl_s)
    business_key: str = ""
    case_id: UUID | None = None  # only this case (Camunda's processInstanceId)

    def about(self) -> dict[str, Any]:
        """Return what the audit log and errors say the message was sent to."""
        about: dict[str, Any] = {
            "name": self.name,
            "correlation": dict(self.correlation),
        }
        if self.business_key:
            about["business_key"] = self.business_key
        if self.case_id is not None:
            about["to_case"] = str(self.case_id)
        return about


class _Gone(Exception):  # noqa: N818
    """The case stopped waiting for the message before its lock was taken."""


def _check_input(name: str, correlation: Mapping[str, Any], business_key: Any) -> None:
    fields: dict[str, list[str]] = {}
    if not name.strip():
        fields["name"] = ["Give the message name."]
    if not isinstance(business_key, str):
        fields["business_key"] = ["The business key must be a string."]
    elif len(business_key) > BUSINESS_KEY_MAX_LENGTH:
        fields["business_key"] = [
            f"The business key may have at most {BUSINESS_KEY_MAX_LENGTH} characters."
        ]
    bad = [key for key in correlation if not str(key).isidentifier()]
    if bad:
        fields["correlation"] = [
            f"Correlation keys must be variable names: {', '.join(map(str, bad))}."
        ]
    if fields:
        raise FormInvalid("The message is not valid.", details={"fields": fields})


def subscription_matches(
    *,
    name: str,
    correlation: Mapping[str, Any],
    business_key: str = "",
    own_key: bool | None = None,
) -> QuerySet[MessageSubscription]:
    """Return the subscriptions of running cases that match name and correlation.

    With a `business_key`, only those of cases with that business key, or,
    inside a called process, of a called instance with that key of its own.
    `own_key` True or False looks at only the latter or the former (each
    found by an index; together they are an OR no index serves).
    """
    qs = MessageSubscription.objects.filter(name=name, case__status=Case.Status.RUNNING)
    if business_key:
        case_key = Q(own_business_key=False, case__business_key=business_key)
        called_key = Q(own_business_key=True, business_key=business_key)
        if own_key is None:
            qs = qs.filter(case_key | called_key)
        else:
            qs = qs.filter(called_key if own_key else case_key)
    for key, value in correlation.items():
        # Keys are checked identifiers (no "__"), so they cannot steer the lookup.
        qs = qs.filter(
            Q(**{f"correlation__{key}": value})
            | Q(**{"variables__isnull": True, f"case__data__{key}": value})
            | Q(**{f"variables__{key}": value})
        )
    return qs


def message_case_ids(message: Message) -> list[UUID]:
    """Return the ids of the cases waiting for the message, oldest first."""
    found: list[tuple[Any, UUID]] = []
    for own_key in (False, True) if message.business_key else (None,):
        rows = subscription_matches(
            name=message.name,
            correlation=message.correlation,
            business_key=message.business_key,
            own_key=own_key,
        )
        if message.case_id is not None:
            rows = rows.filter(case_id=message.case_id)
        found.extend(rows.values_list("case__started_at", "case_id"))
    return list(dict.fromkeys(case_id for _, case_id in sorted(found)))


def message_deliver_to_case(
    *, user: Any, case_id: UUID, message: Message, every: bool = False
) -> bool:
    """Deliver the message to one case under its lock; False if it no longer waits.

    Raises:
        MessageAmbiguous: several elements of the case wait for it and not
            `every` (Camunda 7's correlate(); `every` is its correlateAll()).
    """
    name, correlation, data = message.name, message.correlation, message.data
    try:
        with transaction.atomic():
            case = case_lock(case_id=case_id)
            matches = subscription_matches(
                name=name, correlation=correlation, business_key=message.business_key
            )
            if not matches.filter(case=case).exists():
                raise _Gone
            with case_scripts(case, user):
                outcome = workflow_deliver_message(
                    spec_for(case.version),
                    case.state.state,
                    name=name,
                    payload=data,
                    correlation=correlation,
                    every=every,
                    business_key=message.business_key,
                    case_business_key=case.business_key,
                )
            _audit_delivered(case, user, message)
            case_advance(case, outcome, actor=user)
    except (_Gone, MessageNotCaught):
        return False
    except MessageCatchersAmbiguous as exc:
        raise _ambiguous(name, "waiting elements of one case", exc.count) from None
    return True


def _audit_delivered(case: Case, user: Any, message: Message) -> None:
    case_audit(
        case,
        user,
        AuditAction.MESSAGE_DELIVERED,
        **message.about(),
        data=dict(message.data),
        **({"buffered": message.buffered} if message.buffered else {}),
    )


@transaction.atomic
def message_start_case(*, user: Any, version: ProcessVersion, message: Message) -> Case:
    """Start a case of `version` with the message its start event waits for.

    The case gets the message's business key (Camunda 7 starts the instance
    with the correlation's `processInstanceBusinessKey`).
    """
    name, correlation, data = message.name, message.correlation, message.data
    case = Case(version=version, started_by=user, business_key=message.business_key)
    return case_start_at_event(
        case,
        user,
        lambda: workflow_start_by_message(
            spec_for(version), name=name, payload=data, correlation=correlation
        ),
        data=dict(data),
        delivered=lambda case: _audit_delivered(case, user, message),
        audit={
            "message": name,
            **({"business_key": case.business_key} if case.business_key else {}),
        },
    )


def _not_correlated(message: Message) -> MessageNotCorrelated:
    parts = [f"business key '{message.business_key}'"] if message.business_key else []
    if message.case_id is not None:
        parts.insert(0, f"id {message.case_id}")
    if message.correlation:
        parts.append(f"correlation {dict(message.correlation)}")
    where = f" with {' and '.join(parts)}" if parts else ""
    return MessageNotCorrelated(
        f"No running case waits for the message '{message.name}'{where}, and no "
        "deployed process starts with it.",
        details=message.about(),
    )


def _ambiguous(name: str, what: str, count: int) -> MessageAmbiguous:
    return MessageAmbiguous(
        f"{count} {what} match the message '{name}'; narrow the correlation or "
        'send it with "all": true.',
        details={"name": name, "matches": count},
    )


def _message_starts(
    user: Any, message: Message, deliver_all: bool
) -> list[ProcessVersion]:
    """Return the versions the message starts a case of, if the user may start them.

    Raises:
        MessageAmbiguous: several processes start with it and not `deliver_all`.
        StartNotAllowed: the user may not start one of them.
    """
    versions = version_list_started_by(event="message", name=message.name)
    if len(versions) > 1 and not deliver_all:
        raise _ambiguous(
            message.name, "processes with a message start event", len(versions)
        )
    case_start_by_event_check(
        user=user, versions=versions, event=f"the message '{message.name}'"
    )
    return versions


def message_send_check(user: Any) -> None:
    """Raise ActionNotAllowed unless the user may send messages to cases."""
    if not user.has_perm(SEND_MESSAGE):
        raise ActionNotAllowed("You may not send messages to cases.")


def message_deliver(
    *,
    user: Any,
    name: str,
    correlation: Mapping[str, Any],
    data: Mapping[str, Any],
    deliver_all: bool = False,
    ttl_s: int = 0,
    idempotency_key: str | None = None,
    business_key: str = "",
    case_id: UUID | None = None,
) -> MessageResult:
    """Deliver a message to the case waiting for it, or start a case with it.

    As Camunda 7 correlates (`DefaultCorrelationHandler`): without
    `deliver_all` (`correlate()`), the one running case waiting for it gets
    it, and only when none waits is the one deployed process whose latest
    version has a message start event for `name` started; more than one match
    delivers to none. With `deliver_all` (`correlateAll()`), every matching
    case gets it and every such process starts a case (one per process),
    both. A `business_key` ("": none) narrows the waiting cases to those
    with that business key, and is the business key of every case the
    message starts (Camunda 7's `processInstanceBusinessKey`; REST
    `businessKey`). A `case_id` narrows the waiting cases to that one
    (`processInstanceId`; the start events are still looked at when it does
    not wait, as DefaultCorrelationHandler.correlateStartMessages ignores
    it). Each case gets the message in its own locked transaction. When
    neither, a message with `ttl_s` > 0 is kept that long for the first case
    that waits for it (`message_buffer`), and the result names it (`buffered`).

    A repeated `idempotency_key` (per user) with the same request returns the
    first result and delivers nothing again; the whole send then runs in one
    transaction, so a concurrent repeat waits for it.

    Raises:
        ActionNotAllowed: the user lacks `engine.send_message`.
        FormInvalid: an empty name, correlation keys that are not names, or a
            business key that is not a string or is too long.
        MessageNotCorrelated: no waiting case matches, no process starts, no ttl_s.
        MessageAmbiguous: several cases (or processes, or elements of one case)
            match and not `deliver_all`.
        StartNotAllowed: the message would start a case of a process the user
            may not start (`can_start`); nothing is delivered.
        IdempotencyKeyReused: the key was used for a different request.
        CaseBusy: a matching case stayed locked too long.
    """
    message_send_check(user)
    _check_input(name, correlation, business_key)
    message = Message(
        name, correlation, data, business_key=business_key, case_id=case_id
    )
    if not idempotency_key:
        return _deliver(user, message, deliver_all, ttl_s)
    fingerprint = body_fingerprint(
        {
            "name": name,
            "correlation": correlation,
            "data": data,
            "all": deliver_all,
            "ttl_s": ttl_s,
            # Only when given: a request without one keeps its fingerprint.
            **({"business_key": business_key} if business_key else {}),
            **({"case_id": str(case_id)} if case_id else {}),
        }
    )
    with transaction.atomic():
        earlier = _request_claim(user, idempotency_key, fingerprint)
        if earlier is not None:
            return MessageResult.from_dict(earlier.result)
        result = _deliver(user, message, deliver_all, ttl_s)
        MessageRequest.objects.filter(
            sender=user, idempotency_key=idempotency_key
        ).update(result=result.as_dict())
    return result


def message_keep(*, user: Any, message: Message, ttl_s: int) -> BufferedMessage:
    """Keep a message nobody waits for, for `ttl_s` seconds (inside a transaction)."""
    kept = BufferedMessage.objects.create(
        name=message.name,
        correlation=dict(message.correlation),
        data=dict(message.data),
        business_key=message.business_key,
        sender=user,
        expires_at=timezone.now() + timedelta(seconds=ttl_s),
    )
    audit_record(
        actor=user,
        action=AuditAction.MESSAGE_BUFFERED,
        payload={
            "buffered": str(kept.pk),
            **message.about(),
            "ttl_s": ttl_s,
            "expires_at": kept.expires_at.isoformat(),
        },
    )
    kept_id = kept.pk
    transaction.on_commit(lambda: _offer_later(kept_id))
    return kept


def _offer_later(kept_id: UUID) -> None:
    current_app.send_task(BUFFER_OFFER_TASK, args=[str(kept_id)])


def _request_claim(user: Any, key: str, fingerprint: str) -> MessageRequest | None:
    """Claim `key` for this request; return the earlier request if it had it.

    The insert waits on the unique index while another transaction holding the
    same key runs, then fails: its answer is replayed.
    """
    try:
        with transaction.atomic():
            MessageRequest.objects.create(
                sender=user, idempotency_key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        earlier = request_replayed(
            MessageRequest, sender=user, idempotency_key=key, fingerprint=fingerprint
        )
        if earlier is None:  # the conflict was not this key's
            raise
        return earlier
    return None


def _deliver(
    user: Any, message: Message, deliver_all: bool, ttl_s: int
) -> MessageResult:
    case_ids = message_case_ids(message)
    if len(case_ids) > 1 and not deliver_all:
        raise _ambiguous(message.name, "waiting cases", len(case_ids))
    # correlate(): the start events only when no case waits; correlateAll():
    # the waiting cases and the start events both (DefaultCorrelationHandler).
    # Whether the sender may start them is known before anything is delivered.
    starts = (
        _message_starts(user, message, deliver_all)
        if deliver_all or not case_ids
        else []
    )
    delivered = [
        case_id
        for case_id in case_ids
        if message_deliver_to_case(
            user=user, case_id=case_id, message=message, every=deliver_all
        )
    ]
    started = [
        message_start_case(user=user, version=v, message=message).pk for v in starts
    ]
    if delivered or started:
        return MessageResult(delivered=delivered, started=started)
    if ttl_s > 0:
        with transaction.atomic():
            kept = message_keep(user=user, message=message, ttl_s=ttl_s)
        return MessageResult(buffered=kept.pk)
    raise _not_correlated(message)
