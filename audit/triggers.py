"""Database triggers that make the audit table append-only, per database vendor."""

TABLE = "audit_auditevent"
HEADS = "audit_auditchainhead"

POSTGRES_TRIGGERS = (
    "audit_no_update_delete",
    "audit_no_truncate",
    "audit_head_forward",
    "audit_head_no_truncate",
)
SQLITE_TRIGGERS = (
    "audit_no_update",
    "audit_no_delete",
    "audit_head_forward",
    "audit_head_no_delete",
)

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

# A chain head only moves forward (the upsert of audit_record); it is never removed.
POSTGRES_HEADS_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_head_only_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.chain_seq > OLD.chain_seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{HEADS} only moves forward: % rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_head_forward ON {HEADS};
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON {HEADS}
    FOR EACH ROW EXECUTE FUNCTION audit_head_only_forward();
DROP TRIGGER IF EXISTS audit_head_no_truncate ON {HEADS};
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON {HEADS}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
"""

SQLITE_HEADS_INSTALL = [
    "DROP TRIGGER IF EXISTS audit_head_forward",
    f"""CREATE TRIGGER audit_head_forward BEFORE UPDATE ON {HEADS}
        WHEN NEW.chain <> OLD.chain OR NEW.chain_seq <= OLD.chain_seq
        BEGIN SELECT RAISE(ABORT, '{HEADS} only moves forward: UPDATE rejected');
        END""",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    f"""CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON {HEADS}
        BEGIN SELECT RAISE(ABORT, '{HEADS} only moves forward: DELETE rejected');
        END""",
]

SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS audit_no_update",
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE rejected');
        END""",
    "DROP TRIGGER IF EXISTS audit_no_delete",
    f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE rejected');
        END""",
]


def install(connection) -> None:
    """Create (or re-create) the append-only triggers on this connection's database.

    The chain-head triggers are installed once their table exists (migration 0003).
    """
    with_heads = HEADS in connection.introspection.table_names()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
            if with_heads:
                cursor.execute(POSTGRES_HEADS_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_INSTALL + (
                SQLITE_HEADS_INSTALL if with_heads else []
            ):
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
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN "
                "(%s::regclass, %s::regclass) AND tgenabled <> 'D'",
                [TABLE, HEADS],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name IN (%s, %s)",
                [TABLE, HEADS],
            )
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected(connection) if name not in present]
