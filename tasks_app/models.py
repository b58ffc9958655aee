import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.uuids import uuid7
from engine.models import Case


class HumanTask(models.Model):
    """Inbox projection of a READY user/manual task of a case."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    # Time-ordered (common.uuids): a new task's rows (its own, its guardian
    # grants', its inbox candidates') go to the newest index pages.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: humantask_spiff_unique (case, spiff_task_id) leads
    # with it and serves every lookup by case.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="human_tasks", db_index=False
    )
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
        db_index=False,  # humantask_assignee_set (Meta)
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # humantask_owner_set (Meta)
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    form = models.JSONField(default=list, blank=True)
    # The Camunda Form (form-js JSON) the task renders instead of `form`, if any.
    form_js = models.JSONField(null=True, blank=True)
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
    # The values of the business-data columns the process declares (amount,
    # requester, ...) when the task was offered, and their text for the search.
    business_data = models.JSONField(default=dict, blank=True)
    search_text = models.TextField(blank=True, default="")
    # The task's local variables when it was offered (its camunda:inputOutput
    # input parameters, a multi-instance instance's element variable): as in
    # Camunda 7's task scope they hide the case variables of their names in
    # its form (`variables`).
    local_data = models.JSONField(default=dict, blank=True)
    # When the overdue reminder went out (once per task).
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The first claim or assignment (written with it; completing unclaimed claims):
    # the end of the task's waiting time in the cockpit's report.
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # humantask_completed_by_set (Meta)
    )

    class Meta:
        ordering = ["-priority", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "spiff_task_id"], name="humantask_spiff_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "assignee"]),
            # The overdue sweep: open tasks with a due date not yet reminded.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="open", overdue_notified_at__isnull=True),
                name="humantask_overdue_pending",
            ),
            # The cockpit: figures of a range, the rollups' live tail (tasks
            # offered and closed since the mark), overdue open tasks.
            models.Index(fields=["completed_at"], name="humantask_completed_at"),
            models.Index(fields=["created_at"], name="humantask_created_at"),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="open"),
                name="humantask_open_due",
            ),
            # A client finding the task of its case (GET /api/v1/tasks/?case=):
            # the case's open tasks, whatever the statistics of a table that
            # churns (issue #16: the open/unassigned index read thousands of
            # rows when its estimate was stale).
            models.Index(
                fields=["case"],
                condition=models.Q(status="open"),
                name="humantask_open_of_case",
            ),
            # The people a task names, by person: only the rows that name one
            # (a task is offered with none of them set and written again when
            # it closes; a full index took an entry of each at every step).
            # Their readers ask for one person (`= id`: deleting a user, that
            # PROTECT checks), which the partial index serves.
            *(
                models.Index(
                    fields=[person],
                    condition=models.Q(**{f"{person}__isnull": False}),
                    name=f"humantask_{person}_set",
                )
                for person in ("assignee", "owner", "completed_by")
            ),
        ]
        permissions = [
            ("work_on_humantask", "Can claim and complete the task"),
            ("reassign_humantask", "Can assign any open task to one of its candidates"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.case_id})"

    @property
    def variables(self) -> dict[str, Any]:
        """The variables the task sees: the case's, its local ones over them."""
        return {**self.case.data, **self.local_data}

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


def candidate_search(name: str, business_key: str | None, search_text: str) -> str:
    """Return `InboxCandidate.search` of a task: a word (no white space) is in it
    when it is in one of them."""
    return "\n".join((name, business_key or "", search_text))


class InboxCandidate(models.Model):
    """Who may find an open task in their inbox: one row per (task, principal).

    A projection of the guardian rows (and the assignee and the barred users) of
    the open tasks, for the inbox's first page: a group or a user that may work
    the task (its WORK rows), its assignee, and each user it bars, each row
    carrying the task's sort keys, assignee and process and whether its case is
    suspended. The inbox of a user is then a merge of the ordered index ranges
    of their few principals (`selectors`), and its counts read this index only.
    Written with every change of who may see a task or of its sort keys
    (`candidates`); a closed task has none. Guardian stays the word on object
    permissions (can_view, can_work).
    """

    class Kind(models.IntegerChoices):
        GROUP = 1  # principal: a group with a WORK row on the task
        USER = 2  # principal: a user with a WORK row on the task
        ASSIGNEE = 3  # principal: the task's assignee
        BARRED = 4  # principal: a user separateFrom bars from the task

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(
        HumanTask, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    principal = models.IntegerField()  # a group's id (GROUP) or a user's
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    process = models.ForeignKey(
        "processes.ProcessDefinition",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    suspended = models.BooleanField(default=False)
    priority = models.IntegerField()
    due_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    # What the inbox's search reads of the task besides its process's name and
    # key: its name, its case's business key and its business data
    # (`candidate_search`), one per line.
    search = models.TextField(default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "principal"], name="inboxcandidate_unique"
            ),
        ]
        indexes = [
            # A principal's open tasks, most urgent first (the inbox's default
            # sort, tie broken by the task), with what the counts and the
            # process choices read: index-only.
            models.Index(
                fields=[
                    "principal",
                    "kind",
                    "-priority",
                    "due_at",
                    "created_at",
                    "task",
                ],
                include=["assignee", "process"],
                condition=models.Q(suspended=False),
                name="inboxcandidate_urgent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.principal} of {self.task_id}"


class Comment(models.Model):
    """A remark on a case, or on one of its tasks; append-only like the audit log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    task = models.ForeignKey(
        HumanTask,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.case_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Store under the case, named by the row's id: the client's name is not a path."""
    return f"attachments/{instance.case_id}/{instance.pk}"


class Attachment(models.Model):
    """A file added to a case (from it or one of its tasks), in Django's storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    task = models.ForeignKey(
        HumanTask,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=255)  # as uploaded, for display and download
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return self.name


class SavedFilter(models.Model):
    """A named inbox query string a user keeps (search, filters, sort)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], name="savedfilter_user_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """A person's own settings (one row, created on first change)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="laneway_profile",
    )
    email_notifications = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"profile of {self.user_id}"
