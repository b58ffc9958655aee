"""Database triggers that make the audit table append-only, per database vendor."""

TABLE = "audit_auditevent"

POSTGRES_TRIGGERS = ("audit_no_update_delete", "audit_no_truncate")
SQLITE_TRIGGERS = ("audit_no_update", "audit_no_delete")

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE};
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
"""

SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS audit_no_update",
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE rejected'); END""",
    "DROP TRIGGER IF EXISTS audit_no_delete",
    f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE rejected'); END""",
]


def install(connection) -> None:
    """Create (or re-create) the append-only triggers on this connection's database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_INSTALL:
                cursor.execute(statement)


def expected(connection) -> tuple[str, ...]:
    """Return the trigger names this vendor must have."""
    return {"postgresql": POSTGRES_TRIGGERS, "sqlite": SQLITE_TRIGGERS}.get(
        connection.vendor, ()
    )


def missing(connection) -> list[str]:
    """Return the names of expected triggers that are not installed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
                " AND tgenabled <> 'D'",
                [TABLE],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected(connection) if name not in present]
