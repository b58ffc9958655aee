"""Guarded evaluation of diagram expressions and scripts.

A self-contained package (stdlib + RestrictedPython, no SpiffWorkflow, no
relative imports out of it) so the script worker processes can import it
without the rest of the adapter:

* `compiler`: source limits, an AST node whitelist, RestrictedPython's
  transformer, then an instrumenter that routes every operation that can
  explode in C through a checked helper and ticks every loop.
* `budget`: the per-evaluation step / work / memory / wall-clock budget that
  the instrumented code calls into (works in any thread: no signals, no
  tracing).
* `methods`: the attribute whitelist with cost checks per method.
* `el`: the EL 2.1 operators translated JUEL calls (`_el_cmp_`, ...), the only
  `_` names sandboxed code may read.
* `api`: `evaluate` / `execute`.
* `pool`, `worker`: script tasks run in pre-started worker processes with
  rlimits and a wall-clock kill; JSON over pipes, never pickle.

Design and measurements: research/sandbox/REPORT.md (approach (a) + (c)).
"""

from .api import evaluate, execute
from .compiler import DEFAULT_LIMITS, Limits, SandboxViolation, compile_guarded

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "SandboxViolation",
    "compile_guarded",
    "evaluate",
    "execute",
]
