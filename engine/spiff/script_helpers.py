"""SpiffArena's common script helpers, with their Laneway meaning (issue 9).

Scripts (script tasks, pre/post scripts) written in SpiffArena call:

* `get_current_user()`: the person whose action runs the script (who completed
  the task, started the case, sent the message or signal, retried or skipped the
  incident, the external worker's account reporting a result), as a dict with
  `id`, `username`, `email` and `display_name`; where no person acts (a timer, a
  Python service result, a signal or message thrown by a case), the system
  actor: the inactive account `laneway-system` (engine/services/script_host.py);
* `get_process_initiator_user()`: who started the case (same dict): the person
  who started it by hand or sent the message or signal that started it, else
  the system actor (a timer start, a signal or message thrown by a case);
* `get_group_members(group)`: the usernames of the group's active members, for a
  group name written in the script or held by a variable the script reads;
* `get_last_user_completing_task(process_id, task_id)`: who last completed the
  human task `task_id` of this case (the process id is not needed here: a case's
  task ids are unique);
* `get_toplevel_process_info()`: `process_instance_id` (the case id) and
  `process_model_identifier` (the process key);
* `get_current_task_info()`: `id`, `task_spec` (the element id), `name` and
  `state` of the task running the script.

They run in the script sandbox (`sandbox.helpers`) on plain data: the engine
service describes the case through a `ScriptHost` (`script_host`), this module
asks it only for what a script names, and the worker gets JSON, never Django
objects. Any other SpiffArena helper (get_secret, get_env, add_user_to_group, ...)
and any call of a name that is neither a builtin of the sandbox, a helper nor
defined by the script is refused at upload (`unknown_calls`); expressions cannot
call helpers (they run in the web process, not the script worker).
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import functools
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from .sandbox.api import BUILTIN_NAMES
from .sandbox.compiler import CATCHABLE
from .sandbox.el import NAMES as EL_NAMES

HELPERS = frozenset(
    {
        "get_current_user",
        "get_process_initiator_user",
        "get_group_members",
        "get_last_user_completing_task",
        "get_toplevel_process_info",
        "get_current_task_info",
    }
)
# SpiffArena's other helpers (spiffworkflow-backend/scripts): no Laneway meaning.
SPIFFARENA_ONLY = frozenset(
    {
        "add_permission", "add_user_to_group", "clear_permissions",
        "create_unique_kkv_top_level_key", "delete_process_instances_with_criteria",
        "extract_from_task_data", "fact_service", "generate_markdown_table",
        "get_all_permissions", "get_current_task_data", "get_data_sizes", "get_dmn",
        "get_encoded_file_data", "get_env", "get_frontend_url",
        "get_groups_assigned_to_task", "get_groups_for_user", "get_localtime",
        "get_process_info", "get_secret", "get_task_data_value",
        "get_task_potential_owners", "get_url_for_task",
        "get_url_for_task_with_bpmn_identifier", "get_user", "get_user_by_id",
        "get_user_properties", "get_usernames_waiting_for_task",
        "get_users_assigned_to_task", "markdown_file_download_link",
        "refresh_permissions", "save_process_instance_metadata", "set_feature_flags",
        "set_secret", "set_user_properties", "times_executed_by_user",
        "update_task_data_with_dictionary", "user_has_started_instance",
    }
)  # fmt: skip
User = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScriptHost:
    """What the engine service tells scripts about the case (looked up lazily)."""

    current_user: Callable[[], User | None]
    initiator: Callable[[], User | None]
    # Of the names given, the groups that exist: name -> active usernames.
    group_members: Callable[[Collection[str]], dict[str, list[str]]]
    # Of the task ids given, those completed in the case: id -> last completer.
    last_completers: Callable[[Collection[str]], dict[str, User]]
    process_info: Callable[[], dict[str, Any]]
    # The case's id, business key ("" for none) and version id as /engine-rest
    # writes processDefinitionId (engine_objects.py): id, business_key,
    # definition_id.
    case_facts: Callable[[], dict[str, Any]] = dict
    # The username of the person acting, None where nobody does
    # (Camunda 7's authenticatedUserId).
    authenticated_user: Callable[[], str | None] = lambda: None


_HOST: contextvars.ContextVar[ScriptHost | None] = contextvars.ContextVar(
    "laneway_script_host", default=None
)
_TASK: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "laneway_script_task", default=None
)


@contextlib.contextmanager
def _bound_to(var: contextvars.ContextVar[Any], value: Any) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def script_host(host: ScriptHost) -> contextlib.AbstractContextManager[None]:
    """Let the scripts run inside this block call the helpers on `host`."""
    return _bound_to(_HOST, host)


def current_host() -> ScriptHost | None:
    """The host of the step running now (None outside `script_host`)."""
    return _HOST.get()


def running_task(task: Any) -> contextlib.AbstractContextManager[None]:
    """Mark the SpiffWorkflow task whose script runs inside this block."""
    return _bound_to(_TASK, task)


_MAX_NAMES = 200  # names looked up for one script (literals first)


@functools.lru_cache(maxsize=1024)
def _script_facts(script: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The helpers a script calls and the texts it writes."""
    tree = ast.parse(script)
    called = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    literals = tuple(
        dict.fromkeys(
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        )
    )
    return frozenset(called & HELPERS), literals


def _strings(literals: tuple[str, ...], context: dict[str, Any]) -> list[str]:
    """The texts a script could pass: its literals and the text variables it reads."""
    found = dict.fromkeys(literals)
    for value in context.values():
        if isinstance(value, str):
            found[value] = None
        elif isinstance(value, list | tuple):
            found.update(dict.fromkeys(v for v in value if isinstance(v, str)))
    return [s for s in found if len(s) <= 150][:_MAX_NAMES]


def _task_info(task: Any) -> dict[str, Any]:
    if task is None:
        return {}
    spec = task.task_spec
    return {
        "id": str(task.id),
        "task_spec": spec.name,
        "name": getattr(spec, "bpmn_name", None) or spec.name,
        "state": task.state,
    }


def helper_data(script: str, context: dict[str, Any]) -> dict[str, Any] | None:
    """Return the data of the helpers `script` calls, for the script worker.

    None when it calls none. `context` is what the script reads.
    """
    called, literals = _script_facts(script)
    if not called:
        return None
    host = _HOST.get()
    data: dict[str, Any] = {"available": host is not None}
    if host is None:
        return data
    if "get_current_user" in called:
        data["current_user"] = host.current_user()
    if "get_process_initiator_user" in called:
        data["initiator"] = host.initiator()
    if "get_toplevel_process_info" in called:
        data["process"] = host.process_info()
    if "get_current_task_info" in called:
        data["task"] = _task_info(_TASK.get())
    texts = _strings(literals, context)
    if "get_group_members" in called:
        data["groups"] = host.group_members(texts)
    if "get_last_user_completing_task" in called:
        data["completers"] = host.last_completers(texts)
    return data


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def unknown_calls(source: str, *, script: bool) -> str | None:
    """Return why a script or expression calls a function it cannot have, or None.

    Task data is JSON, so a called name that is no sandbox builtin, no helper
    (scripts only) and not defined by the script itself would fail every time.
    """
    try:
        tree = ast.parse(source, mode="exec" if script else "eval")
    except SyntaxError:
        return None  # the compiler reports it
    known = set(BUILTIN_NAMES) | CATCHABLE | EL_NAMES | _bound(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        if name in known:
            continue
        if name in HELPERS:
            if script:
                continue
            return (
                f"{name}() runs in scripts only (script tasks, pre/post scripts); "
                "set a variable in a script and read it here"
            )
        if name in SPIFFARENA_ONLY:
            return (
                f"{name}() is a SpiffArena helper with no meaning in Laneway (the "
                "helpers here: " + ", ".join(f"{h}()" for h in sorted(HELPERS)) + ")"
            )
        return (
            f"{name}() is neither a Python builtin available here, a Laneway "
            "script helper nor a function the script defines"
        )
    return None
