"""A command's audit events go in as the ORM would write them, and hash as before.

`audit_record` keeps, with each buffered event, the values its insert sends
(and the canonical text it hashes), made from what it already has instead of
read back from the event: these must be exactly what Django prepares from the
event, and the hash exactly `canonical_form`'s, whatever the actor, case and
payload are.
"""

import datetime
import decimal
import uuid

import pytest
from django.db import transaction
from psycopg.types.json import Jsonb

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.services import (
    _open_batch,
    audit_batch,
    audit_record,
    canonical_form,
    event_hash,
)
from common.sql import _insert_fields, _values
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.audit.helpers import token_client

pytestmark = pytest.mark.django_db

PAYLOADS = [
    {},
    {"data": {"approved": True, "amount": 120.5, "note": 'é 😀 " \\'}},
    {"n": 1e16, "z": -0.0, "t": (1, 2), "big": 2**70},
    {"when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)},
    {"id": uuid.UUID(int=5), "d": decimal.Decimal("1.10"), "nested": [[{"k": None}]]},
]


def _same(a, b) -> bool:
    if isinstance(a, Jsonb):
        return (
            isinstance(b, Jsonb) and a.obj == b.obj and a.dumps(a.obj) == b.dumps(b.obj)
        )
    return type(a) is type(b) and a == b


def test_buffered_rows_are_what_the_orm_prepares_and_hashes_match(users):
    case_id = uuid.uuid4()
    actors = [None, users["manager1"], "a-service", users["requester"]]
    with transaction.atomic():
        with audit_batch(new_case=case_id):
            events = []
            for i, payload in enumerate(PAYLOADS * 2):
                events.append(
                    audit_record(
                        actor=actors[i % len(actors)],
                        action=AuditAction.TASK_COMPLETED,
                        case_id=case_id if i % 3 else str(case_id),
                        process_key="purchase_request",
                        version_id=None if i % 2 else 7,
                        task_ref=f"review:{i}",
                        on_behalf_of="owner" if i == 3 else "",
                        payload=payload,
                    )
                )
            batch = _open_batch()
            assert batch is not None and len(batch.rows) == len(events)
            fields = _insert_fields(AuditEvent)
            for event, row in zip(events, batch.rows, strict=True):
                assert row is not None
                expected = _values(fields, [event], pre_save=True)
                assert expected is not None
                assert all(map(_same, row, expected[0])), (row, expected[0])
        transaction.set_rollback(True)
    previous = None
    for event in events:
        values = {name: getattr(event, name) for name in (*CANONICAL, "hash")}
        assert event.hash == event_hash(event.prev_hash, canonical_form(values))
        if previous is not None:
            assert event.prev_hash == previous.hash
        previous = event


CANONICAL = [f.attname for f in AuditEvent._meta.concrete_fields if f.attname != "hash"]


def test_a_completed_step_trail_verifies_after_the_round_trip(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 120.25, "justification": "Ink 😀"},
    )
    for user, data in (
        ("manager1", {"approved": True}),
        ("finance", {"finance_approved": True}),
    ):
        task = HumanTask.objects.get(case=case, status="open")
        task_complete(user=users[user], task_id=task.pk, data=data)
    trail = list(AuditEvent.objects.filter(case_id=case.pk).order_by("chain_seq"))
    assert trail[-1].action == "case.completed"
    for event in trail:
        values = {f: getattr(event, f) for f in CANONICAL}
        assert event.hash == event_hash(event.prev_hash, canonical_form(values))
    verified = token_client(users["auditor"]).get("/api/v1/audit/verify/")
    assert verified.status_code == 200 and verified.json()["ok"] is True
