"""Celery tasks of the cockpit: run a requested case migration with progress."""

from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.conf import settings

from .rollups import rollup
from .services import migration_run, migrations_sweep


@shared_task(name="cockpit.migration_run", acks_late=True)
def migration_run_task(migration_id: str) -> None:
    """Move the migration's cases one by one (each in its own locked transaction)."""
    migration_run(migration_id=UUID(migration_id))


@shared_task(name="cockpit.migrations_sweep")
def migrations_sweep_task() -> list[str]:
    """Beat: re-send migrations whose run never started or stopped midway."""
    stale = timedelta(seconds=settings.ENGINE_OUTBOX_STALE_SECONDS)
    return migrations_sweep(older_than=stale)


@shared_task(name="cockpit.rollup")
def rollup_task() -> str | None:
    """Beat: roll the cockpit's figures up to a minute ago (cockpit.rollups)."""
    until = rollup()
    return until.isoformat() if until else None
