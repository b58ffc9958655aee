"""Read the audit log: filtered listings, streaming export and chain verification."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from .models import AuditEvent
from .services import (
    CANONICAL_FIELDS,
    CHECKPOINT_ACTION,
    GENESIS_HASH,
    SYSTEM_CHAIN,
    canonical_form,
    event_hash,
)


@dataclass(frozen=True, slots=True)
class ChainVerification:
    ok: bool
    events_checked: int
    chain: str = ""
    chain_seq: int | None = None
    event_id: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "first_broken": None
            if self.ok
            else {
                "chain": self.chain,
                "chain_seq": self.chain_seq,
                "event_id": self.event_id,
                "reason": self.reason,
            },
        }


def audit_list(
    *,
    case_id: str | None = None,
    process_key: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Return audit events matching the filters, oldest first."""
    qs = AuditEvent.objects.all()
    if case_id:
        qs = qs.filter(case_id=case_id)
    if process_key:
        qs = qs.filter(process_key=process_key)
    if actor:
        qs = qs.filter(actor_repr=actor)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("at", "chain", "chain_seq")


def audit_list_for_case(*, case_id: Any) -> QuerySet[AuditEvent]:
    """Return the timeline of one case, in chain order."""
    return AuditEvent.objects.filter(case_id=case_id).order_by("chain_seq")


def _check_event(event: AuditEvent, expected_prev: str, expected_seq: int) -> str:
    if event.chain_seq != expected_seq:
        return f"expected sequence {expected_seq}, found {event.chain_seq}"
    if event.prev_hash != expected_prev:
        return "prev_hash does not match the previous event's hash"
    values = {name: getattr(event, name) for name in CANONICAL_FIELDS}
    if event_hash(event.prev_hash, canonical_form(values)) != event.hash:
        return "hash does not match the event's content"
    return ""


def audit_verify() -> ChainVerification:
    """Recompute every chain and return OK or the first broken event."""
    checked = 0
    chain, prev, seq = None, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("chain", "chain_seq").iterator(
        chunk_size=2000
    ):
        if event.chain != chain:
            chain, prev, seq = event.chain, GENESIS_HASH, 0
        seq += 1
        reason = _check_event(event, prev, seq)
        checked += 1
        if reason:
            return ChainVerification(
                ok=False,
                events_checked=checked,
                chain=event.chain,
                chain_seq=event.chain_seq,
                event_id=str(event.id),
                reason=reason,
            )
        prev = event.hash
    return _verify_checkpoints(checked)


def _verify_checkpoints(checked: int) -> ChainVerification:
    checkpoints = AuditEvent.objects.filter(
        chain=SYSTEM_CHAIN, action=CHECKPOINT_ACTION
    )
    for checkpoint in checkpoints.order_by("chain_seq").iterator(chunk_size=100):
        for chain, (seq, digest) in checkpoint.payload.get("heads", {}).items():
            if not AuditEvent.objects.filter(
                chain=chain, chain_seq=seq, hash=digest
            ).exists():
                return ChainVerification(
                    ok=False,
                    events_checked=checked,
                    chain=chain,
                    chain_seq=seq,
                    event_id=str(checkpoint.id),
                    reason=f"checkpoint #{checkpoint.chain_seq} recorded {chain} #{seq}, "
                    "which is missing or changed",
                )
    return ChainVerification(ok=True, events_checked=checked)


def audit_iter_for_export(**filters: Any) -> Iterator[AuditEvent]:
    """Yield matching events in chunks so an export runs in constant memory."""
    yield from audit_list(**filters).iterator(chunk_size=2000)
