from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar


class TaskError(Exception):
    """Root of every error the tasks app raises on purpose."""

    code: ClassVar[str] = "task_error"
    status: ClassVar[HTTPStatus] = HTTPStatus.CONFLICT

    def __init__(
        self, message: str, *, details: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.details = message, dict(details or {})


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
