import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from engine.models import Case


class HumanTask(models.Model):
    """Inbox projection of a READY user/manual task of a case."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="human_tasks")
    spiff_task_id = models.UUIDField()
    bpmn_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    documentation = models.TextField(blank=True, default="")
    lane = models.CharField(max_length=255, blank=True, default="")
    candidate_groups = models.JSONField(default=list, blank=True)
    candidate_users = models.JSONField(default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    form = models.JSONField(default=list, blank=True)
    separate_from = models.JSONField(default=list, blank=True)
    # Who `separate_from` bars from this task (the case's starter, those who
    # completed the listed steps); kept as rows so the inbox can exclude them.
    barred = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    draft = models.JSONField(
        default=dict, blank=True
    )  # a delegate's answer, for the owner
    due_at = models.DateTimeField(null=True, blank=True)
    follow_up_at = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-priority", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "spiff_task_id"], name="humantask_spiff_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "assignee"])]
        permissions = [
            ("work_on_humantask", "Can claim and complete the task"),
            ("reassign_humantask", "Can assign any open task to one of its candidates"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.case_id})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()
