"""System checks for engine settings."""

from django.core import checks
from django.utils.module_loading import import_string

from .limits import limits_invalid
from .operations import operation_registry


def check_service_operations(app_configs, **kwargs):
    errors = []
    for name, path in operation_registry().items():
        try:
            target = import_string(path)
        except ImportError as exc:
            errors.append(
                checks.Error(
                    f"ENGINE_SERVICE_OPERATIONS['{name}'] = '{path}' cannot be "
                    f"imported: {exc}",
                    hint="Fix the dotted path or remove the operation.",
                    id="engine.E001",
                )
            )
            continue
        if not callable(target):
            errors.append(
                checks.Error(
                    f"ENGINE_SERVICE_OPERATIONS['{name}'] is not callable.",
                    id="engine.E002",
                )
            )
    return errors


def check_limits(app_configs, **kwargs):
    """Refuse ENGINE_* limits that are not positive integers."""
    return [
        checks.Error(
            f"{name} = {value!r} is not a positive integer.",
            hint=f"Set {name} to a whole number of at least 1.",
            id="engine.E010",
        )
        for name, value in limits_invalid().items()
    ]
