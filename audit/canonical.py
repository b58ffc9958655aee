"""The canonical JSON text an audit hash covers (README, "Auditing").

It is Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))`
(ASCII only, so astral characters are written as their UTF-16 escape pair)
with two changes that make it survive PostgreSQL's `jsonb`, which keeps a
number's decimal value but not its notation:

- a float of magnitude 1e16 or more (always integral) is written as the
  integer its shortest decimal form denotes (`1e16` -> `10000000000000000`,
  `1.5e300` -> `15` and 299 zeros), which is how PostgreSQL hands it back;
- negative zero is written as `0.0` (PostgreSQL has no negative zero).

Every other number keeps Python's shortest round-trip form (`0.1`, `1e-300`,
`1.0`), integers of any size their digits. The encoder is iterative: any
nesting depth hashes.
"""

import json
import math
from decimal import Decimal
from typing import Any

import orjson

_BIG = 1e16


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"JSON has no {number!r}.")
    if number == 0:
        return "0.0"
    if abs(number) >= _BIG:  # always integral; the digits of its shortest decimal
        return str(int(Decimal(repr(number))))
    return repr(number)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    raise TypeError(f"Not a JSON value: {type(value).__name__}.")


def _children(value: dict | list | tuple) -> list[tuple[bool, Any]]:
    if isinstance(value, dict):
        items: list[tuple[bool, Any]] = [(True, "{")]
        for index, key in enumerate(sorted(value)):
            sep = "," if index else ""
            items += [(True, f"{sep}{json.dumps(key)}:"), (False, value[key])]
        return [*items, (True, "}")]
    items = [(True, "[")]
    for index, element in enumerate(value):
        items += [(True, ",")] if index else []
        items.append((False, element))
    return [*items, (True, "]")]


_PLAIN = (str, int, bool, type(None))  # written by json.dumps as canonical_json does
_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
# plain_kind's answers: json.dumps writes the value as canonical_json does
# (PLAIN), and it holds no float either (NO_FLOAT).
NOT_PLAIN, PLAIN, NO_FLOAT = 0, 1, 2


def plain_kind(value: Any) -> int:
    """Return NO_FLOAT, PLAIN or NOT_PLAIN (see `plain_json`)."""
    kind = NO_FLOAT
    todo = [value]
    while todo:
        item = todo.pop()
        kind_of = type(item)
        if kind_of is dict:
            if not all(type(key) is str for key in item):
                return NOT_PLAIN
            todo.extend(item.values())
        elif kind_of is list or kind_of is tuple:
            todo.extend(item)
        elif kind_of is float:
            if not -_BIG < item < _BIG or (item == 0 and math.copysign(1, item) < 0):
                return NOT_PLAIN  # NaN fails the comparison too
            kind = PLAIN
        elif kind_of not in _PLAIN:
            return NOT_PLAIN
    return kind


def plain_json(value: Any) -> bool:
    """Return whether json.dumps writes the value as canonical_json does.

    Every key a str, and no number but integers and the floats whose shortest
    form `_number` keeps (finite, below 1e16, not negative zero: json.dumps
    writes `float.__repr__`). Such a value's canonical JSON is `json.dumps`'
    (the C encoder: much less Python per event); exact types only (a subclass
    may write itself otherwise).
    """
    return plain_kind(value) != NOT_PLAIN


# The bytes orjson and json.dumps (ASCII only) write alike: the printable ASCII
# characters, every other one (a control character) escaped by both in the same
# way. DEL (0x7f) json.dumps escapes and orjson does not; non-ASCII characters
# json.dumps escapes and orjson writes as UTF-8: a text with either is not taken.
_PRINTABLE = bytes(range(0x20, 0x7F))


def _orjson_text(value: Any) -> str | None:
    """Return json.dumps' sorted, compact text of a value without floats (kind
    NO_FLOAT) by orjson (a fraction of the C encoder's time), or None where
    orjson's could differ: a character outside printable ASCII, an integer
    beyond 64 bits or a nesting orjson refuses (it raises)."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if text.translate(None, _PRINTABLE):
        return None
    return text.decode("ascii")


def canonical_json(value: Any, *, plain: int | None = None) -> str:
    """Return the canonical JSON text of a JSON value (object, array or scalar).

    `plain` is `plain_kind(value)` when the caller knows it (None: looked at; a
    bool is `plain_json`'s answer).

    Raises:
        ValueError: for NaN or infinity; TypeError: for a non-JSON value.
    """
    kind = plain_kind(value) if plain is None else int(plain)
    if kind == NO_FLOAT:
        text = _orjson_text(value)
        if text is not None:
            return text
    if kind:
        try:
            return _DUMPS(value)
        except RecursionError:  # nested deeper than the C encoder goes
            pass
    parts: list[str] = []
    todo: list[tuple[bool, Any]] = [(False, value)]
    while todo:
        is_text, item = todo.pop()
        if is_text:
            parts.append(item)
        elif isinstance(item, dict | list | tuple):
            todo.extend(reversed(_children(item)))
        else:
            parts.append(_scalar(item))
    return "".join(parts)
