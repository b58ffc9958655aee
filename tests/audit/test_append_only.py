"""The audit log is append-only at every level and its hash chains reveal tampering."""

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import triggers
from audit.errors import AuditIsAppendOnly
from audit.models import AuditEvent
from audit.selectors import audit_verify
from audit.services import GENESIS_HASH, audit_record
from engine.services import case_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_events(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 10, "justification": "pens"},
    )
    return case, list(AuditEvent.objects.filter(case_id=case.pk).order_by("chain_seq"))


def test_each_case_has_its_own_chain_starting_at_genesis(case_events):
    case, events = case_events
    assert events[0].chain == f"case:{case.pk}"
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'forged'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_database_rejects_changes_to_audit_rows(case_events, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="forged").count() == 0


def test_orm_refuses_update_and_delete(case_events):
    _, events = case_events
    with pytest.raises(AuditIsAppendOnly):
        AuditEvent.objects.filter(pk=events[0].pk).update(action="forged")
    with pytest.raises(AuditIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditIsAppendOnly):
        events[0].save()


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_a_programming_error(users):
    with pytest.raises(AssertionError):
        audit_record(actor=users["auditor"], action="x")


def test_verify_reports_the_first_tampered_event(case_events):
    _, events = case_events
    assert audit_verify().ok is True
    with connection.cursor() as cursor:  # an attacker with superuser rights
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_auditevent SET payload = '{}' WHERE id = %s", [events[1].pk]
        )
        cursor.execute("SET session_replication_role = origin")
    result = audit_verify()
    assert result.ok is False
    assert [(b.event_id, b.reason) for b in result.broken] == [
        (str(events[1].pk), "hash does not match the event's content")
    ]


def test_system_check_fails_when_a_trigger_is_missing(db):
    assert not [
        m
        for m in run_checks(tags=[Tags.database], databases=["default"])
        if m.id == "audit.E001"
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_no_truncate ON audit_auditevent")
    problems = [
        m
        for m in run_checks(tags=[Tags.database], databases=["default"])
        if m.id == "audit.E001"
    ]
    assert problems and "audit_no_truncate" in problems[0].msg
    call_command("install_audit_triggers")
    assert triggers.missing(connection) == []


def test_checkpoint_detects_a_truncated_chain_tail(case_events):
    from audit.services import audit_checkpoint

    case, events = case_events
    checkpoint = audit_checkpoint()
    assert checkpoint.payload["heads"][f"case:{case.pk}"] == [
        events[-1].chain_seq,
        events[-1].hash,
    ]
    assert audit_verify().ok is True
    with (
        connection.cursor() as cursor
    ):  # drop the last event of the case, as an attacker would
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
        cursor.execute("SET session_replication_role = origin")
    result = audit_verify()
    assert result.ok is False
    assert {b.chain for b in result.broken} == {f"case:{case.pk}"}
    assert any("checkpoint" in b.reason for b in result.broken)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditchainhead SET chain_seq = chain_seq - 1",
        "UPDATE audit_auditchainhead SET hash = 'forged'",
        "DELETE FROM audit_auditchainhead",
        "TRUNCATE audit_auditchainhead",
    ],
)
def test_database_lets_chain_heads_only_move_forward(case_events, statement):
    with pytest.raises(DatabaseError, match="only moves forward|append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert audit_verify().ok is True


def test_migrate_fails_loudly_when_a_migration_lost_a_trigger(db):
    from django.core.management.base import SystemCheckError

    from audit.checks import verify_after_migrate

    verify_after_migrate(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_head_forward ON audit_auditchainhead")
    with pytest.raises(SystemCheckError, match="audit_head_forward"):
        verify_after_migrate(sender=None)
