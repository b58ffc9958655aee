"""Idempotency-Key: one key, one request, one effect (as payment APIs do).

A client that repeats a request with the same `Idempotency-Key` (per user) gets
the first answer again and nothing happens twice; the same key with a different
request body is refused (`IdempotencyKeyReused`, 422). Case starts keep the
digest on the case; signals and messages on their own request rows.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model

from .errors import IdempotencyKeyReused
from .models import Case


def body_fingerprint(body: Mapping[str, Any]) -> str:
    """Return a digest of what a request asks for (key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_fingerprint(*, key: str, data: Mapping[str, Any], business_key: str) -> str:
    """Return a digest of what a start request asks for: process, data, business key."""
    return body_fingerprint(
        {"process": key, "data": data, "business_key": business_key or ""}
    )


def key_reuse_check(*, idempotency_key: str, stored: str, fingerprint: str) -> None:
    """Refuse a key already used for a different request (`stored` "" is unknown).

    Raises:
        IdempotencyKeyReused: the stored digest differs from `fingerprint`.
    """
    if stored and stored != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request.",
            details={"idempotency_key": idempotency_key},
        )


_Request = TypeVar("_Request", bound=Model)


def request_replayed(
    model: type[_Request], *, sender: Any, idempotency_key: str, fingerprint: str
) -> _Request | None:
    """Return the request row (a message, signal or condition request) that
    `idempotency_key` recorded for `sender`, or None if it is unused.

    Raises:
        IdempotencyKeyReused: the key was used for a different request.
    """
    earlier = model._default_manager.filter(
        sender=sender, idempotency_key=idempotency_key
    ).first()
    if earlier is not None:
        key_reuse_check(
            idempotency_key=idempotency_key,
            stored=earlier.fingerprint,  # type: ignore[attr-defined]
            fingerprint=fingerprint,
        )
    return earlier


def case_replayed(*, user: Any, idempotency_key: str, fingerprint: str) -> Case | None:
    """Return the case `idempotency_key` started for `user`, or None if it is unused.

    Raises:
        IdempotencyKeyReused: the key started a case from a different request.
    """
    case = Case.objects.filter(started_by=user, idempotency_key=idempotency_key).first()
    if case is None:
        return None
    # Cases started before fingerprints were kept have none: nothing to compare.
    if case.request_fingerprint and case.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request.",
            details={"idempotency_key": idempotency_key, "case": str(case.pk)},
        )
    return case
