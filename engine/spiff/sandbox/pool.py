"""A small pool of pre-started script worker processes (parent side).

* Workers are fresh interpreters started with `subprocess.Popen` (fork+exec),
  not `multiprocessing`: this works from threaded servers and from Celery's
  daemonic prefork children, and the worker inherits no Django state.
* Each worker jails itself (as root: an empty network namespace, then an
  unprivileged account) and limits itself (RLIMIT_AS, RLIMIT_CPU, no files, no
  forks) before it reads any input, and runs scripts through the guarded
  evaluator.
* The parent enforces the wall clock with `select`; on expiry the worker is
  SIGKILLed and replaced in the background. Other workers are unaffected.
* One pool per OS process, created lazily by `get_pool()`; a changed pid (the
  process forked after the pool was built: gunicorn, Celery prefork) builds a
  new pool and never touches the parent's workers.
* The host sets the limits with `pool_configure()` (no environment reads here);
  changed limits retire this process's pool, and the next script builds one.
"""

from __future__ import annotations

import atexit
import builtins
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from .compiler import CATCHABLE, SandboxViolation
from .protocol import (
    SandboxCrashed,
    SandboxTimeout,
    dumps,
    loads,
    read_frame,
    write_frame,
)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Load this package under a private name straight from its directory: putting
# engine/spiff on sys.path would shadow stdlib modules (types.py, xml.py).
_BOOT = (
    "import importlib.util, os, sys; d = sys.argv[1]; "
    "s = importlib.util.spec_from_file_location('laneway_sandbox', "
    "os.path.join(d, '__init__.py'), submodule_search_locations=[d]); "
    "m = importlib.util.module_from_spec(s); sys.modules['laneway_sandbox'] = m; "
    "s.loader.exec_module(m); "
    "from laneway_sandbox.worker import main; "
    "main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])"
)
_SPAWN_TIMEOUT_S = 30.0


class SandboxBusy(Exception):  # noqa: N818
    """Every worker stayed busy for the whole acquire timeout."""


class WorkerScriptError(Exception):
    """The script raised an error the worker reported (type and message kept)."""


@dataclass(frozen=True)
class PoolSettings:
    """How many workers, and the limits each script runs under."""

    size: int = 2
    mem_mb: int = 256
    cpu_s: int = 2
    wall_s: float = 1.0
    acquire_timeout_s: float = 10.0
    run_as: str = "nobody"  # the account workers drop to when started as root


class _Worker:
    def __init__(self, settings: PoolSettings) -> None:
        cmd = [
            sys.executable, "-I", "-c", _BOOT, _PACKAGE_DIR, str(settings.mem_mb),
            str(settings.cpu_s), settings.run_as,
        ]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, close_fds=True,
            start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fout, self.fin = self.proc.stdin.fileno(), self.proc.stdout.fileno()

    def ping(self) -> None:
        write_frame(self.fout, dumps({"op": "ping"}))
        read_frame(self.fin, time.monotonic() + _SPAWN_TIMEOUT_S)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.close_pipes()

    def close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


class ScriptPool:
    """Run guarded scripts in worker processes with hard limits."""

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.closed = False
        self.kills = 0
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        workers = [self._start() for _ in range(settings.size)]
        for worker in workers:  # start all, then wait: imports overlap
            worker.ping()
            self._idle.put(worker)

    def _start(self) -> _Worker:
        worker = _Worker(self.settings)
        with self._lock:
            self._all.add(worker)
        return worker

    def _respawn(self) -> None:
        if self.closed:
            return
        try:
            worker = self._start()
            worker.ping()
        except (OSError, SandboxCrashed, SandboxTimeout):
            return  # the next kill or the next pool retries; callers time out cleanly
        self._idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        self.kills += 1
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        threading.Thread(target=self._respawn, daemon=True).start()

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        wall_s: float | None = None,
        helpers: dict[str, Any] | None = None,
    ) -> dict:
        """Run `script` on `context` in a worker and return the new context.

        `helpers` is the data of the script helpers it calls (sandbox.helpers).

        Raises:
            SandboxTimeout, SandboxCrashed, SandboxBusy, SandboxViolation,
            WorkerScriptError or the builtin exception the script raised.
            TypeError: the context is not JSON data.
        """
        wall = wall_s or self.settings.wall_s
        request = dumps(
            {
                "op": "exec",
                "src": script,
                "ctx": context,
                "helpers": helpers,
                "wall_s": wall,
                "cpu": self.settings.cpu_s,
            }
        )
        try:
            worker = self._idle.get(timeout=self.settings.acquire_timeout_s)
        except queue.Empty:
            raise SandboxBusy("all script workers are busy; try again later") from None
        # The worker's own budget stops Python loops at `wall` with a clear
        # message; the parent's kill a little later is the backstop for C code.
        deadline = time.monotonic() + wall + 0.25
        try:
            write_frame(worker.fout, request)
            response = loads(read_frame(worker.fin, deadline))
        except SandboxTimeout:
            self._discard(worker)
            raise SandboxTimeout(
                f"script exceeded the {wall:.1f}s time limit"
            ) from None
        except (SandboxCrashed, OSError, ValueError) as exc:
            self._discard(worker)
            raise SandboxCrashed(
                f"script worker died ({_exit_reason(worker)}): {exc}"
            ) from None
        self._release(worker, response)
        if not response.get("ok"):
            raise _script_error(response.get("etype", ""), response.get("msg", ""))
        return response["ctx"]

    def _release(self, worker: _Worker, response: dict) -> None:
        if response.get("retire"):
            self._discard(worker)
        else:
            self._idle.put(worker)

    def close(self) -> None:
        """Kill every worker this process started."""
        self.closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()

    def abandon(self) -> None:
        """Forget an inherited pool in a forked child: close pipes, kill nothing."""
        self.closed = True
        for worker in list(self._all):
            worker.close_pipes()
        self._all = set()


def _exit_reason(worker: _Worker) -> str:
    try:
        rc = worker.proc.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        return "still running"
    if rc == -24:
        return "CPU time limit"
    return f"exit code {rc}"


def _script_error(etype: str, message: str) -> Exception:
    if etype in ("SandboxViolation", "SandboxLimit"):
        return SandboxViolation(message)
    if etype == "MemoryError":
        return SandboxViolation("out of memory (script memory limit)")
    if etype in CATCHABLE:  # re-raise NameError as NameError, etc.
        exc_class = getattr(builtins, etype)
        return exc_class(message)
    return WorkerScriptError(f"{etype}: {message}" if etype else message)


_pool: ScriptPool | None = None
_pool_lock = threading.Lock()
_pool_settings = PoolSettings()


def pool_configure(settings: PoolSettings) -> None:
    """Use `settings` for this process's pool; new ones retire the current pool."""
    global _pool, _pool_settings
    with _pool_lock:
        if settings == _pool_settings:
            return
        _pool_settings = settings
        if _pool is not None and _pool.pid == os.getpid():
            _pool.close()
        _pool = None


def get_pool() -> ScriptPool:
    """Return this OS process's pool, building it on first use or after a fork."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.pid != os.getpid():
            _pool.abandon()
            _pool = None
        if _pool is None or _pool.closed:
            _pool = ScriptPool(_pool_settings)
        return _pool


def shutdown_pool() -> None:
    """Kill this process's workers (atexit, tests)."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.pid == os.getpid():
            _pool.close()
        _pool = None


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in the
    # child; the inherited workers belong to the parent.
    global _pool, _pool_lock
    _pool_lock = threading.Lock()
    if _pool is not None:
        _pool.abandon()
        _pool = None


atexit.register(shutdown_pool)
os.register_at_fork(after_in_child=_after_fork_in_child)
