from http import HTTPStatus

from common.errors import DomainError


class ProcessError(DomainError):
    """Root of every error the processes app raises on purpose."""

    code = "process_error"


class BpmnInvalid(ProcessError):
    code, status = "bpmn_invalid", HTTPStatus.BAD_REQUEST


class DefinitionNotFound(ProcessError):
    code, status = "process_not_found", HTTPStatus.NOT_FOUND


class VersionNotFound(ProcessError):
    code, status = "version_not_found", HTTPStatus.NOT_FOUND


class DeployNotAllowed(ProcessError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN
