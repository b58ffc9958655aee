"""Two databases measured in paired rounds: the figures of bench/volume.py and
bench/inbox.py (not a test).

On a shared machine the load drifts within seconds and stretches whatever runs
while it is high. Both scripts therefore compare two databases (empty / filled,
1,000 / 100,000 open tasks) in rounds: in each round every figure is measured on
one database and right after on the other, the order alternating (A B, then B A:
the load's trend hits both alike), and each round gives its own ratio. A figure's
ratio is the median of its rounds' ratios: one round caught by a burst of load
moves it little, while a figure really higher on one database is higher in most
rounds and shows in the median.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Figures = dict[str, float]


def use(url: str) -> None:
    """Point this process (and the servers it starts) at the database `url`."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from tasks_app.permissions import permissions_forget

    connection.close()
    connection.settings_dict["NAME"] = url.rsplit("/", 1)[1]
    os.environ["DATABASE_URL"] = url
    ContentType.objects.clear_cache()  # the same ids in both, but read afresh
    permissions_forget()


def copy(source: str, target: str) -> None:
    """Create the database `target` as a copy of `source` (which nobody uses)."""
    import psycopg
    from django.db import connection

    connection.close()
    name, origin = target.rsplit("/", 1)[1], source.rsplit("/", 1)[1]
    with psycopg.connect(
        source.rsplit("/", 1)[0] + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{origin}"')


def threads_cpu(pids: list[int]) -> dict[tuple[int, int], float]:
    """Return the CPU seconds of every thread of each process, in ns from the
    scheduler (/proc/PID/task/TID/schedstat). gunicorn's workers run 4 threads,
    and /proc/PID/stat counts whole 10 ms ticks: a few requests' worth."""
    seconds = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # ended
        for tid in tids:
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text()
                seconds[(pid, int(tid))] = int(stat.split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
    return seconds


def cpu_now() -> float:
    """This process's CPU seconds and its PostgreSQL backend's, together."""
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    return time.process_time() + sum(threads_cpu([backend]).values())


def sample(action: Callable[[], Any], runs: int) -> tuple[list, list, list]:
    """Call `action` once (the caches it touches warm up), then `runs` times;
    return each call's wall-clock seconds, CPU seconds (`cpu_now`) and result."""
    action()
    walls, cpus, results = [], [], []
    for _ in range(runs):
        cpu, wall = cpu_now(), time.perf_counter()
        results.append(action())
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_now() - cpu)
    return walls, cpus, results


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 3)


def orders(names: tuple[str, str], round_: int, segments: int) -> Iterator[tuple]:
    """The order of the two databases in each segment of a round: A B, B A, A B, …
    in even rounds, B A, A B, … in odd ones. Each database goes first as often
    as the other, and consecutive segments share a database (one switch fewer)."""
    for segment in range(segments):
        yield names if (round_ + segment) % 2 == 0 else names[::-1]


def round_ratios(base: list[Figures], other: list[Figures]) -> dict[str, list[float]]:
    """Each figure's ratio other / base in every round (rounds paired by index);
    a figure that is 0 on the base in a round has no ratio for it."""
    return {
        key: [
            round(b[key] / a[key], 3)
            for a, b in zip(base, other, strict=True)
            if a.get(key) and key in b
        ]
        for key in base[0]
    }


def median_ratios(ratios: dict[str, list[float]]) -> dict[str, float]:
    """Each figure's median of its rounds' ratios."""
    return {key: round(statistics.median(r), 2) for key, r in ratios.items() if r}


def medians(rounds: list[Figures]) -> Figures:
    """Each figure's median over the rounds (shown beside the ratios)."""
    return {
        key: round(statistics.median(r[key] for r in rounds), 2) for key in rounds[0]
    }
