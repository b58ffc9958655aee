"""Celery tasks of the cockpit: run a requested case migration with progress."""

from uuid import UUID

from celery import shared_task

from .services import migration_run


@shared_task(name="cockpit.migration_run", acks_late=True)
def migration_run_task(migration_id: str) -> None:
    """Move the migration's cases one by one (each in its own locked transaction)."""
    migration_run(migration_id=UUID(migration_id))
