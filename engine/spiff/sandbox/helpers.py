"""The script helpers, as functions over plain data, built inside the worker.

`script_helpers.helper_data` (adapter side) sends the data; the functions only
return copies of it, so a script can neither reach the host nor change what the
next call returns. Meanings: engine/spiff/script_helpers.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class HelperUnavailable(Exception):  # noqa: N818 - the message names the helper
    """A helper was called where it has no answer (reported as the script's error)."""


def _user(data: dict[str, Any], key: str, helper: str) -> Callable[[], Any]:
    def read() -> Any:
        if key not in data:
            raise HelperUnavailable(f"{helper}() is not available here")
        return copy.deepcopy(data[key])

    return read


def helper_functions(data: dict[str, Any] | None) -> dict[str, Callable[..., Any]]:
    """Return the helper functions a script may call, answering from `data`."""
    if data is None:
        return {}
    if not data.get("available"):

        def unavailable(*_args: Any, **_kwargs: Any) -> Any:
            raise HelperUnavailable("the script helpers have no case to describe here")

        return {
            name: unavailable
            for name in (
                "get_current_user", "get_process_initiator_user", "get_group_members",
                "get_last_user_completing_task", "get_toplevel_process_info",
                "get_current_task_info",
            )
        }  # fmt: skip
    groups: dict[str, list[str]] = data.get("groups") or {}
    completers: dict[str, Any] = data.get("completers") or {}

    def get_current_user() -> Any:
        user = data.get("current_user")
        if user is None:
            raise HelperUnavailable(
                "get_current_user(): nobody is acting (the system runs this script: "
                "a timer, a service result)"
            )
        return copy.deepcopy(user)

    def get_group_members(group: str) -> list[str]:
        if not isinstance(group, str) or group not in groups:
            raise HelperUnavailable(
                f"get_group_members({group!r}): no such group (the name must be "
                "written in the script or held by a variable it reads)"
            )
        return list(groups[group])

    def get_last_user_completing_task(
        bpmn_process_identifier: str = "", task_bpmn_identifier: str = ""
    ) -> Any:
        if task_bpmn_identifier not in completers:
            raise HelperUnavailable(
                f"get_last_user_completing_task(): nobody has completed "
                f"{task_bpmn_identifier!r} in this case"
            )
        return copy.deepcopy(completers[task_bpmn_identifier])

    return {
        "get_current_user": get_current_user,
        "get_process_initiator_user": _user(
            data, "initiator", "get_process_initiator_user"
        ),
        "get_group_members": get_group_members,
        "get_last_user_completing_task": get_last_user_completing_task,
        "get_toplevel_process_info": _user(
            data, "process", "get_toplevel_process_info"
        ),
        "get_current_task_info": _user(data, "task", "get_current_task_info"),
    }
