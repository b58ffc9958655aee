"""The per-evaluation budget: every helper the instrumented code calls.

A `Budget` travels in the evaluation's globals, so limits work in any thread
(no signals, no tracing). Each C-level operation that could explode is checked
*before* it runs; data-dependent costs are charged by a bounded "logical size"
walk that counts shared references every time (which is what stops a 16-byte
list holding a million references to a 1 MB string).
"""

from __future__ import annotations

import functools
import math
import operator
import re
import time
import types
from collections.abc import Iterable
from typing import Any

from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)

from .compiler import Limits, SandboxLimit
from .methods import ATTRIBUTES

SCALARS = (int, float, bool, type(None))
_SEQ = (str, list, tuple)
_ITERABLE: tuple[type[Iterable[Any]], ...] = (
    list, tuple, str, dict, set, frozenset, range, types.GeneratorType, enumerate, zip,
    reversed, type({}.items()), type({}.keys()), type({}.values()), type(iter([])),
    type(iter(())), type(iter("")), type(reversed([])),
)  # fmt: skip
_NUM_OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
    "<<": operator.lshift, ">>": operator.rshift, "|": operator.or_, "^": operator.xor,
    "&": operator.and_,
}  # fmt: skip
_CMP = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}  # fmt: skip
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_MISSING = object()


def logical_size(obj: Any, cap: int) -> tuple[int, int]:
    """Return (elements + characters reachable, nodes visited), stopping past cap."""
    total = visited = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        visited += 1
        t = type(o)
        if t is str:
            total += len(o) + 1
        elif t is int:
            total += 1 + (o.bit_length() >> 6)
        elif t in (list, tuple, set, frozenset):
            total += 1
            stack.extend(o)
        elif t is dict:
            total += 1
            stack.extend(o.keys())
            stack.extend(o.values())
        else:
            total += 1
        if total > cap or visited > cap:
            return cap + 1, visited
    return total, visited


class Budget:
    """Steps, work, memory and wall clock left for one evaluation."""

    def __init__(self, limits: Limits, mode: str) -> None:
        self.reset(limits, mode)

    def reset(self, limits: Limits, mode: str) -> None:
        self.lim = limits
        self.steps = limits.steps_expr if mode == "eval" else limits.steps_script
        self.work = limits.work_expr if mode == "eval" else limits.work_script
        self.alloc = limits.alloc
        self.deadline = time.monotonic() + limits.wall_s
        self.closed = False
        self.ticks_to_clock = 1024

    # -- accounting -------------------------------------------------------------
    def tick(self) -> bool:
        self.steps -= 1
        if self.steps < 0:
            raise SandboxLimit(
                "step budget exhausted (too many loop iterations or calls)"
            )
        self.ticks_to_clock -= 1
        if self.ticks_to_clock <= 0:
            self.ticks_to_clock = 1024
            if self.closed:
                raise SandboxLimit("sandboxed code called after its evaluation ended")
            if time.monotonic() > self.deadline:
                raise SandboxLimit("time limit exceeded")
        return True

    def charge(self, work: int = 0, alloc: int = 0) -> None:
        self.work -= work
        self.alloc -= alloc
        if self.work < 0:
            raise SandboxLimit("work budget exhausted (too much data processed)")
        if self.alloc < 0:
            raise SandboxLimit("memory budget exhausted")
        if time.monotonic() > self.deadline:
            raise SandboxLimit("time limit exceeded")

    def lsize(self, obj: Any) -> int:
        if type(obj) in SCALARS:
            return 1
        if type(obj) is str:
            return len(obj) + 1
        size, visited = logical_size(obj, self.work)
        self.charge(work=visited)
        return size

    def check_len(self, n: int, what: str = "sequence") -> None:
        limit = self.lim.max_str if what == "string" else self.lim.max_seq
        if n > limit:
            raise SandboxLimit(f"{what} too long ({n} > {limit})")

    def check_int(self, bits: int) -> None:
        if bits > self.lim.max_int_bits:
            raise SandboxLimit(
                f"integer too large (~{bits} bits > {self.lim.max_int_bits})"
            )

    def new_seq(self, n: int, is_str: bool) -> None:
        self.check_len(n, "string" if is_str else "sequence")
        self.charge(work=n, alloc=n if is_str else 8 * n)

    def materialize(self, it: Any) -> list:
        if type(it) in (list, tuple, str, dict, set, frozenset, range):
            self.check_len(len(it))
            self.charge(work=len(it))
            return list(it)
        if not isinstance(it, _ITERABLE):
            raise SandboxLimit(f"cannot iterate over {type(it).__name__}")
        out: list = []
        for x in it:  # generator bodies tick themselves; this bounds the length
            out.append(x)
            if len(out) > self.lim.max_seq:
                raise SandboxLimit(f"sequence too long (> {self.lim.max_seq})")
        self.charge(work=len(out))
        return out

    def cost_sort(self, items: list, key: Any) -> list:
        keys = [key(x) for x in items] if key is not None else items
        n = len(items)
        per = max((self.lsize(k) for k in keys), default=1) if n else 1
        self.charge(work=int(n * max(1, math.log2(n + 1)) * per))
        return keys

    # -- operators --------------------------------------------------------------
    def binop(self, op: str, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        if ta in (int, float, bool) and tb in (int, float, bool):
            return self._numeric(op, a, b)
        if op == "*":
            if ta in _SEQ and tb is int:
                self.new_seq(len(a) * max(b, 0), ta is str)
            elif tb in _SEQ and ta is int:
                self.new_seq(len(b) * max(a, 0), tb is str)
            else:
                self._generic(a, b)
            return a * b
        if op == "+":
            if ta in _SEQ and tb in _SEQ:
                self.new_seq(len(a) + len(b), ta is str)
            else:
                self._generic(a, b)
            return a + b
        if op == "%" and ta is str:
            return self._percent(a, b)
        if op in ("**", "<<"):
            raise SandboxLimit(f"{op} only works on numbers here")
        self._generic(a, b)
        return _NUM_OPS[op](a, b)

    def _numeric(self, op: str, a: Any, b: Any) -> Any:
        ints = type(a) is not float and type(b) is not float
        if op == "**" and ints and b > 0 and abs(a) > 1:
            self.check_int(int(b * math.log2(abs(a))) + 1)
        elif op == "*" and ints:
            self.check_int(int(a).bit_length() + int(b).bit_length())
        elif op == "<<" and type(b) is int and b > 0:
            self.check_int(int(a).bit_length() + b)
        return _NUM_OPS[op](a, b)

    def _generic(self, a: Any, b: Any) -> None:
        # set/dict union, difference ...: cost ~ size of the operands
        self.charge(work=self.lsize(a) + self.lsize(b))

    def _percent(self, fmt: str, args: Any) -> str:
        for match in _PERCENT_FIELD.finditer(fmt):
            for group in match.groups():
                if group == "*" or (
                    group is not None and int(group) > self.lim.max_fmt_width
                ):
                    raise SandboxLimit("format width/precision too large")
        self.charge(work=self.lsize(args) + len(fmt))
        res = fmt % args
        self.new_seq(len(res), True)
        return res

    def cmp(self, op: str, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        small_a = ta in SCALARS or (ta is str and len(a) < 256)
        small_b = tb in SCALARS or (tb is str and len(b) < 256)
        if not (small_a and small_b):
            if op in ("in", "not in"):
                if tb is range:
                    if ta is not int:
                        self.charge(work=len(b))
                else:
                    self.charge(work=self.lsize(b) + (len(a) if ta is str else 1))
            elif op not in ("is", "is not"):
                self.charge(work=min(self.lsize(a), self.lsize(b)))
        return _CMP[op](a, b)

    def cmpchain(self, left: Any, *rest: Any) -> bool:
        for i in range(0, len(rest), 2):
            right = rest[i + 1]()
            if not self.cmp(rest[i], left, right):
                return False
            left = right
        return True

    def fmt(self, value: Any, conversion: int, spec: str) -> str:
        if conversion in (114, 97):  # !r, !a
            value = self.g_repr(value)
        elif conversion == 115:  # !s
            value = self.g_str(value)
        if spec:
            if type(spec) is not str:
                raise SandboxLimit("bad format spec")
            if any(int(n) > self.lim.max_fmt_width for n in _DIGITS.findall(spec)):
                raise SandboxLimit("format width/precision too large")
        if type(value) not in SCALARS and type(value) is not str:
            self.charge(work=self.lsize(value))
        res = format(value, spec)
        self.new_seq(len(res), True)
        return res

    def star(self, it: Any) -> list:
        items = self.materialize(it)
        self.charge(alloc=8 * len(items))
        return items

    def dstar(self, d: Any) -> dict:
        if type(d) is not dict:
            raise SandboxLimit("** needs a dict")
        self.charge(work=len(d), alloc=64 * len(d))
        return d

    # -- guards called by RestrictedPython's transformer --------------------------
    def getattr_(self, obj: Any, name: str, default: Any = None) -> Any:
        allowed = ATTRIBUTES.get(type(obj))
        if allowed is None or name not in allowed:
            raise SandboxLimit(
                f"attribute {name!r} of {type(obj).__name__} is not allowed"
            )
        attr = getattr(obj, name)
        check = allowed[name]
        return attr if check is None else functools.partial(check, self, obj, attr)

    def getitem(self, obj: Any, key: Any) -> Any:
        t = type(obj)
        if t not in (list, tuple, str, dict, range):
            raise SandboxLimit(f"subscript on {t.__name__} is not allowed")
        if type(key) is slice:
            n = len(obj)
            self.charge(work=n, alloc=n * (1 if t is str else 8))
        elif type(key) is tuple:
            self.charge(work=self.lsize(key))
        return obj[key]

    def getiter(self, obj: Any) -> Any:
        if not isinstance(obj, _ITERABLE):
            raise SandboxLimit(f"cannot iterate over {type(obj).__name__}")
        return iter(obj)

    def iter_unpack(self, it: Any, spec: Any, _getiter_: Any = None) -> Any:
        return guarded_iter_unpack_sequence(it, spec, self.getiter)

    def unpack(self, it: Any, spec: Any, _getiter_: Any = None) -> Any:
        return guarded_unpack_sequence(it, spec, self.getiter)

    def write(self, obj: Any) -> Any:
        if type(obj) is dict:
            return _DictWriter(self, obj)
        if type(obj) is list:
            return _ListWriter(self, obj)
        raise SandboxLimit(f"cannot assign into {type(obj).__name__}")

    def inplacevar(self, op: str, x: Any, y: Any) -> Any:
        return self.binop(op[:-1], x, y)

    # -- guarded builtins -------------------------------------------------------
    def g_range(self, *args: int) -> range:
        r = range(*args)
        if len(r) > self.lim.max_range:
            raise SandboxLimit(f"range too large ({len(r)} > {self.lim.max_range})")
        return r

    def g_len(self, x: Any) -> int:
        return len(x)

    def g_list(self, it: Any = ()) -> list:
        items = self.materialize(it)
        self.charge(alloc=8 * len(items))
        return items

    def g_tuple(self, it: Any = ()) -> tuple:
        return tuple(self.g_list(it))

    def g_set(self, it: Any = ()) -> set:
        items = self.materialize(it)
        self.charge(work=self.lsize(items), alloc=32 * len(items))
        return set(items)

    def g_dict(self, *args: Any, **kw: Any) -> dict:
        d: dict = {}
        if args:
            src = args[0] if type(args[0]) is dict else self.materialize(args[0])
            self.charge(work=self.lsize(src), alloc=64 * len(src))
            d = dict(src)
        self.check_len(len(d) + len(kw))
        d.update(kw)
        return d

    def g_sorted(self, it: Any, key: Any = None, reverse: bool = False) -> list:
        items = self.materialize(it)
        keys = self.cost_sort(items, key)
        order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
        return [items[i] for i in order]

    def _minmax(self, fn: Any, args: tuple, key: Any, default: Any) -> Any:
        items = self.materialize(args[0] if len(args) == 1 else args)
        if not items:
            if default is _MISSING:
                raise ValueError(f"{fn.__name__}() arg is an empty sequence")
            return default
        keys = [key(x) for x in items] if key is not None else items
        self.charge(work=sum(self.lsize(k) for k in keys))
        return items[fn(range(len(items)), key=keys.__getitem__)]

    def g_min(self, *args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        return self._minmax(min, args, key, default)

    def g_max(self, *args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        return self._minmax(max, args, key, default)

    def g_sum(self, it: Any, start: Any = 0) -> Any:
        if type(start) not in (int, float):
            raise SandboxLimit("sum() start must be a number")
        items = self.materialize(it)
        for x in items:
            if type(x) not in (int, float, bool):
                raise SandboxLimit("sum() only adds numbers")
            if type(x) is int and x.bit_length() > self.lim.max_int_bits:
                raise SandboxLimit("integer too large")
        return sum(items, start)

    def g_any(self, it: Any) -> bool:
        # a generator ticks per element; anything else is materialized (bounded)
        return any(it if isinstance(it, types.GeneratorType) else self.materialize(it))

    def g_all(self, it: Any) -> bool:
        return all(it if isinstance(it, types.GeneratorType) else self.materialize(it))

    def g_str(self, x: Any = "") -> str:
        if type(x) is str:
            return x
        if type(x) is int:
            return str(x)  # CPython's 4300-digit int<->str limit applies
        if type(x) not in SCALARS:
            self.check_len(self.lsize(x) * 4, "string")
        res = str(x)
        self.new_seq(len(res), True)
        return res

    def g_repr(self, x: Any) -> str:
        if type(x) not in SCALARS:
            self.check_len(self.lsize(x) * 4, "string")
        res = repr(x)
        self.new_seq(len(res), True)
        return res

    def g_int(self, x: Any = 0, base: int = 10) -> int:
        if type(x) is str:
            self.check_len(len(x), "string")
            return int(x, base)
        return int(x)

    def g_float(self, x: Any = 0.0) -> float:
        return float(x)

    def g_round(self, x: Any, n: int | None = None) -> Any:
        if n is not None and abs(n) > 1000:
            raise SandboxLimit("round() precision too large")
        return round(x) if n is None else round(x, n)

    def g_abs(self, x: Any) -> Any:
        return abs(x)

    def g_bool(self, x: Any = False) -> bool:
        return bool(x)

    def g_pow(self, a: Any, b: Any, mod: Any = None) -> Any:
        return pow(a, b, mod) if mod is not None else self.binop("**", a, b)

    def g_enumerate(self, it: Any, start: int = 0) -> enumerate:
        return enumerate(self.getiter(it), start)

    def g_zip(self, *its: Any) -> zip:
        return zip(*(self.getiter(i) for i in its), strict=False)

    def g_reversed(self, seq: Any) -> Any:
        return reversed(seq)

    def g_divmod(self, a: Any, b: Any) -> Any:
        return divmod(a, b)

    def g_isinstance(self, obj: Any, cls: Any) -> bool:
        if isinstance(cls, tuple):
            return any(self.g_isinstance(obj, c) for c in cls)
        real = _REAL_TYPES.get(getattr(getattr(cls, "__func__", None), "__name__", ""))
        if real is None:
            raise SandboxLimit("isinstance() only supports the builtin types")
        return isinstance(obj, real)


_REAL_TYPES = {
    "g_list": list, "g_tuple": tuple, "g_set": set, "g_dict": dict, "g_str": str,
    "g_int": int, "g_float": float, "g_bool": bool,
}  # fmt: skip


class _DictWriter:
    __slots__ = ("b", "d")

    def __init__(self, b: Budget, d: dict) -> None:
        self.b, self.d = b, d

    def __setitem__(self, k: Any, v: Any) -> None:
        if k not in self.d:
            self.b.check_len(len(self.d) + 1)
            self.b.charge(work=1, alloc=64)
        self.d[k] = v

    def __delitem__(self, k: Any) -> None:
        del self.d[k]


class _ListWriter:
    __slots__ = ("b", "seq")

    def __init__(self, b: Budget, seq: list) -> None:
        self.b, self.seq = b, seq

    def __setitem__(self, k: Any, v: Any) -> None:
        if type(k) is slice:
            v = self.b.materialize(v)
            self.b.new_seq(len(self.seq) + len(v), False)
        self.seq[k] = v

    def __delitem__(self, k: Any) -> None:
        del self.seq[k]
