"""Read the audit log: filtered listings, streaming export and chain verification."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import IntegerField, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse

from .actions import AuditAction
from .filters import AuditFilters
from .models import AuditChainHead, AuditEvent
from .services import (
    CANONICAL_FIELDS,
    CHECKPOINT_ACTION,
    GENESIS_HASH,
    SYSTEM_CHAIN,
    canonical_form,
    chain_for_case,
    event_hash,
)


@dataclass(frozen=True, slots=True)
class BrokenEvent:
    chain: str
    chain_seq: int | None
    event_id: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "chain_seq": self.chain_seq,
            "event_id": self.event_id,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """Every broken event of every chain (empty when the log is intact)."""

    events_checked: int
    chains_checked: int
    broken: tuple[BrokenEvent, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "chains_checked": self.chains_checked,
            "broken_count": len(self.broken),
            "first_broken": self.broken[0].as_dict() if self.broken else None,
            "broken": [b.as_dict() for b in self.broken],
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


def audit_called_version_ids(*, case_ids: Any) -> list[int]:
    """Return the ids of the called versions the cases' call activities started.

    `case_ids` is a list or a queryset of case ids; the ids come from the
    `call.started` events (engine.services.advance), whose `version_id` is the
    called version's.
    """
    events = AuditEvent.objects.filter(
        action=AuditAction.CALL_STARTED, case_id__in=case_ids
    )
    found = events.values_list("payload__version_id", flat=True).distinct()
    return sorted({int(v) for v in found if isinstance(v, int)})


def audit_called_version_id_query(*, case_ids: Any) -> QuerySet[AuditEvent]:
    """Return `audit_called_version_ids` as a query of one column (`called_id`),
    for a caller to filter by in the same database round trip."""
    events = AuditEvent.objects.filter(
        action=AuditAction.CALL_STARTED, case_id__in=case_ids
    )
    version_id = Cast(KT("payload__version_id"), IntegerField())
    return events.annotate(called_id=version_id).values("called_id")


def _check_event(event: AuditEvent, expected_prev: str, expected_seq: int) -> str:
    problems = []
    if event.chain_seq != expected_seq:
        problems.append(
            f"expected sequence {expected_seq}, found {event.chain_seq}"
            " (events missing before it)"
        )
    if event.prev_hash != expected_prev:
        problems.append("prev_hash does not match the previous event's hash")
    values = {name: getattr(event, name) for name in CANONICAL_FIELDS}
    if event_hash(event.prev_hash, canonical_form(values)) != event.hash:
        problems.append("hash does not match the event's content")
    return "; ".join(problems)


class _ChainWalk:
    """Walk one chain in order; keep going after a break so every break is found."""

    def __init__(self, chain: str, head: tuple[int, str] | None) -> None:
        self.chain, self.prev, self.seq, self.last_id = chain, GENESIS_HASH, 0, ""
        self.head, self.hash_at_head = head, ""

    def step(self, event: AuditEvent) -> BrokenEvent | None:
        reason = _check_event(event, self.prev, self.seq + 1)
        # Continue from what is stored, so one change is reported once.
        self.prev, self.seq, self.last_id = event.hash, event.chain_seq, str(event.id)
        if self.head and event.chain_seq == self.head[0]:
            self.hash_at_head = event.hash
        if not reason:
            return None
        return BrokenEvent(self.chain, event.chain_seq, str(event.id), reason)

    def end(self) -> BrokenEvent | None:
        # Events after the head may be appends made while verifying: they are fine.
        if self.head is None:
            reason = "no head is recorded for this chain"
        elif self.head[0] > self.seq:
            reason = (
                f"the head records #{self.head[0]}: "
                f"events after #{self.seq} are missing"
            )
        elif self.hash_at_head != self.head[1]:
            reason = (
                f"the head records #{self.head[0]} with another hash: "
                "the tail was changed"
            )
        else:
            return None
        return BrokenEvent(self.chain, self.seq, self.last_id, reason)


def _heads() -> dict[str, tuple[int, str]]:
    return {
        chain: (seq, digest)
        for chain, seq, digest in AuditChainHead.objects.values_list(
            "chain", "chain_seq", "hash"
        )
    }


def _walk_chains(heads: dict[str, tuple[int, str]]) -> Iterator[BrokenEvent | int]:
    # Yields each broken event, and 1 per event checked; pops the heads it meets.
    walk = None
    events = AuditEvent.objects.order_by("chain", "chain_seq").iterator(chunk_size=2000)
    for event in events:
        if walk is None or event.chain != walk.chain:
            if walk is not None:
                yield from filter(None, [walk.end()])
            walk = _ChainWalk(event.chain, heads.pop(event.chain, None))
        yield from filter(None, [walk.step(event)])
        yield 1
    if walk is not None:
        yield from filter(None, [walk.end()])


def audit_verify() -> ChainVerification:
    """Recompute every chain, compare each with its recorded head and the checkpoints.

    Returns every broken event of every chain, not only the first.
    """
    if connection.in_atomic_block or connection.vendor != "postgresql":
        return _verify_all()  # the caller's transaction decides what it sees
    with transaction.atomic():
        # Heads and events as of one moment: a chain created meanwhile would
        # otherwise have no head yet.
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify_all()


def _verify_all() -> ChainVerification:
    heads = _heads()
    chains = len(heads)
    broken: list[BrokenEvent] = []
    checked = 0
    for item in _walk_chains(heads):
        if isinstance(item, BrokenEvent):
            broken.append(item)
        else:
            checked += item
    for chain, (seq, _) in sorted(heads.items()):  # heads whose chain is gone
        reason = f"the head records #{seq} but the chain has no events"
        broken.append(BrokenEvent(chain, seq, "", reason))
    broken += _verify_checkpoints()
    return ChainVerification(checked, chains, tuple(broken))


def _verify_checkpoints() -> list[BrokenEvent]:
    broken = []
    checkpoints = AuditEvent.objects.filter(
        chain=SYSTEM_CHAIN, action=CHECKPOINT_ACTION
    )
    for checkpoint in checkpoints.order_by("chain_seq").iterator(chunk_size=100):
        for chain, (seq, digest) in checkpoint.payload.get("heads", {}).items():
            if not AuditEvent.objects.filter(
                chain=chain, chain_seq=seq, hash=digest
            ).exists():
                reason = (
                    f"checkpoint #{checkpoint.chain_seq} recorded {chain} #{seq}, "
                    "which is missing or changed"
                )
                broken.append(BrokenEvent(chain, seq, str(checkpoint.id), reason))
    return broken


def _head_records(chains: QuerySet[AuditChainHead]) -> Iterator[dict[str, Any]]:
    rows = chains.order_by("chain").values_list("chain", "chain_seq", "hash")
    for chain, seq, digest in rows.iterator(chunk_size=2000):
        yield {"record": "chain_head", "chain": chain, "chain_seq": seq, "hash": digest}


def _version_records(case_id: Any) -> Iterator[AuditEvent | dict[str, Any]]:
    version_ids = (
        AuditEvent.objects.filter(case_id=case_id, version_id__isnull=False)
        .values_list("version_id", flat=True)
        .distinct()
    )
    deployed = AuditEvent.objects.filter(
        action=AuditAction.PROCESS_DEPLOYED, version_id__in=list(version_ids)
    ).order_by("chain_seq")
    for event in deployed:
        key, number = event.payload.get("key"), event.payload.get("version")
        yield event
        yield {
            "record": "process_version",
            "version_id": event.version_id,
            "key": key,
            "version": number,
            "checksum": event.payload.get("checksum"),
            "file": event.payload.get("file"),
            "original_xml": reverse("api-version-xml", args=[key, number]),
        }


def audit_export_records(
    filters: AuditFilters,
) -> Iterator[AuditEvent | dict[str, Any]]:
    """Yield what an export holds besides the matching events (JSON Lines only).

    An export of one whole case (only the case filter) is self-contained: with its
    events come the case chain's head, the deployment event of its process
    version(s) with the checksum and a line with the address of the original XML.
    An export without filters holds every chain's head. Heads are read before the
    events, so events appended while the export streams follow their head.
    """
    heads = AuditChainHead.objects.all()
    if filters.case and filters == AuditFilters(case=filters.case):
        yield from _head_records(heads.filter(chain=chain_for_case(filters.case)))
        yield from _version_records(filters.case)
    elif filters == AuditFilters():
        yield from _head_records(heads)
