"""Broadcast signals to every waiting case, and start processes with them.

A signal (BPMN 2.0 §10.5.1) has no correlation and no single receiver: it
reaches every catch event, boundary event and event sub-process start waiting
for its name in every running case, and starts a case of every process whose
latest version has a signal start event for it. Cases are found through
`SignalSubscription` (indexed by name), rebuilt after every advance by the
`case_advanced` receiver here; each delivery runs in the case's own locked
transaction and is audited.

A signal thrown by a case (intermediate or end throw event) has already been
caught inside that case by SpiffWorkflow; the other cases get it through the
case outbox (engine.services.outbox, as the messages a case sends): a
`SignalOutbox` row written in the throwing transaction, and a Celery task
queued when it commits. Why a task and not a call in the same process: the
broadcast advances any number of cases, each under its own lock; inline, it
would hold up the request (or the worker) of the thrower for all of them. The
task broadcasts and deletes the row in one transaction (each case's delivery
a savepoint in it), so a signal reaches each case once: a thrower rolled back
never wrote the row, and a row the broker or a dying worker lost is
broadcast by the outbox sweep.

A waiting case another command holds longer than ENGINE_LOCK_TIMEOUT_MS is
not skipped (Camunda 7 retries a throw that conflicts, so a waiting catcher
never misses it): the broadcast writes it a `SignalDelivery` row with the
signal's data, in the broadcast's transaction, and that row is delivered
later by a task and the outbox sweep, once (the delivery deletes it). Only the
cases waiting at the broadcast get a row: a case that starts waiting later
does not get the signal (a signal reaches the subscriptions open when it is
thrown). A suspended case does not get it, as in Camunda 7.
"""

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from audit.actions import AuditAction
from engine.errors import (
    ActionNotAllowed,
    CaseBusy,
    CaseNotFound,
    CaseSuspended,
    FormInvalid,
)
from engine.idempotency import body_fingerprint, request_replayed
from engine.models import (
    Case,
    SignalBroadcast,
    SignalDelivery,
    SignalOutbox,
    SignalSubscription,
)
from engine.selectors import version_list_started_by
from engine.spec_cache import spec_for
from engine.spiff import (
    SignalNotCaught,
    workflow_deliver_signal,
    workflow_start_by_signal,
)
from processes.models import ProcessVersion

from .advance import case_advance, case_audit, case_lock
from .cases import case_start_at_event, case_start_by_event_check
from .outbox import outbox_enqueue, outbox_stale, outbox_take, outbox_write
from .script_host import case_scripts
from .timer_starts import system_user

SEND_SIGNAL = "engine.send_signal"
SIGNAL_TASK = "engine.signal_broadcast"  # queued before the outbox existed
SIGNAL_SEND_TASK = "engine.signal_outbox_send"
SIGNAL_DELIVERY_TASK = "engine.signal_delivery_send"


@dataclass(frozen=True, slots=True)
class SignalResult:
    """The cases a signal reached: `delivered` waited for it, `started` by it.

    `pending`: cases that waited for it but were busy (locked by another
    command); each gets it once, as soon as it is free.
    """

    delivered: list[UUID] = field(default_factory=list)
    started: list[UUID] = field(default_factory=list)
    pending: list[UUID] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        """Return the result as JSON (the API's answer)."""
        return {
            "delivered": [str(c) for c in self.delivered],
            "started": [str(c) for c in self.started],
            "pending": [str(c) for c in self.pending],
        }


def _deliver_one(*, actor: Any, case_id: UUID, name: str, data: Any) -> bool:
    try:
        with transaction.atomic():
            case = case_lock(case_id=case_id)
            if (
                not case.is_running
                or not case.signal_subscriptions.filter(name=name).exists()
            ):
                return False  # it stopped waiting before its lock was taken
            with case_scripts(case, actor):
                outcome = workflow_deliver_signal(
                    spec_for(case.version), case.state.state, name=name, payload=data
                )
            case_audit(
                case,
                actor,
                AuditAction.SIGNAL_DELIVERED,
                name=name,
                data=copy.deepcopy(data),
            )
            case_advance(case, outcome, actor=actor)
    except SignalNotCaught:
        return False
    return True


@transaction.atomic
def _start_one(*, actor: Any, version: ProcessVersion, name: str, data: Any) -> UUID:
    case = Case(version=version, started_by=actor or system_user())
    case_start_at_event(
        case,
        actor,
        lambda: workflow_start_by_signal(spec_for(version), name=name, payload=data),
        data=dict(data) if isinstance(data, Mapping) else {},
        delivered=lambda case: case_audit(
            case,
            actor,
            AuditAction.SIGNAL_DELIVERED,
            name=name,
            data=copy.deepcopy(data),
        ),
        audit={"signal": name},
    )
    return case.pk


def signal_broadcast(
    *,
    actor: Any,
    name: str,
    data: Any,
    source: UUID | None = None,
    broadcast: UUID | None = None,
    starts: list[ProcessVersion] | None = None,
) -> SignalResult:
    """Deliver a signal to every case waiting for it and start every process it starts.

    `source` is the case that threw the signal: it has caught it already.
    `broadcast` names this broadcast (a thrown signal's outbox row); a case
    busy now gets it once, later (`SignalDelivery`).
    `actor` None is the system (a signal thrown by a case). `data` is what the
    signal carries: an object of variables (the API's data, a throw event's
    `camunda:in`), or a SpiffArena payload of any JSON shape, or None.
    `starts`: the versions it starts a case of, when the caller read (and
    checked) them already; else every one with a signal start event for it.
    """
    waiting = SignalSubscription.objects.filter(
        name=name, case__status=Case.Status.RUNNING
    )
    if source is not None:
        waiting = waiting.exclude(case_id=source)
    case_ids = list(
        dict.fromkeys(
            waiting.order_by("case__started_at", "case_id").values_list(
                "case_id", flat=True
            )
        )
    )
    delivered, busy = [], []
    for case_id in case_ids:
        try:
            if _deliver_one(actor=actor, case_id=case_id, name=name, data=data):
                delivered.append(case_id)
        except CaseBusy:
            busy.append(case_id)  # held too long by another command: later
        except CaseSuspended:
            # Suspended since the query above (which takes running cases only):
            # it misses the signal, as in Camunda 7, whose broadcast triggers
            # the subscriptions of active executions only (camunda-bpm-platform
            # EventSubscription.xml, selectSignalEventSubscriptionsByEventName:
            # `EXC.SUSPENSION_STATE_ = 1`); resuming does not deliver it.
            continue
    broadcast = broadcast or uuid.uuid4()
    outbox_write(
        SignalDelivery,
        SIGNAL_DELIVERY_TASK,
        [
            SignalDelivery(
                case_id=case_id,
                broadcast=broadcast,
                name=name,
                payload=data,
                sent_by=actor,
            )
            for case_id in busy
        ],
    )
    if starts is None:
        starts = version_list_started_by(event="signal", name=name)
    started = [_start_one(actor=actor, version=v, name=name, data=data) for v in starts]
    return SignalResult(delivered=delivered, started=started, pending=busy)


def signal_send(
    *,
    user: Any,
    name: str,
    data: Mapping[str, Any],
    idempotency_key: str | None = None,
) -> SignalResult:
    """Broadcast a signal on behalf of `user` (POST /api/v1/signals/).

    A repeated `idempotency_key` (per user) returns the first answer and
    delivers nothing again.

    A signal that would start a case of a process the user may not start is
    refused whole, before anything is recorded or delivered (Camunda 7's
    SignalEventReceivedCmd checks every definition it starts first).

    Raises:
        ActionNotAllowed: the user lacks `engine.send_signal`.
        FormInvalid: an empty name.
        StartNotAllowed: it would start a case the user may not start.
        IdempotencyKeyReused: the key was used for a different name or data.
    """
    if not user.has_perm(SEND_SIGNAL):
        raise ActionNotAllowed("You may not send signals.")
    if not name.strip():
        raise FormInvalid(
            "The signal is not valid.",
            details={"fields": {"name": ["Give the signal name."]}},
        )
    starts = version_list_started_by(event="signal", name=name)
    case_start_by_event_check(user=user, versions=starts, event=f"the signal '{name}'")
    if not idempotency_key:
        return signal_broadcast(actor=user, name=name, data=data, starts=starts)
    fingerprint = body_fingerprint({"name": name, "data": data})
    try:
        with transaction.atomic():
            record = SignalBroadcast.objects.create(
                sender=user,
                idempotency_key=idempotency_key,
                name=name,
                fingerprint=fingerprint,
            )
    except IntegrityError:
        earlier = request_replayed(
            SignalBroadcast,
            sender=user,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        if earlier is None:  # the conflict was not this key's
            raise
        return SignalResult(
            delivered=[UUID(c) for c in earlier.result.get("delivered", [])],
            started=[UUID(c) for c in earlier.result.get("started", [])],
            pending=[UUID(c) for c in earlier.result.get("pending", [])],
        )
    result = signal_broadcast(actor=user, name=name, data=data, starts=starts)
    SignalBroadcast.objects.filter(pk=record.pk).update(result=result.as_dict())
    return result


def signal_outbox_send(*, outbox_id: UUID | str) -> SignalResult | None:
    """Broadcast one signal a case threw (system actor); return whom it reached.

    None when it is gone (broadcast already) or another worker holds it.
    """
    with outbox_take(SignalOutbox, outbox_id) as row:
        if row is None:
            return None
        return signal_broadcast(
            actor=None,
            name=row.name,
            data=row.payload,
            source=row.case_id,
            broadcast=row.pk,
        )


def signal_delivery_send(*, outbox_id: UUID | str) -> SignalResult | None:
    """Deliver a broadcast signal to the case that was busy when it was broadcast.

    None when it is gone (delivered already) or another worker holds it.

    Raises:
        CaseBusy: the case is still busy; the row stays for the outbox sweep.
    """
    with outbox_take(SignalDelivery, outbox_id) as row:
        if row is None:
            return None
        try:
            caught = _deliver_one(
                actor=row.sent_by, case_id=row.case_id, name=row.name, data=row.payload
            )
        except CaseSuspended:
            caught = False  # suspended meanwhile: it misses it (signal_broadcast)
        except CaseNotFound:
            caught = False  # deleted meanwhile
        return SignalResult(delivered=[row.case_id] if caught else [])


def signal_outbox_sweep(*, older_than: timedelta) -> list[UUID]:
    """Return the ids of thrown signals still not broadcast after `older_than`."""
    return outbox_stale(SignalOutbox, older_than=older_than)


def signal_outbox_enqueue(ids: list[UUID]) -> None:
    """Send the outbox rows to the worker queue (after the commit)."""
    outbox_enqueue(SIGNAL_SEND_TASK, ids)


def signal_delivery_sweep(*, older_than: timedelta) -> list[UUID]:
    """Return the ids of signals a busy case still has not got after `older_than`."""
    return outbox_stale(SignalDelivery, older_than=older_than)


def signal_delivery_enqueue(ids: list[UUID]) -> None:
    """Send the late deliveries to the worker queue (after the commit)."""
    outbox_enqueue(SIGNAL_DELIVERY_TASK, ids)


def case_signals_sync(sender: Any, advance: Any, **_: Any) -> None:
    """Rebuild a case's signal subscriptions; queue the signals it threw (receiver)."""
    case, outcome = advance.case, advance.outcome
    wanted = list(outcome.waiting_signals) if case.is_running else []
    current = advance.signal_subscriptions
    if current is None:  # not read by the advance
        current = SignalSubscription.objects.filter(case=case).values_list(
            "name", "bpmn_id"
        )
    if sorted(tuple(row) for row in current) != wanted:
        SignalSubscription.objects.filter(case=case).delete()
        SignalSubscription.objects.bulk_create(
            SignalSubscription(case=case, name=name, bpmn_id=bpmn_id)
            for name, bpmn_id in wanted
        )
    rows = [
        SignalOutbox(case=case, name=signal.name, payload=signal.payload)
        for signal in outcome.thrown_signals
        if signal.name  # a throw event naming no signal reaches nobody
    ]
    outbox_write(SignalOutbox, SIGNAL_SEND_TASK, rows)
