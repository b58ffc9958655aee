"""Time limits asserted so they hold on a busy machine and still catch a missing limit.

A working limit stops code at about its budget; a missing one lets it run for
many seconds or for ever. On a loaded two-core machine the scheduler stretches
wall-clock time by whatever it likes (0.504 s for a 0.5 s bound), so:

* work done in the calling thread is bounded by that thread's CPU time, which
  other processes cannot stretch, and by wall-clock time plus `LOAD_SLACK_S`;
* work done in another process (script workers, a Celery worker) is bounded by
  wall-clock time plus `LOAD_SLACK_S`.

`LOAD_SLACK_S` stays well below what any missing limit in these tests costs
(a runaway loop, a 10**9-instance activity, a 12 s timer expansion).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

LOAD_SLACK_S = 2.0


@dataclass
class Elapsed:
    """Wall-clock and calling-thread CPU seconds of a `measured()` block."""

    wall: float = 0.0
    cpu: float = 0.0

    def assert_within(self, seconds: float) -> None:
        """Assert the block took under `seconds` of CPU, and of wall clock + slack."""
        assert self.cpu < seconds, f"{self.cpu:.3f} s CPU, limit {seconds} s"
        assert self.wall < seconds + LOAD_SLACK_S, (
            f"{self.wall:.3f} s wall clock, limit {seconds} s + {LOAD_SLACK_S} s slack"
        )


@contextmanager
def measured() -> Iterator[Elapsed]:
    """Measure the wall-clock and this thread's CPU time of the block."""
    elapsed = Elapsed()
    wall, cpu = time.monotonic(), time.thread_time()
    try:
        yield elapsed
    finally:
        elapsed.wall = time.monotonic() - wall
        elapsed.cpu = time.thread_time() - cpu
