"""Time-ordered ids: UUID version 7 (RFC 9562 §5.7).

Cases, human tasks and audit events are keyed by them. A random key (version 4)
puts each insert on a random leaf page of every index keyed by it (the primary
key, and the foreign keys, guardian's `object_pk` and the audit chain that name
it): with a database of many finished cases, mostly a page out of memory, read
and written again with a full-page image in the WAL. A time-ordered key puts
new rows on the newest pages, which are in memory.

An id carries its creation time (to the millisecond): Camunda 7's ids are
sequential, and a case's or task's creation time is shown to everyone who can
see it. Its last 8 hex digits are random: the pages show those as its short
name (the first ones change once a minute).
"""

import os
import threading
import time
import uuid

_RANDOM_BITS = 74  # rand_a (12) and rand_b (62)
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the last id made here


def uuid7() -> uuid.UUID:
    """Return a new UUID version 7: 48 bits of Unix time in ms, then 74 bits that
    are random, except that ids made by this process increase strictly.

    Within one millisecond (or when the clock steps back) the next id's random
    part is the last one's plus a random step of at most 2**48 (RFC 9562 §6.2,
    "monotonic random"), so ids made one after the other in a process sort in
    the order they were made and are still not guessable from the last one.
    """
    global _last
    millis = time.time_ns() // 1_000_000
    fresh = int.from_bytes(os.urandom(10))
    with _lock:
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, random = last_millis, last_random + 1 + (fresh >> 32)
            if random >> _RANDOM_BITS:  # the random part ran over: the next ms
                millis, random = millis + 1, 0
        else:
            random = fresh >> (80 - _RANDOM_BITS)
        _last = (millis, random)
    rand_a, rand_b = random >> 62, random & (1 << 62) - 1
    return _made(millis << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b)


def _made(value: int) -> uuid.UUID:
    """Return `uuid.UUID(int=value)` for a value known to be in range, without
    its checks of the other arguments (~1 µs; five ids a human step)."""
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
    return made


_V4_CLEAR = ~(0xF000 << 64 | 0xC000 << 48)
_V4_SET = 0x4000 << 64 | 0x8000 << 48


def uuid4_text() -> str:
    """Return `str(uuid.uuid4())`: the same random bits, version and variant,
    made without the UUID object (Celery's message ids, two a notice)."""
    value = int.from_bytes(os.urandom(16)) & _V4_CLEAR | _V4_SET
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
