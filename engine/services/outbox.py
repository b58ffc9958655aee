"""The outbox of what a case sends to other cases (messages, signals).

A case's advance writes a row in the sending transaction and queues a Celery
task when it commits (never before: a rolled-back send must not reach anyone).
The task takes the row (`outbox_take`, locked, skipping one another worker
holds), delivers, and deletes the row in the same transaction, so a delivery
happens once; a row the broker or a dying worker lost is re-sent by the sweep.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from celery import current_app
from django.db import transaction
from django.utils import timezone

from engine.models import CaseOutbox

Row = TypeVar("Row", bound=CaseOutbox)
logger = logging.getLogger(__name__)


@contextmanager
def outbox_take(model: type[Row], pk: UUID | str) -> Iterator[Row | None]:
    """Lock one outbox row in a transaction; delete it when the block succeeds.

    Yields None when it is gone (delivered already) or another worker holds
    it. An exception in the block rolls the delivery back and leaves the row
    for the sweep.
    """
    with transaction.atomic():
        row = (
            model._default_manager.select_for_update(skip_locked=True)
            .filter(pk=pk)
            .first()
        )
        yield row
        if row is not None:
            row.delete()


def outbox_stale(model: type[CaseOutbox], *, older_than: timedelta) -> list[UUID]:
    """Return the ids of rows still undelivered after `older_than` (oldest first)."""
    stale = timezone.now() - older_than
    return list(
        model._default_manager.filter(created_at__lt=stale)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def outbox_enqueue(task: str, ids: list[UUID]) -> None:
    """Send outbox rows to the worker queue (after the commit)."""
    for pk in ids:
        try:
            current_app.send_task(task, args=[str(pk)])
        except Exception:  # noqa: BLE001 - any broker error; the row is the source of truth
            logger.warning(
                "could not enqueue %s %s; the outbox sweep will",
                task,
                pk,
                exc_info=True,
            )


def outbox_write(model: type[Row], task: str, rows: list[Row]) -> None:
    """Write outbox rows in the sending transaction; queue them when it commits."""
    if rows:
        model._default_manager.bulk_create(rows)
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: outbox_enqueue(task, ids))
