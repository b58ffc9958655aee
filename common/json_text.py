"""JSON text for the hot path's writes, by orjson where it stores the same value
as the standard library.

orjson writes a step's ~4 KB case state in ~2 µs where `json.dumps` takes ~40
(escaping every string to ASCII), and a small `jsonb` value in a fraction of a
µs against 2-3. Its text differs in form only (no spaces after separators,
UTF-8 instead of `\\uXXXX` escapes), except where it would store another value
or none, which `dumps` hands back to `json.dumps` (None):

- NaN and the infinities: orjson writes `null`; `json.dumps` writes `NaN` and
  `Infinity`, which PostgreSQL's `jsonb` refuses (the command fails) and the
  state's reader restores. So the text is refused when it holds more `null`s
  than the caller knows the value has (`nulls`);
- integers beyond 64 bits and object keys that are not strings (which
  `json.dumps` writes as strings): orjson refuses them;
- datetimes and dataclasses, which orjson would write and `json.dumps` refuses:
  handed to `default`, which refuses them. UUIDs and enums orjson writes (as
  text, as their value) with no such hook: where `json.dumps` would refuse
  one, its text is stored instead. The values written here (the adapter's
  state and data, parsed task fields, audit payloads read back from JSON) are
  plain JSON already.

Texts are read back by `json.loads`, as before (orjson's reader would make an
integer beyond 64 bits a float). Nothing here is hashed: the audit chain's
canonical text is `audit.canonical`'s, unchanged.
"""

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def dumps(value: Any, *, nulls: int = 0) -> str | None:
    """Return orjson's JSON text of `value`, or None where it would not store what
    `json.dumps` stores (see the module's docstring).

    `nulls`: how many `null`s the value is known to hold (its Nones); a text
    with more (a NaN or an infinity written as null) is refused.
    """
    try:
        text = orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: what json.dumps writes otherwise
        return None
    if text.count(b"null") > nulls:
        return None
    return text.decode()


def jsonb_dumps(value: Any) -> str:
    """`json.dumps` for psycopg's `Jsonb` of a JSON field without an encoder:
    orjson's text when it holds no `null` (a None, or a NaN it would hide)."""
    text = dumps(value)
    return text if text is not None else json.dumps(value)
