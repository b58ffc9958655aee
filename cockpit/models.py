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


class _RollupFigures(models.Model):
    """What a rollup row holds: how many rows of a version's metric and element
    (in a duration bucket) there are, with their smallest and largest seconds."""

    version = models.ForeignKey(
        "processes.ProcessVersion", on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(max_length=16)
    element = models.CharField(max_length=255, blank=True, default="")
    bucket = models.IntegerField()
    n = models.BigIntegerField()
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True


class Rollup(_RollupFigures):
    """One maintained aggregate of the cockpit's range figures (cockpit.rollups).

    Per process version, metric, element and day (in settings.TIME_ZONE): the
    count row (`bucket` -1: how many, the smallest and largest seconds) and, for
    the metrics that time something, one row per log-scale duration bucket.
    Written only by the rollup beat, for the rows older than its mark.
    """

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "metric", "element", "day", "bucket"],
                name="cockpit_rollup_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["metric", "day"], name="cockpit_rollup_day"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.element} {self.day} #{self.bucket}: {self.n}"


class RollupTotal(_RollupFigures):
    """The `Rollup` rows of every day summed, per version, metric, element and bucket.

    A range with no bound before the mark (the cockpit's default: all of a
    version's history) reads these few rows, not one per day: the reader's cost
    stays flat as the days pile up. Written by the beat in the statement that
    writes the day rows; `day` is the first day summed (the rows' smallest).
    """

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "metric", "element", "bucket"],
                name="cockpit_rolluptotal_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.element} since {self.day} #{self.bucket}: {self.n}"


class RollupMark(models.Model):
    """How far the rollups go: every source row timed before `until` is in them.

    One row; the beat locks it (SKIP LOCKED, so a second beat does nothing),
    adds the rows in [until, new until) and moves `until` in one transaction.
    `run` counts the moves, so a reader can tell the mark did not move while it
    read the rollups.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    until = models.DateTimeField(null=True, blank=True)
    run = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rollups until {self.until}"
