from http import HTTPStatus

from common.errors import DomainError


class TaskError(DomainError):
    """Root of every error the tasks app raises on purpose."""

    code = "task_error"


class TaskNotFound(TaskError):
    code, status = "task_not_found", HTTPStatus.NOT_FOUND


class TaskAlreadyClaimed(TaskError):
    code = "task_already_claimed"


class TaskNotOpen(TaskError):
    code = "task_not_open"


class NotTaskCandidate(TaskError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN


class SeparationOfDuties(TaskError):
    code, status = "separation_of_duties", HTTPStatus.FORBIDDEN


class AssigneeInvalid(TaskError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class TaskInputInvalid(TaskError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class CommentInvalid(TaskError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class AttachmentInvalid(TaskError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class AttachmentTooLarge(TaskError):
    code, status = "attachment_too_large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class AttachmentNotFound(TaskError):
    code, status = "attachment_not_found", HTTPStatus.NOT_FOUND


class FilterNotFound(TaskError):
    code, status = "filter_not_found", HTTPStatus.NOT_FOUND


class ContributionNotAllowed(TaskError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN
