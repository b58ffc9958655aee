"""Length-prefixed JSON frames between the parent and a script worker.

Never pickle: a compromised worker could otherwise run code in the parent
through a crafted pickle. Dates, times and decimals travel tagged.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

MAX_RESPONSE = 8 * 2**20
MAX_REQUEST = 64 * 2**20


class SandboxTimeout(Exception):  # noqa: N818
    """The worker did not answer within the wall-clock limit (it was killed)."""


class SandboxCrashed(Exception):  # noqa: N818
    """The worker died or broke the protocol (it was replaced)."""


def _default(o: Any) -> Any:
    if isinstance(o, datetime.datetime):
        return {"__dt__": o.isoformat()}
    if isinstance(o, datetime.date):
        return {"__date__": o.isoformat()}
    if isinstance(o, datetime.timedelta):
        return {"__td__": o.total_seconds()}
    if isinstance(o, decimal.Decimal):
        return {"__dec__": str(o)}
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "__dt__": datetime.datetime.fromisoformat,
    "__date__": datetime.date.fromisoformat,
    "__td__": lambda v: datetime.timedelta(seconds=v),
    "__dec__": decimal.Decimal,
}
_TAGS = tuple(f'"{tag}"'.encode() for tag in _DECODERS)


def _hook(d: dict) -> Any:
    if len(d) == 1:
        ((key, value),) = d.items()
        if key in _DECODERS:
            return _DECODERS[key](value)
    return d


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_default, separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    # object_hook costs a Python call per dict: only pay it when a tag is present.
    if any(tag in raw for tag in _TAGS):
        return json.loads(raw, object_hook=_hook)
    return json.loads(raw)


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(struct.pack(">I", len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise SandboxTimeout("deadline exceeded")
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise SandboxCrashed("worker closed the pipe")
        buf += chunk
    return bytes(buf)


def read_frame(
    fd: int, deadline: float | None = None, max_len: int = MAX_RESPONSE
) -> bytes:
    (n,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if n > max_len:
        raise SandboxCrashed(f"response too large ({n} bytes > {max_len})")
    return _read_exact(fd, n, deadline)
