from http import HTTPStatus

from common.errors import DomainError


class CockpitError(DomainError):
    """Root of every error the cockpit raises on purpose."""

    code = "cockpit_error"


class CockpitNotAllowed(CockpitError):
    code, status = "permission_denied", HTTPStatus.FORBIDDEN


class CaseDataInvalid(CockpitError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class MigrationInvalid(CockpitError):
    code, status = "invalid", HTTPStatus.BAD_REQUEST


class MigrationNotFound(CockpitError):
    code, status = "not_found", HTTPStatus.NOT_FOUND


class CaseNotSuspended(CockpitError):
    code = "case_not_suspended"
