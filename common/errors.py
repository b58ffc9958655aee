"""The one base of every error an app raises on purpose (mapped in config/errors.py)."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar


class DomainError(Exception):
    """Root of the errors the apps raise on purpose, each with an HTTP status."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[HTTPStatus] = HTTPStatus.CONFLICT

    def __init__(
        self, message: str, *, details: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
