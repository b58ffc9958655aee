"""A migration of running cases from one version of a process to another."""

import uuid

from django.conf import settings
from django.db import models


class CaseMigration(models.Model):
    """One request to move cases; the worker moves them one by one (its progress).

    `case_ids` are the cases chosen when it was requested; each is listed under
    `migrated`, `refused` (with its problems) or `busy` in the same transaction
    that moved it, so a redelivered run never moves a case twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    process_key = models.CharField(max_length=255)
    from_version = models.PositiveIntegerField()
    to_version = models.PositiveIntegerField()
    mapping = models.JSONField(default=dict)
    reason = models.CharField(max_length=1000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    case_ids = models.JSONField(default=list)
    migrated = models.JSONField(default=list)
    refused = models.JSONField(default=list)
    busy = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["process_key", "-requested_at"])]

    def __str__(self) -> str:
        return f"{self.process_key} v{self.from_version} → v{self.to_version}"

    @property
    def done(self) -> int:
        return len(self.migrated) + len(self.refused) + len(self.busy)
