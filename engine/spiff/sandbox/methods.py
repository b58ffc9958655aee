"""Which attributes sandboxed code may read, and the cost check of each method.

An entry of None returns the attribute as is; a function returns a checked
wrapper called as `check(budget, obj, bound_method, *args, **kwargs)`, which
charges the budget *before* the C code runs. `str.format`, `format_map`,
`encode` and `translate` are deliberately absent (attribute-walk leaks and
unbounded output).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[..., Any] | None


def _linear(b: Any, obj: Any, meth: Any, *a: Any, **kw: Any) -> Any:
    b.charge(work=len(obj) + sum(len(x) for x in a if type(x) is str))
    res = meth(*a, **kw)
    if type(res) in (str, list):
        b.check_len(len(res), "string" if type(res) is str else "sequence")
    return res


def _cmp_scan(b: Any, obj: Any, meth: Any, *a: Any, **kw: Any) -> Any:
    # list.index/count/remove compare every element.
    b.charge(work=b.lsize(obj) + sum(b.lsize(x) for x in a))
    return meth(*a, **kw)


def _pad(b: Any, obj: str, meth: Any, width: int, *a: Any) -> Any:
    if type(width) is not int:
        raise TypeError("width must be int")
    b.new_seq(max(width, len(obj)), True)
    return meth(width, *a)


def _expandtabs(b: Any, obj: str, meth: Any, tabsize: int = 8) -> Any:
    b.new_seq(len(obj) * max(tabsize, 1), True)
    return meth(tabsize)


def _replace(b: Any, obj: str, meth: Any, old: str, new: str, count: int = -1) -> Any:
    n = obj.count(old) if old else len(obj) + 1
    if count >= 0:
        n = min(n, count)
    b.charge(work=len(obj))
    b.new_seq(len(obj) + n * (len(new) - len(old)), True)
    return meth(old, new, count)


def _join(b: Any, sep: str, meth: Any, iterable: Any) -> Any:
    parts = b.materialize(iterable)
    total = sum(len(p) if type(p) is str else 0 for p in parts)
    b.new_seq(total + len(sep) * max(len(parts) - 1, 0), True)
    return meth(parts)


def _grow_by_one(b: Any, container: Any, meth: Any, *a: Any) -> Any:
    # append / insert / add / setdefault add at most one element.
    b.check_len(len(container) + 1)
    b.charge(work=1, alloc=8)
    return meth(*a)


def _extend(b: Any, seq: list, meth: Any, iterable: Any) -> Any:
    items = b.materialize(iterable)
    b.new_seq(len(seq) + len(items), False)
    return meth(items)


def _sort(b: Any, seq: list, meth: Any, key: Any = None, reverse: bool = False) -> None:
    keys = b.cost_sort(seq, key)
    order = sorted(range(len(seq)), key=keys.__getitem__, reverse=reverse)
    seq[:] = [seq[i] for i in order]


def _copy(b: Any, obj: Any, meth: Any) -> Any:
    b.new_seq(len(obj), False)
    return meth()


def _update(b: Any, d: dict, meth: Any, *a: Any, **kw: Any) -> Any:
    other = a[0] if a else {}
    if type(other) is not dict:
        other = dict(b.materialize(other))
    b.check_len(len(d) + len(other) + len(kw))
    b.charge(work=b.lsize(other), alloc=64 * (len(other) + len(kw)))
    return meth(other, **kw)


def _setop(b: Any, s: set, meth: Any, *others: Any) -> Any:
    for other in others:
        b.charge(work=b.lsize(other))
    b.check_len(len(s) + sum(len(o) if hasattr(o, "__len__") else 0 for o in others))
    return meth(*others)


_STR_LINEAR = [
    "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
    "startswith", "endswith", "find", "rfind", "index", "rindex", "count", "isdigit",
    "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal",
    "title", "capitalize", "casefold", "swapcase", "partition", "rpartition",
    "removeprefix", "removesuffix",
]  # fmt: skip

ATTRIBUTES: dict[type, dict[str, Check]] = {
    str: {
        **{m: _linear for m in _STR_LINEAR},
        "ljust": _pad, "rjust": _pad, "center": _pad, "zfill": _pad,
        "expandtabs": _expandtabs, "replace": _replace, "join": _join,
    },
    list: {
        "append": _grow_by_one, "extend": _extend, "insert": _grow_by_one, "pop": None,
        "clear": None, "reverse": _linear, "index": _cmp_scan, "count": _cmp_scan,
        "remove": _cmp_scan, "sort": _sort, "copy": _copy,
    },
    tuple: {"index": _cmp_scan, "count": _cmp_scan},
    dict: {
        "get": None, "keys": None, "values": None, "items": None, "pop": None,
        "popitem": None, "setdefault": _grow_by_one, "update": _update, "copy": _copy,
        "clear": None,
    },
    set: {
        "add": _grow_by_one, "discard": None, "remove": None, "pop": None,
        "clear": None,
        "union": _setop, "intersection": _setop, "difference": _setop,
        "symmetric_difference": _setop, "issubset": _setop, "issuperset": _setop,
        "isdisjoint": _setop, "update": _setop, "copy": _copy,
    },
    int: {"bit_length": None, "real": None, "imag": None, "numerator": None,
          "denominator": None},
    float: {"is_integer": None, "real": None, "imag": None},
}  # fmt: skip

for _exc in (
    ValueError, KeyError, TypeError, IndexError, ZeroDivisionError, ArithmeticError,
    LookupError, AttributeError, NameError, RuntimeError, OverflowError, RecursionError,
    Exception,
):  # fmt: skip
    ATTRIBUTES[_exc] = {"args": None}
