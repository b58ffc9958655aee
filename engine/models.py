import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models

from common import json_text
from common.uuids import uuid7
from processes.models import ProcessVersion

# The longest business key a case may have (and a message may be sent to).
BUSINESS_KEY_MAX_LENGTH = 255


@dataclass(slots=True)
class CaseStarted:
    """What the start that created a case did, in memory (engine.services.case_start).

    The start's answer is built from it without reading the case again: the
    elements it passed (as its audit trail lists them), the incidents it opened
    and the human tasks it offered (tasks_app adds them). `advances` counts the
    advances of this Case object; the record stands for the case only after
    exactly one (the start's own).
    """

    completed: dict[str, None] = field(default_factory=dict)
    incidents: list["Incident"] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    receive_waits: list["ReceiveWait"] = field(default_factory=list)
    advances: int = 0


class Case(models.Model):
    """One running (or finished) instance of a process version."""

    # Set by case_start on the case it created (None on a case read back).
    started: CaseStarted | None = None

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        SUSPENDED = "suspended", "Suspended"

    # Time-ordered (common.uuids): a new case's rows go to the newest index pages.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    version = models.ForeignKey(
        ProcessVersion, on_delete=models.PROTECT, related_name="cases"
    )
    business_key = models.CharField(
        max_length=BUSINESS_KEY_MAX_LENGTH, blank=True, default="", db_index=True
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    has_incident = models.BooleanField(default=False)
    # A task's named candidates resolved to nobody (it went to the default group).
    needs_attention = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    active_elements = models.JSONField(default=list, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="started_cases"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    next_timer_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revision = models.PositiveIntegerField(default=0)
    # NULL, not "": many cases have no key, and the unique constraint ignores NULLs.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True
    )
    # sha256 of the start request the idempotency key stands for (engine.idempotency).
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["started_by", "idempotency_key"],
                name="case_idempotency_key_unique",
            ),
        ]
        indexes = [
            # The cockpit: cases started / completed in a range (and the rollups'
            # live tail), and the open cases of a version now.
            models.Index(fields=["started_at"], name="case_started_at"),
            models.Index(fields=["ended_at"], name="case_ended_at"),
            models.Index(
                fields=["version", "status"],
                condition=models.Q(status__in=["running", "suspended"]),
                name="case_open_version",
            ),
            # The suspended cases (few), found without reading the others: the
            # dashboard's rolled-up open-case counts subtract them per version
            # (cockpit/dashboard.py _open_cases), and the case lists filtered to
            # "suspended" read them. The inbox no longer probes it: each
            # candidate row carries its case's suspension
            # (tasks_app InboxCandidate.suspended, written by candidates.py).
            models.Index(
                fields=["id"],
                condition=models.Q(status="suspended"),
                name="case_suspended",
            ),
        ]
        permissions = [
            ("cancel_any_case", "Can cancel any case"),
            ("view_any_case", "Can see every case"),
        ]

    def __str__(self) -> str:
        return f"{self.version.definition.key} {str(self.id)[-8:]}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class CaseState(models.Model):
    """The serialized SpiffWorkflow state of a case (without the spec)."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    # JSON text, not jsonb: SpiffWorkflow restores delta-encoded task data in the
    # order tasks appear, and jsonb reorders object keys (parents after children).
    state_json = models.TextField()
    serializer_version = models.CharField(max_length=16)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"state of {self.case_id} r{self.revision}"

    @property
    def state(self) -> dict:
        return json_text.loads(self.state_json)


class ServiceCall(models.Model):
    """Outbox row for one service-task call: run by a Celery worker, or an external
    worker when `external`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        BUSINESS_ERROR = "business_error", "Business error"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"  # the case or task moved on without it

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="service_calls"
    )
    spiff_task_id = models.UUIDField()
    bpmn_id = models.CharField(max_length=255)
    operation = models.CharField(max_length=255)
    params = models.JSONField(default=dict)
    epoch = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Per-task overrides from the diagram (<spiffworkflow:retry>); None: the settings.
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    backoff_seconds = models.FloatField(null=True, blank=True)
    # camunda:failedJobRetryTimeCycle: seconds to wait after each failed attempt,
    # in order, the last repeating (None: exponential backoff).
    retry_intervals = models.JSONField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True, default="")
    # Each failed attempt: [{"at", "attempt", "message"}, ...] (shown by the incident)
    errors = models.JSONField(default=list, blank=True)
    result = models.JSONField(null=True, blank=True)
    # An external task (Camunda 7's pattern): no Python operation runs it; an outside
    # worker fetches and locks it over /engine-rest/external-task/ (the operation is
    # its topic) and reports the outcome (engine.services.external_tasks).
    external = models.BooleanField(default=False)
    worker_id = models.CharField(max_length=255, blank=True, default="")
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    # The retries the worker reported with its last failure (None before any).
    retries = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "spiff_task_id", "epoch"],
                name="service_call_unique_attempt",
            ),
        ]
        indexes = [
            models.Index(
                fields=["operation", "status"],
                condition=models.Q(external=True),
                name="external_task_topic",
            ),
            # The cockpit: calls that succeeded in a range (a succeeded call is
            # not written again, so updated_at is when its result was applied).
            models.Index(
                fields=["updated_at"],
                condition=models.Q(status="succeeded"),
                name="service_call_succeeded_at",
            ),
        ]
        permissions = [
            ("work_external_tasks", "Can fetch, lock and complete external tasks")
        ]

    def __str__(self) -> str:
        return f"{self.operation} for {self.case_id}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.case_id}:{self.spiff_task_id}:{self.epoch}"


class Incident(models.Model):
    """Something that stopped a case and needs a person: a failed script or call."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Kind(models.TextChoices):
        """What failed (the field keeps no choices: adding them needs no migration)."""

        SCRIPT = "script", "Script or condition"
        ENGINE = "engine", "Engine limit"
        SERVICE = "service", "Service call"
        # A message the case sent matched no case, or several (Camunda 7's
        # MismatchingMessageCorrelationException); `detail` keeps the message.
        MESSAGE = "message", "Message not delivered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(max_length=32)  # an Incident.Kind
    spiff_task_id = models.CharField(max_length=64, blank=True, default="")
    bpmn_id = models.CharField(max_length=255, blank=True, default="")
    element_name = models.CharField(max_length=255, blank=True, default="")
    error_type = models.CharField(max_length=255, blank=True, default="")
    message = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # Every failed attempt of the step, oldest first: [{"at", "message"}, ...]. A retry
    # that fails again adds to it; the incident stays the one incident of the step.
    attempts = models.JSONField(default=list, blank=True)
    # A retry was asked for and has not failed or succeeded yet.
    retrying = models.BooleanField(default=False)
    # What a re-send needs: for a message incident {"name", "correlation", "data",
    # "reason"}; empty for the other kinds.
    detail = models.JSONField(default=dict, blank=True)
    # How it was resolved: "retry", "skip", "case_cancelled".
    resolution = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("retry_incident", "Can retry the failed step of a case")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.bpmn_id}: {self.message[:60]}"


class MessageSubscription(models.Model):
    """A message a running case waits for (rebuilt after every advance).

    `correlation` holds the SpiffWorkflow correlation properties the case already
    has for this message; Camunda-style correlation reads `Case.data` instead,
    or `variables` when the message is awaited inside a called process (an
    instance of its own in Camunda 7, with its own variables and, when
    `own_business_key`, its own `business_key`, "" for none; else the case's).
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="message_subscriptions"
    )
    name = models.CharField(max_length=255)
    bpmn_id = models.CharField(max_length=255, blank=True, default="")
    correlation = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(null=True, blank=True, default=None)
    own_business_key = models.BooleanField(default=False)
    business_key = models.CharField(
        max_length=BUSINESS_KEY_MAX_LENGTH, blank=True, default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "case"], name="msg_sub_name_case"),
            # A called process's own business key (few rows: services.messages).
            models.Index(
                fields=["name", "business_key"],
                condition=models.Q(own_business_key=True),
                name="msg_sub_own_key",
            ),
        ]
        permissions = [("send_message", "Can send messages to waiting cases")]

    def __str__(self) -> str:
        return f"{self.case_id} waits for {self.name}"


class TimerStartSchedule(models.Model):
    """When a timer start event of a deployed version next starts a case.

    One row per timer start event of each version; a newer version of the
    process clears the older versions' `next_at`, and only deployed versions
    are swept. The sweep locks the row (FOR UPDATE SKIP LOCKED) while it starts
    the case and moves `next_at`, so each due moment starts exactly one case.
    """

    version = models.ForeignKey(
        ProcessVersion, on_delete=models.CASCADE, related_name="timer_starts"
    )
    bpmn_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)  # date | duration | cycle | cron
    value = models.CharField(max_length=255)
    next_at = models.DateTimeField(null=True, blank=True)  # None: never again
    remaining = models.IntegerField(null=True, blank=True)  # None: no end
    fired = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "bpmn_id"], name="timer_start_unique"
            )
        ]
        indexes = [models.Index(fields=["next_at"], name="timer_start_due")]

    def __str__(self) -> str:
        return f"{self.version} {self.bpmn_id} next {self.next_at}"


class SignalSubscription(models.Model):
    """A signal a running case waits for (rebuilt after every advance).

    A broadcast finds its cases through the (name, case) index, not a scan.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="signal_subscriptions"
    )
    name = models.CharField(max_length=255)
    bpmn_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["name", "case"], name="signal_sub_name_case")]
        permissions = [("send_signal", "Can broadcast signals to cases")]

    def __str__(self) -> str:
        return f"{self.case_id} waits for signal {self.name}"


class ReceiveWait(models.Model):
    """A receive task without a message a running case waits at (rebuilt after
    every advance), until it is signalled by its execution id: Camunda 7's
    `RuntimeService.signal(executionId)` (engine/spiff/receive_waits.py).
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="receive_waits"
    )
    # The waiting task's id: the execution id a signal names (ExecutionDto.id).
    spiff_task_id = models.UUIDField(unique=True)
    bpmn_id = models.CharField(max_length=255)
    element_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        permissions = [
            ("signal_receive", "Can continue cases waiting at a receive task")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} waits at {self.bpmn_id}"


class SignalBroadcast(models.Model):
    """A signal sent through the API with an Idempotency-Key, and what it did."""

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    idempotency_key = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    # The request digest (idempotency.body_fingerprint); "" before it was kept.
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"], name="signal_idempotency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"signal {self.name} ({self.idempotency_key})"


class ConditionEvaluation(models.Model):
    """A condition evaluation sent with an Idempotency-Key, and the cases it started.

    Written in the transaction that starts the cases, so a concurrent request
    with the same key waits for it and replays its answer.
    """

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    idempotency_key = models.CharField(max_length=255)
    # The request digest (idempotency.body_fingerprint).
    fingerprint = models.CharField(max_length=64)
    # The ids of the cases it started, in order.
    started = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                name="condition_idempotency_unique",
            )
        ]
        permissions = [
            (
                "evaluate_conditions",
                "Can start cases by their conditional start events",
            )
        ]

    def __str__(self) -> str:
        return f"condition evaluation ({self.idempotency_key})"


class MessageRequest(models.Model):
    """A message sent through the API with an Idempotency-Key, and its answer.

    Written in the transaction that delivers the message, so a concurrent
    request with the same key waits for it and replays its answer.
    """

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    result = models.JSONField(default=dict)  # {"delivered", "started", "buffered"}
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"], name="message_idempotency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"message request {self.idempotency_key}"


class BufferedMessage(models.Model):
    """A message no case waited for, kept until `expires_at` (Zeebe-style TTL).

    The first case that starts waiting for `name` with matching correlation
    (and `business_key`, when one was given) gets it
    (engine.services.message_buffer); the row is then deleted, as it
    is when beat finds it expired. The audit log keeps what happened to it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    correlation = models.JSONField(default=dict, blank=True)
    # "": any case; else only a case with this business key takes it.
    business_key = models.CharField(
        max_length=BUSINESS_KEY_MAX_LENGTH, blank=True, default=""
    )
    data = models.JSONField(default=dict, blank=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["name", "expires_at"], name="msg_buffer_name"),
            models.Index(fields=["expires_at"], name="msg_buffer_expiry"),
        ]

    def __str__(self) -> str:
        return f"buffered {self.name} until {self.expires_at}"


class CaseOutbox(models.Model):
    """Something a case sent, written in the sending transaction, until delivered.

    The delivery deletes the row in its own transaction, so it happens once;
    rows left behind (the broker lost the task, a worker died) are re-sent by
    the outbox sweep (engine.services.outbox).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True


class MessageOutbox(CaseOutbox):
    """A message a case sent: to a case, to a started case, or an incident."""

    payload = models.JSONField(default=dict, blank=True)
    correlation = models.JSONField(default=dict, blank=True)
    bpmn_id = models.CharField(max_length=255, blank=True, default="")
    element_name = models.CharField(max_length=255, blank=True, default="")
    # The outside parties (black-box pools) the diagram's message flows send it
    # to, when all of them go to one; "" otherwise (message_sends._route).
    outside = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"message {self.name} from {self.case_id}"


class SignalOutbox(CaseOutbox):
    """A signal a case threw, for every other case waiting and process it starts.

    `payload`: what the throw event passes (an object, any JSON, or None).
    """

    payload = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"signal {self.name} from {self.case_id}"


class SignalDelivery(CaseOutbox):
    """A broadcast signal a waiting case was too busy to take: it gets it later.

    `case` is the case that waited when the signal was broadcast (not the
    thrower): only those cases get a row, so a case that starts waiting after
    the broadcast never gets it. The row is deleted in the transaction that
    delivers it (one row per broadcast and case), so the case gets the
    broadcast once; while the case stays busy the outbox sweep sends it again.
    """

    # No database constraint: checking it would take a key-share lock on the
    # case row, which the command holding the case blocks; Django cascades.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    broadcast = models.UUIDField()
    payload = models.JSONField(null=True, blank=True)
    # Who broadcast it (None: the system, a signal a case threw).
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "case"], name="signal_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"signal {self.name} for {self.case_id}"
