"""Append audit events to their hash chain (the only write path of the audit log)."""

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from .actions import AuditAction
from .models import AuditEvent

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"
CANONICAL_FIELDS = (
    "id",
    "chain",
    "chain_seq",
    "at",
    "actor_id",
    "actor_repr",
    "on_behalf_of",
    "action",
    "case_id",
    "process_key",
    "version_id",
    "task_ref",
    "payload",
    "prev_hash",
)


def chain_for_case(case_id: uuid.UUID | str | None) -> str:
    """Return the chain name that events of this case (or of no case) belong to."""
    return f"case:{case_id}" if case_id else SYSTEM_CHAIN


def format_at(at: datetime) -> str:
    """Return the canonical UTC ISO-8601 form, always with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_form(values: dict[str, Any]) -> str:
    """Return the canonical JSON text that an event's hash covers."""
    doc = {name: values[name] for name in CANONICAL_FIELDS}
    doc["id"] = str(doc["id"])
    doc["case_id"] = str(doc["case_id"]) if doc["case_id"] else None
    doc["at"] = format_at(doc["at"])
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def event_hash(prev_hash: str, canonical: str) -> str:
    """Return sha256(prev_hash + canonical) as hex."""
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _lock_chain(chain: str) -> None:
    # Case chains are serialised by the case row lock their writers hold
    # (ARCHITECTURE §4); the system chain has no row, so it takes an advisory
    # lock. SQLite (quick start only) serialises all writers with BEGIN IMMEDIATE.
    if chain == SYSTEM_CHAIN and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [chain])


def _actor_values(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def audit_record(
    *,
    actor: Any,
    action: AuditAction,
    case_id: uuid.UUID | str | None = None,
    process_key: str = "",
    version_id: int | None = None,
    task_ref: str = "",
    payload: dict[str, Any] | None = None,
    on_behalf_of: str = "",
) -> AuditEvent:
    """Append one event to its chain; call inside the transaction of the change.

    Raises:
        AssertionError: when called outside a transaction.
    """
    assert connection.in_atomic_block, (
        "audit_record must run inside transaction.atomic()"
    )
    chain = chain_for_case(case_id)
    _lock_chain(chain)
    last = (
        AuditEvent.objects.filter(chain=chain)
        .order_by("-chain_seq")
        .only("chain_seq", "hash")
        .first()
    )
    actor_id, actor_repr = _actor_values(actor)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "chain": chain,
        "chain_seq": last.chain_seq + 1 if last else 1,
        "at": timezone.now(),
        "actor_id": actor_id,
        "actor_repr": actor_repr,
        "on_behalf_of": on_behalf_of,
        "action": str(action),
        "case_id": uuid.UUID(str(case_id)) if case_id else None,
        "process_key": process_key,
        "version_id": version_id,
        "task_ref": task_ref,
        # Round-trip through JSON so the stored payload hashes like the one read back.
        "payload": json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder)),
        "prev_hash": last.hash if last else GENESIS_HASH,
    }
    values["hash"] = event_hash(values["prev_hash"], canonical_form(values))
    event = AuditEvent(**values)
    event.save()
    return event


def audit_export_recorded(
    *, user: Any, fmt: str, filters: dict[str, Any]
) -> AuditEvent:
    """Record that an export was performed (on the system chain)."""
    with transaction.atomic():
        return audit_record(
            actor=user,
            action=AuditAction.AUDIT_EXPORTED,
            payload={
                "format": fmt,
                "filters": {k: str(v) for k, v in filters.items() if v},
            },
        )


CHECKPOINT_ACTION = AuditAction.AUDIT_CHECKPOINT


def _heads_since(since: datetime | None) -> dict[str, list[Any]]:
    changed = AuditEvent.objects.exclude(chain=SYSTEM_CHAIN)
    if since is not None:
        changed = changed.filter(at__gte=since)
    heads: dict[str, list[Any]] = {}
    for row in (
        changed.values("chain").annotate(seq=models.Max("chain_seq")).order_by("chain")
    ):
        heads[row["chain"]] = [row["seq"], None]
    for chain, seq, digest in AuditEvent.objects.filter(
        chain__in=list(heads), chain_seq__in={h[0] for h in heads.values()}
    ).values_list("chain", "chain_seq", "hash"):
        if heads[chain][0] == seq:
            heads[chain][1] = digest
    return heads


def audit_checkpoint() -> AuditEvent:
    """Append a checkpoint to the system chain: the heads of every chain changed since the last.

    A checkpoint makes truncating or rewriting the tail of any chain detectable.
    """
    with transaction.atomic():
        _lock_chain(SYSTEM_CHAIN)
        last = (
            AuditEvent.objects.filter(chain=SYSTEM_CHAIN, action=CHECKPOINT_ACTION)
            .order_by("-chain_seq")
            .only("at")
            .first()
        )
        heads = _heads_since(last.at if last else None)
        return audit_record(
            actor=None,
            action=CHECKPOINT_ACTION,
            payload={"heads": heads, "chains": len(heads)},
        )
