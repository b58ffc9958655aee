"""Append audit events to their hash chain (the only write path of the audit log)."""

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from psycopg.types.json import Jsonb

from common import json_text
from common.sql import (
    Statement,
    default_connection,
    execute_together,
    insert_statement,
    insert_statements,
    instance_maker,
    writes_held,
)

from .actions import AuditAction
from .canonical import NOT_PLAIN, canonical_json, plain_kind
from .errors import AuditFilterInvalid
from .filters import (
    FILTER_FIELDS,
    AuditFilters,
    audit_filters_parse,
    audit_format_parse,
)
from .models import AuditChainHead, AuditEvent, uuid7

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
    if at.tzinfo is UTC and at.year >= 1000:  # the same text, without strftime
        return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SCALARS = (str, int, type(None))  # json.dumps writes them canonically (exact)


def canonical_form(values: dict[str, Any]) -> str:
    """Return the canonical JSON text that an event's hash covers."""
    return _canonical_of({name: values[name] for name in CANONICAL_FIELDS})


_SCALAR_TYPES = frozenset(_SCALARS)


def _canonical_of(doc: dict[str, Any]) -> str:
    """`canonical_form` of a new dict of exactly the canonical fields (changed
    here; its key order does not matter: the text's keys are sorted)."""
    doc["id"] = str(doc["id"])
    doc["case_id"] = str(doc["case_id"]) if doc["case_id"] else None
    doc["at"] = format_at(doc["at"])
    # The payload looked at alone: the other fields are scalars (plain_json's
    # walk of the whole event took a fifth of an audit_record).
    payload = doc.pop("payload")
    plain = (
        plain_kind(payload)
        if _SCALAR_TYPES.issuperset(map(type, doc.values()))
        else NOT_PLAIN
    )
    doc["payload"] = payload
    return canonical_json(doc, plain=plain)


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


_PAYLOAD_ENCODER = DjangoJSONEncoder()  # json.dumps(..., cls=...), made once


def _read_back(payload: dict[str, Any]) -> Any:
    """Return the payload as it is read back from its JSON (the stored payload
    hashes like the one read back): `json.loads(DjangoJSONEncoder().encode(payload))`.

    A plain one (JSON types only, exact; `plain_kind`) reads back as orjson's
    text of it does: the same value (tuples as lists, floats by their shortest
    form, which reads back exactly), in a few µs less; the others, and what
    orjson refuses (integers beyond 64 bits, lone surrogates), as said.
    """
    if plain_kind(payload) != NOT_PLAIN:
        try:
            return orjson.loads(orjson.dumps(payload))
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json_text.loads(_PAYLOAD_ENCODER.encode(payload))


def _actor_values(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


@dataclass
class _Batch:
    """The events of an `audit_batch`, and the head each chain has reached."""

    depth: int  # the atomic block the batch was opened in
    events: list[AuditEvent] = field(default_factory=list)  # not inserted yet
    rows: list[list[Any] | None] = field(default_factory=list)  # theirs (_row)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Events written at once from savepoints inside the batch, per chain; one
    # that rolled back is gone from the table (see _head).
    through: dict[str, list[AuditEvent]] = field(default_factory=dict)


_BATCH_ATTR = "laneway_audit_batch"


def _open_batch() -> "_Batch | None":
    return getattr(default_connection(), _BATCH_ATTR, None)


@contextmanager
def audit_batch(*, new_case: uuid.UUID | None = None) -> Iterator[None]:
    """Insert the events recorded inside in one statement (and their heads in one).

    For a command that records several events (a task completed, the steps the
    engine ran, the tasks it opened): each event is still chained and hashed when
    it is recorded, from the chain's head read once, under the lock the chain's
    writers hold; the rows go in when the block ends. An error discards them
    with the transaction. An event recorded in a savepoint opened inside the
    block is written at once, chained after the buffered ones; if that savepoint
    rolls back, the chain goes on from where it was before. Nested blocks join
    the outer one. `new_case` names a case created in this transaction: its chain
    starts at the genesis hash without a look.
    """
    db = default_connection()
    assert db.in_atomic_block, "audit_batch must run inside transaction.atomic()"
    if getattr(db, _BATCH_ATTR, None) is not None:
        yield
        return
    batch = _Batch(depth=len(db.atomic_blocks))
    if new_case is not None:
        batch.heads[chain_for_case(new_case)] = (0, GENESIS_HASH)
    setattr(db, _BATCH_ATTR, batch)
    try:
        with writes_held():  # the command's other writes can go with its events
            yield
            _flush(batch)
    finally:
        setattr(db, _BATCH_ATTR, None)


def _flush(batch: _Batch) -> None:
    chains = dict.fromkeys([*(e.chain for e in batch.events), *batch.through])
    heads = []
    for chain in chains:
        seq, digest = _head(chain, batch)
        if batch.through.get(chain) or any(e.chain == chain for e in batch.events):
            heads.append((chain, seq, digest))
    written = insert_statements(AuditEvent, batch.events, rows=batch.rows)
    if heads:
        written.append(_heads_statement(heads))
    execute_together(written)  # the events and their heads in one round trip
    for event in batch.events:
        event._state.adding = False
    batch.events, batch.rows, batch.heads, batch.through = [], [], {}, {}


def _head(chain: str, batch: _Batch | None) -> tuple[int, str]:
    """Return the (seq, hash) the chain's next event follows."""
    written = batch.through.get(chain) if batch is not None else None
    if written:  # those of a savepoint that rolled back are gone (a suffix)
        present = set(
            AuditEvent.objects.filter(pk__in=[e.pk for e in written]).values_list(
                "pk", flat=True
            )
        )
        written[:] = [e for e in written if e.pk in present]
        if written:
            return written[-1].chain_seq, written[-1].hash
    if batch is not None and chain in batch.heads:
        return batch.heads[chain]
    _lock_chain(chain)
    last = (
        AuditEvent.objects.filter(chain=chain)
        .order_by("-chain_seq")
        .values_list("chain_seq", "hash")
        .first()
    )
    if batch is not None:
        batch.heads[chain] = last or (0, GENESIS_HASH)
    return last or (0, GENESIS_HASH)


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

    Inside `audit_batch` the row is inserted when the batch ends.

    Raises:
        AssertionError: when called outside a transaction.
    """
    db = default_connection()
    assert db.in_atomic_block, "audit_record must run inside transaction.atomic()"
    batch: _Batch | None = getattr(db, _BATCH_ATTR, None)
    chain = chain_for_case(case_id)
    last_seq, last_hash = _head(chain, batch)
    actor_id, actor_repr = _actor_values(actor)
    if case_id and type(case_id) is not uuid.UUID:
        case_id = uuid.UUID(str(case_id))
    event_id, at, stored = uuid7(), timezone.now(), _read_back(payload or {})
    values: dict[str, Any] = {
        "id": event_id,
        "chain": chain,
        "chain_seq": last_seq + 1,
        "at": at,
        "actor_id": actor_id,
        "actor_repr": actor_repr,
        "on_behalf_of": on_behalf_of,
        "action": str(action),
        "case_id": case_id or None,
        "process_key": process_key,
        "version_id": version_id,
        "task_ref": task_ref,
        "payload": stored,
        "prev_hash": last_hash,
    }
    values["hash"] = event_hash(last_hash, _canonical_of(dict(values)))
    event = _new_event(values)
    if batch is None:
        execute_together(
            [
                insert_statement(AuditEvent, [event]),
                _heads_statement([(chain, event.chain_seq, event.hash)]),
            ]
        )
        event._state.adding = False
    elif batch.depth == len(db.atomic_blocks):
        batch.events.append(event)
        batch.rows.append(_row(values))
        batch.heads[chain] = (event.chain_seq, event.hash)
        batch.through.pop(chain, None)  # their savepoints have ended: they stay
    else:  # in a savepoint inside the batch: written now, its head at the end
        event.save()
        batch.through.setdefault(chain, []).append(event)
    return event


_EVENT_FIELDS = tuple(f.attname for f in AuditEvent._meta.concrete_fields)
_new_event_made = instance_maker(AuditEvent)


def _new_event(values: dict[str, Any]) -> AuditEvent:
    event: AuditEvent = _new_event_made([values[name] for name in _EVENT_FIELDS])
    return event


_STR, _UUID, _INT, _NONE = str, uuid.UUID, int, type(None)
# Each field's value types whose prepared value (`common.sql._values`: what the
# insert sends) `_row` knows: as it is, or (ints) wrapped as Django wraps them.
_ROW_TYPES = {
    "id": (_UUID,),
    "chain": (_STR,),
    "chain_seq": (_INT,),
    "at": (datetime,),
    "actor_id": (_INT, _NONE),
    "actor_repr": (_STR,),
    "on_behalf_of": (_STR,),
    "action": (_STR,),
    "case_id": (_UUID, _NONE),
    "process_key": (_STR,),
    "version_id": (_INT, _NONE),
    "task_ref": (_STR,),
    "prev_hash": (_STR,),
    "hash": (_STR,),
}
_INTEGERS = ("chain_seq", "actor_id", "version_id")


def _row(values: dict[str, Any]) -> list[Any] | None:
    """Return the event's values as the insert sends them (PostgreSQL: the
    payload as `common.sql` sends a JSON field's); None when unsure (the insert
    then prepares them from the event)."""
    ops = default_connection().ops
    known = _PLAN
    if known[0] is not type(ops):
        known = _plan_known(ops)
    plan = known[1]
    if plan is None or values["at"].utcoffset() is None:
        return None
    row = []
    for name, types, wrap in plan:
        value = values[name]
        if types is None:  # the payload
            row.append(Jsonb(value, dumps=json_text.jsonb_dumps))
        elif type(value) not in types:
            return None
        else:
            row.append(value if wrap is None or value is None else wrap(value))
    return row


_Plan = list[tuple[str, tuple[type, ...] | None, Any]]
_PLAN: tuple[Any, _Plan | None] = (None, None)  # (ops class, plan)


def _plan_known(ops: Any) -> tuple[Any, _Plan | None]:
    """Keep `_row`'s plan: each field's name, value types (None: the payload)
    and how Django's PostgreSQL backend wraps its value (None elsewhere)."""
    global _PLAN
    wraps = getattr(ops, "integerfield_type_map", {})
    plan: _Plan | None = [
        (
            name,
            _ROW_TYPES.get(name),
            wraps.get(type(AuditEvent._meta.get_field(name)).__name__, False)
            if name in _INTEGERS
            else None,
        )
        for name in _EVENT_FIELDS
    ]
    vendor = ops.connection.vendor
    if vendor != "postgresql" or any(wrap is False for _, _, wrap in plan or ()):
        plan = None
    _PLAN = (type(ops), plan)
    return _PLAN


def _heads_statement(heads: list[tuple[str, int, str]]) -> Statement:
    # One upsert under the lock the chains' writers already hold (see _lock_chain).
    return insert_statement(
        AuditChainHead,
        [
            AuditChainHead(chain=chain, chain_seq=seq, hash=digest)
            for chain, seq, digest in heads
        ],
        update_conflicts=("chain_seq", "hash"),
        unique_fields=("chain",),
    )


def case_chain_head(case_field: str) -> dict[str, Subquery]:
    """Return annotations reading the head of the chain of the case in `case_field`.

    For the statement that loads what a command works on under its case's lock
    (the head only moves under that lock): hand the two values to
    `audit_chain_head_known`, and the command's events need no read of their own.
    """
    chain = Concat(
        Value("case:"), Cast(OuterRef(case_field), output_field=models.CharField())
    )
    heads = AuditChainHead.objects.filter(chain=chain)
    return {
        "audit_head_seq": Subquery(heads.values("chain_seq")[:1]),
        "audit_head_hash": Subquery(heads.values("hash")[:1]),
    }


def audit_chain_head_known(
    case_id: uuid.UUID | str, seq: int | None, digest: str | None
) -> None:
    """Give the open `audit_batch` the head of a case's chain read under its lock.

    Nothing without a batch, or without a head row (a chain older than the head
    table: the batch reads the events then).
    """
    batch = _open_batch()
    if batch is not None and seq is not None and digest is not None:
        batch.heads.setdefault(chain_for_case(case_id), (seq, digest))


def _export_recorded(
    *, user: Any, fmt: str, query: Mapping[str, Any], errors: Mapping[str, str]
) -> AuditEvent:
    payload: dict[str, Any] = {"format": fmt, "filters": dict(query)}
    payload["outcome"] = "rejected" if errors else "started"
    if errors:
        payload["errors"] = dict(errors)
    with transaction.atomic():
        return audit_record(
            actor=user, action=AuditAction.AUDIT_EXPORTED, payload=payload
        )


def audit_export_start(
    *, user: Any, params: Mapping[str, Any]
) -> tuple[AuditFilters, str]:
    """Read an export request's filters and format and record it as `audit.exported`.

    A rejected request is recorded too (outcome "rejected", with the raw filters
    and the errors) before the error propagates.

    Raises:
        AuditFilterInvalid: naming each bad filter (or the format).
    """
    fmt_raw = str(params.get("format") or "jsonl")
    try:
        fmt = audit_format_parse(fmt_raw)
        filters = audit_filters_parse(params)
    except AuditFilterInvalid as exc:
        raw = {k: str(params[k])[:300] for k in (*FILTER_FIELDS,) if params.get(k)}
        _export_recorded(user=user, fmt=fmt_raw[:20], query=raw, errors=exc.errors)
        raise
    _export_recorded(user=user, fmt=fmt, query=filters.as_query(), errors={})
    return filters, fmt


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
    """Append a checkpoint to the system chain: heads of chains changed since the last.

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
