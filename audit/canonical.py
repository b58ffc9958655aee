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


def plain_json(value: Any) -> bool:
    """Return whether json.dumps writes the value as canonical_json does.

    Every key a str, and no number but integers and the floats whose shortest
    form `_number` keeps (finite, below 1e16, not negative zero: json.dumps
    writes `float.__repr__`). Such a value's canonical JSON is `json.dumps`'
    (the C encoder: much less Python per event); exact types only (a subclass
    may write itself otherwise).
    """
    todo = [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            todo.extend(item.values())
        elif kind is list or kind is tuple:
            todo.extend(item)
        elif kind is float:
            if not -_BIG < item < _BIG or (item == 0 and math.copysign(1, item) < 0):
                return False  # NaN fails the comparison too
        elif kind not in _PLAIN:
            return False
    return True


def canonical_json(value: Any, *, plain: bool | None = None) -> str:
    """Return the canonical JSON text of a JSON value (object, array or scalar).

    `plain` is `plain_json(value)` when the caller knows it (None: looked at).

    Raises:
        ValueError: for NaN or infinity; TypeError: for a non-JSON value.
    """
    if plain_json(value) if plain is None else plain:
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
