from http import HTTPStatus

from common.errors import DomainError


class EngineError(DomainError):
    """Root of every error the engine raises on purpose."""

    code = "engine_error"


class CaseNotFound(EngineError):
    code, status = "case_not_found", HTTPStatus.NOT_FOUND


class CaseBusy(EngineError):
    code = "case_busy"  # the wait for the case row lock timed out (lock_timeout)


class CaseNotRunning(EngineError):
    code = "case_not_running"


class CaseSuspended(EngineError):
    """The case is suspended: it refuses every command until someone resumes it."""

    code = "case_suspended"


class TaskNoLongerOpen(EngineError):
    """The human task the command names is no longer waiting for a person."""

    code = "task_not_open"


class AssignmentListenerFailed(EngineError):
    """A task's assignment listener failed: the assignment did not happen."""

    code = "assignment_listener_failed"


class TaskCompletionFailed(EngineError):
    """The task's own completion failed (a complete or end listener, an output
    parameter, a multi-instance completion condition): as in Camunda 7, the
    completion did not happen."""

    code = "task_completion_failed"


class CancellationFailed(EngineError):
    """An end listener failed while the case was being cancelled: as in
    Camunda 7 (the deletion fails and rolls back), the case is unchanged."""

    code = "cancellation_failed"


class StartNotAllowed(EngineError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN


class ActionNotAllowed(EngineError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN


class FormInvalid(EngineError):
    """Submitted data breaks the form; details = {"fields": {field: [messages]}}."""

    code, status = "invalid", HTTPStatus.BAD_REQUEST


class IncidentNotFound(EngineError):
    code, status = "incident_not_found", HTTPStatus.NOT_FOUND


class IncidentNotOpen(EngineError):
    code = "incident_not_open"


class MessageStartOnly(EngineError):
    """The process starts only by its message; a plain case start is refused."""

    code, status = "message_start_only", HTTPStatus.CONFLICT


class IncidentRetryUnsupported(EngineError):
    """Retrying the failed step would do it a second time (a user task's
    completion that failed before completions were refused)."""

    code = "incident_retry_unsupported"


class IncidentSkipUnsupported(EngineError):
    """Only a failed service task can be completed with data a person enters."""

    code = "incident_skip_unsupported"


class NoConditionalStart(EngineError):
    """A condition evaluation found no conditional start event to evaluate."""

    code, status = "no_conditional_start", HTTPStatus.NOT_FOUND


class MessageNotCorrelated(EngineError):
    """No running case waits for the message (and no process starts with it)."""

    code, status = "message_not_correlated", HTTPStatus.NOT_FOUND


class MessageAmbiguous(EngineError):
    """Several cases match a message sent without `all`; none got it."""

    code = "message_ambiguous"


class IdempotencyKeyReused(EngineError):
    """The Idempotency-Key already started a case from a different request."""

    code, status = "idempotency_key_reused", HTTPStatus.UNPROCESSABLE_ENTITY


class StartOnlyByEvent(EngineError):
    """The process starts only by its timer or signal start events, never by hand."""

    code, status = "start_only_by_event", HTTPStatus.CONFLICT


class NotStartableInTasklist(EngineError):
    """The process is not started from the start page
    (camunda:isStartableInTasklist="false"); the API still starts it."""

    code, status = "not_startable_in_tasklist", HTTPStatus.CONFLICT


class ReceiveNotWaiting(EngineError):
    """No receive task waits with the execution id (never, or not any more)."""

    code, status = "execution_not_waiting", HTTPStatus.NOT_FOUND


class ExternalTaskNotFound(EngineError):
    """No external task has the id, or it is finished (Camunda deletes those)."""

    code, status = "external_task_not_found", HTTPStatus.NOT_FOUND


class ExternalTaskNotLocked(EngineError):
    """The worker does not hold the task's lock (another does, or none: 400)."""

    code, status = "external_task_not_locked", HTTPStatus.BAD_REQUEST


class ModificationRefused(EngineError):
    """A case modification instruction cannot be applied; nothing changed.

    details = {"instruction": index (0-based), "element": id, "reason": text}.
    """

    code, status = "modification_refused", HTTPStatus.CONFLICT
