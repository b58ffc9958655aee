from typing import ClassVar


class AuditError(Exception):
    """Root of every error the audit app raises on purpose."""

    code: ClassVar[str] = "audit_error"


class AuditIsAppendOnly(AuditError):
    """Raised when code tries to change or remove an audit event (a programming error)."""

    code = "audit_append_only"
