"""The script worker process: jails and limits itself, then runs guarded scripts.

Started by `pool.py` as a fresh interpreter (`python -I -c ...`, scrubbed
environment, no inherited file descriptors), so it holds no Django state,
database connections or secrets. It imports only this package.

Started as root (the quick start, a container), it first leaves the host's
network namespace (an empty one: not even loopback to PostgreSQL or Redis),
then drops to an unprivileged account (`nobody` unless configured) with no
supplementary groups and `no_new_privs`, so the process limits below bind
(the kernel does not apply RLIMIT_NPROC to root) and nothing the server
account may read or write is reachable. Started unprivileged, it keeps its
account: the README says how to run web and workers that way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pwd
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


_CLONE_NEWNET = 0x40000000
_PR_SET_NO_NEW_PRIVS = 38


class JailFailed(RuntimeError):
    """The worker could not drop root; it refuses to run scripts as root."""


def _jail_self(run_as: str) -> None:
    """Leave root: an empty network namespace, then `run_as`, no new privileges."""
    if os.geteuid() != 0:
        return  # already unprivileged: nothing to drop, nothing we could switch to
    try:
        account = pwd.getpwnam(run_as)
    except KeyError:
        raise JailFailed(f"script user {run_as!r} does not exist") from None
    if account.pw_uid == 0:
        raise JailFailed(f"script user {run_as!r} is root")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    # Best effort: a container without CAP_SYS_ADMIN cannot unshare; the
    # guarded evaluator has no network primitives either way.
    libc.unshare(_CLONE_NEWNET)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise JailFailed("still root after setuid")
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _limit_self(mem_mb: int) -> int:
    mem = mem_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no forks (we are not root)
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


def main(mem_mb: int, cpu_s: int, run_as: str = "nobody") -> None:
    _jail_self(run_as)
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
