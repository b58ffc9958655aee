"""System checks for engine settings."""

import os
import pwd

from django.conf import settings
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


def check_script_user(app_configs, **kwargs):
    """As root, script workers drop to ENGINE_SCRIPT_USER: a real non-root account."""
    if os.geteuid() != 0:
        return []
    name = settings.ENGINE_SCRIPT_USER
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        uid = None
    if uid is None or uid == 0:
        problem = "does not exist" if uid is None else "is root"
        return [
            checks.Error(
                f"ENGINE_SCRIPT_USER = {name!r} {problem}; script workers started "
                "as root must drop to an unprivileged account.",
                hint="Create the account (e.g. 'nobody') or run Laneway as an "
                "unprivileged user (README: Running unprivileged).",
                id="engine.E011",
            )
        ]
    return []
