"""System checks: the append-only triggers must exist after every migrate."""

from django.core import checks
from django.core.management.base import SystemCheckError
from django.db import connections
from django.db.utils import DatabaseError

from . import triggers


def _problems(databases) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        try:
            if triggers.TABLE not in connection.introspection.table_names():
                continue  # not migrated yet: `migrate` installs the triggers
            names = triggers.missing(connection)
        except DatabaseError:
            continue  # database unreachable: other checks and /healthz report that
        if names:
            errors.append(
                checks.Error(
                    f"The audit log is not append-only on database '{alias}': "
                    f"trigger(s) {', '.join(names)} missing on {triggers.TABLE}.",
                    hint="Run `manage.py migrate audit` or `manage.py "
                    "install_audit_triggers` to re-create them.",
                    id="audit.E001",
                )
            )
    return errors


def check_append_only_triggers(app_configs, databases=None, **kwargs):
    return _problems(databases)


def verify_after_migrate(sender, using="default", **kwargs) -> None:
    """Fail `migrate` loudly if a migration (SQLite table rebuild) lost a trigger."""
    problems = _problems([using])
    if problems:
        raise SystemCheckError(f"{problems[0].msg} {problems[0].hint}")
