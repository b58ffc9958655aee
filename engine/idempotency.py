"""Idempotent case starts: one key, one request, one case (as payment APIs do)."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import IdempotencyKeyReused
from .models import Case


def request_fingerprint(*, key: str, data: Mapping[str, Any], business_key: str) -> str:
    """Return a digest of what a start request asks for: process, data, business key."""
    canonical = json.dumps(
        {"process": key, "data": data, "business_key": business_key or ""},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


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
