"""Continue a receive task without a message (Camunda 7's RuntimeService.signal)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from .common import json_safe
from .compiled import CompiledProcess
from .conditional_events import note_written
from .errors import SpiffAdapterError
from .receive_waits import waiting_receive_tasks
from .runtime import run_command
from .serialization import state_load
from .types import AdvanceOutcome


class ReceiveNotWaiting(SpiffAdapterError):
    """No receive task of the case waits with this execution id."""


def workflow_signal_receive(
    process: CompiledProcess,
    state: dict,
    *,
    task_id: str,
    payload: Mapping[str, Any],
) -> AdvanceOutcome:
    """Continue the receive task `task_id` with `payload` as variables, run on.

    Camunda 7 (`SignalCmd`): the variables are set on the execution, then the
    receive task leaves (`ReceiveTaskActivityBehavior.signal`).

    Raises:
        ReceiveNotWaiting: no receive task without a message waits with that id.
        StateCorrupt: when the stored state cannot be loaded.
    """
    workflow = state_load(state, process)
    try:
        wanted = UUID(task_id)
    except ValueError:
        raise ReceiveNotWaiting(f"No receive task waits as {task_id!r}.") from None
    found = [task for task in waiting_receive_tasks(workflow) if task.id == wanted]
    if not found:
        raise ReceiveNotWaiting(f"No receive task waits as {task_id!r}.")
    task, body = found[0], json_safe(dict(payload))

    def command(steps: list) -> None:
        note_written(workflow, body)
        task.task_spec.catch(task, None)  # as SpiffWorkflow's EventManager.catch
        task.task_spec._update(task)  # fired: READY
        task.data.update(copy.deepcopy(body))

    return run_command(workflow, process, command)
