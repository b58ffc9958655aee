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

Texts are read back by `loads`: `json.loads`' value, by orjson's reader where
it makes the same (see `loads`). Nothing here is hashed: the audit chain's
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


# Every digit as "0": 19 of them in a row mark an integer literal orjson's
# reader would make a float (beyond 64 bits: 19 digits or more), or digits in
# a string or a long fraction, which `json.loads` reads just as well. (A
# regular expression's search takes ~50 ns a character; this, ~1.)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


def loads(text: str) -> Any:
    """Return `json.loads(text)`, by orjson's reader where it reads the same value.

    A step reads ~20 JSON texts (its rows' JSON columns, the state, its audit
    payloads): orjson reads a small one in ~1 µs against ~4. They differ on
    integers beyond 64 bits (orjson: a float; never read by it here), and on
    what orjson refuses and `json.loads` reads (NaN and the infinities, which
    `json.dumps` writes in a state; exponents beyond a float's range; lone
    surrogates escaped in a string): read by `json.loads`, as is all but a str.
    Anything else (floats, escapes, key order, a key given twice) reads alike.
    """
    if type(text) is str:
        data = text.encode(errors="surrogatepass")
        if _LONG_DIGITS not in data.translate(_DIGITS_AS_ZERO):
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:  # json.loads reads it, or raises
                pass
    return json.loads(text)
