from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar


class ProcessError(Exception):
    """Root of every error the processes app raises on purpose."""

    code: ClassVar[str] = "process_error"
    status: ClassVar[HTTPStatus] = HTTPStatus.CONFLICT

    def __init__(
        self, message: str, *, details: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.details = message, dict(details or {})


class BpmnInvalid(ProcessError):
    code, status = "bpmn_invalid", HTTPStatus.BAD_REQUEST


class DefinitionNotFound(ProcessError):
    code, status = "process_not_found", HTTPStatus.NOT_FOUND


class VersionNotFound(ProcessError):
    code, status = "version_not_found", HTTPStatus.NOT_FOUND


class DeployNotAllowed(ProcessError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN
