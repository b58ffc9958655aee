"""Every audit action, in one enumeration; the stored text is the member's value.

Also the one format of `AuditEvent.task_ref` for a human task ("<bpmn id>:<task
id>"): tasks_app writes it and engine and the timeline read the element back
through these functions, so no app parses another app's string.
"""

from enum import StrEnum


class AuditAction(StrEnum):
    """What an audit event records."""

    CASE_STARTED = "case.started"
    CASE_COMPLETED = "case.completed"
    CASE_CANCELLED = "case.cancelled"
    CASE_SUSPENDED = "case.suspended"
    CASE_RESUMED = "case.resumed"
    CASE_DATA_CHANGED = "case.data_changed"
    CASE_MIGRATED = "case.migrated"
    # Process instance modification: tokens cancelled / started by a process admin.
    CASE_MODIFIED = "case.modified"
    ELEMENT_COMPLETED = "element.completed"
    # A call activity started a process of another file: the version it runs
    # (resolved when it starts: calledElementBinding latest or version).
    CALL_STARTED = "call.started"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_RETRY_REQUESTED = "incident.retry_requested"
    INCIDENT_RETRY_FAILED = "incident.retry_failed"
    INCIDENT_SKIPPED = "incident.skipped"
    MESSAGE_DELIVERED = "message.delivered"
    # A message a case sent reached no case (none, or several, matched it).
    MESSAGE_UNDELIVERED = "message.undelivered"
    # A message nothing in Laneway takes, which the diagram's message flows send to
    # an outside party (a black-box pool): it went there, as Camunda 7 runs it.
    MESSAGE_SENT_OUTSIDE = "message.sent_outside"
    # A process admin re-sent an undelivered message and it reached a case (or,
    # with `to`, went to the outside party its message flows go to).
    MESSAGE_RESENT = "message.resent"
    # Sent through the API with ttl_s, matched no case: kept (system chain) until
    # a case waits for it (message.delivered, buffered=id) or it expires.
    MESSAGE_BUFFERED = "message.buffered"
    MESSAGE_EXPIRED = "message.expired"
    SIGNAL_DELIVERED = "signal.delivered"
    # A receive task without a message was signalled by its execution id
    # (Camunda 7's RuntimeService.signal) and the case went on.
    RECEIVE_SIGNALLED = "receive.signalled"
    TIMER_FIRED = "timer.fired"
    SERVICE_QUEUED = "service.queued"
    # An external worker fetched and locked an external task (one per fetch).
    SERVICE_STARTED = "service.started"
    # Its worker gave an external task back unfinished (unlock): fetchable again.
    SERVICE_UNLOCKED = "service.unlocked"
    SERVICE_SUCCEEDED = "service.succeeded"
    SERVICE_RETRY_SCHEDULED = "service.retry_scheduled"
    SERVICE_FAILED = "service.failed"
    SERVICE_BUSINESS_ERROR = "service.business_error"
    # A BPMN error (error end event, service or external task) that no error
    # event caught: the path that threw it ended, as at a none end event.
    ERROR_UNCAUGHT = "error.uncaught"
    SERVICE_DISCARDED = "service.discarded"
    SERVICE_RETRIED = "service.retried"
    TASK_CREATED = "task.created"
    # Its candidates resolved to nobody: offered to the default group, case flagged.
    TASK_UNROUTED = "task.unrouted"
    TASK_CLAIMED = "task.claimed"
    TASK_UNCLAIMED = "task.unclaimed"
    TASK_ASSIGNED = "task.assigned"
    TASK_DELEGATED = "task.delegated"
    TASK_RESOLVED = "task.resolved"
    TASK_UPDATED = "task.updated"  # due date or priority changed
    # A due date, follow-up date or priority variable held an unreadable value.
    TASK_VALUE_UNREADABLE = "task.value_unreadable"
    TASK_COMPLETED = "task.completed"
    TASK_CANCELLED = "task.cancelled"
    COMMENT_ADDED = "comment.added"
    # A file added to a case; its sha256 is in the payload.
    ATTACHMENT_ADDED = "attachment.added"
    PROCESS_DEPLOYED = "process.deployed"
    GROUP_CREATED = "group.created"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"
    GROUP_MEMBERS_CLEARED = "group.members_cleared"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_CHECKPOINT = "audit.checkpoint"


def task_ref_for(*, bpmn_id: str, task_id: object) -> str:
    """Return the task_ref of a human task: its element id and its inbox id."""
    return f"{bpmn_id}:{task_id}"


def task_ref_element(task_ref: str) -> str:
    """Return the BPMN element id a task_ref names (human task or element)."""
    return task_ref.split(":")[0]
