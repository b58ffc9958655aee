"""The script worker process: limits itself, then runs guarded scripts forever.

Started by `pool.py` as a fresh interpreter (`python -I -c ...`, scrubbed
environment, no inherited file descriptors), so it holds no Django state,
database connections or secrets. It imports only this package.
"""

from __future__ import annotations

import resource
import signal
import sys
from dataclasses import replace

from .api import execute
from .compiler import DEFAULT_LIMITS
from .helpers import helper_functions
from .protocol import MAX_REQUEST, SandboxCrashed, dumps, loads, read_frame, write_frame

LIFETIME_CPU_S = 600  # RLIMIT_CPU hard limit; the worker retires before reaching it
MAX_REQUESTS = 20_000


def _limit_self(mem_mb: int) -> int:
    mem = mem_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # not enforced for root
    except (ValueError, OSError):
        pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))
    # RLIMIT_CPU counts the whole life of the process, and without
    # CAP_SYS_RESOURCE a hard limit can never be raised again: fix the hard limit
    # once and move only the soft limit per request (SIGXCPU kills the worker).
    hard = _cpu_used() + LIFETIME_CPU_S
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    return hard


def _cpu_used() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int(usage.ru_utime + usage.ru_stime) + 1


def _serve_one(request: dict) -> bytes:
    limits = replace(DEFAULT_LIMITS, wall_s=float(request.get("wall_s", 1.0)))
    context = request.get("ctx") or {}
    try:
        functions = helper_functions(request.get("helpers"))
        execute(request["src"], context, limits, functions)
        return dumps({"ok": True, "ctx": context})
    except BaseException as exc:  # noqa: BLE001 - MemoryError, RecursionError, limits ...
        return dumps({"ok": False, "etype": type(exc).__name__, "msg": str(exc)[:500]})


def main(mem_mb: int, cpu_s: int) -> None:
    hard = _limit_self(mem_mb)
    fin, fout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    sys.stdout = sys.stderr  # nothing may write into the protocol pipe
    for served in range(1, MAX_REQUESTS + 1):
        try:
            request = loads(read_frame(fin, max_len=MAX_REQUEST))
        except SandboxCrashed:
            return  # the parent went away
        used = _cpu_used()
        budget = max(1, int(request.get("cpu", cpu_s)))
        resource.setrlimit(resource.RLIMIT_CPU, (min(used + budget, hard), hard))
        out = (
            _serve_one(request) if request.get("op") == "exec" else dumps({"ok": True})
        )
        retire = served >= MAX_REQUESTS or used + 3 * budget >= hard
        if retire:
            out = out[:-1] + b',"retire":true}'
        write_frame(fout, out)
        if retire:
            return
