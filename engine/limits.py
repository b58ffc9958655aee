"""The adapter's run-time bounds come from Django settings, set once per process.

`engine.spiff` is pure (no settings), so `EngineConfig.ready()` hands it an
`EngineLimits` built from the `ENGINE_*` settings below, and hands it again
whenever one of them changes (`override_settings` in tests). The system check
`check_limits` (engine.E010) refuses values that are not positive integers;
until they are fixed, such a value leaves its limit at the default.
"""

from typing import Any, TypeGuard

from django.conf import settings

from .spiff import EngineLimits, limits_configure

# Django setting -> EngineLimits field.
LIMIT_SETTINGS = {
    "ENGINE_MAX_TREE_DEPTH": "max_tree_depth",
    "ENGINE_MAX_TASKS_PER_ADVANCE": "max_tasks_per_advance",
    "ENGINE_MAX_INSTANCES_PER_ADVANCE": "max_instances_per_advance",
    "ENGINE_EXPRESSION_TIME_LIMIT_MS": "expression_time_limit_ms",
    "ENGINE_SCRIPT_TIME_LIMIT_MS": "script_time_limit_ms",
    "ENGINE_SCRIPT_WORKERS": "script_workers",
    "ENGINE_SCRIPT_MEMORY_MB": "script_memory_mb",
}


# The account script workers drop to when the server runs as root (a string,
# so not in LIMIT_SETTINGS; engine.E011 checks that it exists).
SCRIPT_USER_SETTING = "ENGINE_SCRIPT_USER"


def _valid(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 1


def limits_invalid() -> dict[str, object]:
    """Return the limit settings that are set but are not positive integers."""
    values = {name: getattr(settings, name, None) for name in LIMIT_SETTINGS}
    return {n: v for n, v in values.items() if v is not None and not _valid(v)}


def limits_from_settings() -> EngineLimits:
    """Return the EngineLimits the settings ask for (defaults if unset or invalid)."""
    values = {f: getattr(settings, n, None) for n, f in LIMIT_SETTINGS.items()}
    valid: dict[str, Any] = {f: v for f, v in values.items() if _valid(v)}
    user = getattr(settings, SCRIPT_USER_SETTING, None)
    if isinstance(user, str) and user:
        valid["script_user"] = user
    return EngineLimits(**valid)


def limits_apply() -> None:
    """Hand the settings' limits to the adapter for this process."""
    limits_configure(limits_from_settings())


def on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """Re-apply the limits when one of their settings changes."""
    if setting in LIMIT_SETTINGS or setting == SCRIPT_USER_SETTING:
        limits_apply()
