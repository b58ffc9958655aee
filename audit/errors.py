from typing import ClassVar


class AuditError(Exception):
    """Root of every error the audit app raises on purpose."""

    code: ClassVar[str] = "audit_error"


class AuditIsAppendOnly(AuditError):
    """Raised when code tries to change or remove an audit event (a bug)."""

    code = "audit_append_only"


class AuditFilterInvalid(AuditError):
    """Raised when an audit filter or export format cannot be read; names each field."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
