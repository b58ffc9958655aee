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
