"""The cockpit's services: repairs of one case or a version (suspend, resume, data,
modification), and case migrations."""

from .migrations import (
    MigrationResult,
    cases_migrate_check,
    migration_allowed_check,
    migration_get,
    migration_request,
    migration_run,
    migrations_sweep,
)
from .repairs import (
    BulkResult,
    case_data_change,
    case_modify,
    case_repair_check,
    case_repairable,
    case_resume,
    case_suspend,
    version_cases_suspend,
    version_repair_check,
)

__all__ = [
    "BulkResult",
    "MigrationResult",
    "case_data_change",
    "case_modify",
    "case_repair_check",
    "case_repairable",
    "case_resume",
    "case_suspend",
    "cases_migrate_check",
    "migration_allowed_check",
    "migration_get",
    "migration_request",
    "migration_run",
    "migrations_sweep",
    "version_cases_suspend",
    "version_repair_check",
]
