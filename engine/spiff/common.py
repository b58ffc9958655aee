"""Small helpers every module of the adapter shares (no imports of its own)."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.util.task import TaskState

# A task that is not finished and not merely predicted: it holds the case's place.
ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def json_safe(value: Any) -> Any:
    """Return `value` as plain JSON data (what is not JSON becomes its `str`)."""
    return json.loads(json.dumps(value, default=str))


# The internal data key of an event sub-process task armed for a timer cycle's
# next occurrence (timers.EventSubprocessCycleTimer, events._rearm).
CYCLE_HANDOVER = "laneway_cycle_next"


def typed_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values by their types, at every depth: true is not 1
    (a Boolean never equals a number, as Java's equals and PostgreSQL's jsonb
    compare), 1 is 1.0 (one JSON number); lists element-wise, objects by key."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(typed_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(typed_equal(a[k], b[k]) for k in a)
    return bool(a == b)
