"""Audit event ids are time-ordered (UUID version 7): new events go to the newest
pages of the primary key index, which with a million events are the ones in memory."""

import uuid

import pytest

from audit.models import AuditEvent
from tests.audit.helpers import start_case, token_client

pytestmark = pytest.mark.django_db


def _millis(event_id: uuid.UUID) -> int:
    return event_id.int >> 80


def test_a_case_trail_has_time_ordered_ids_and_verifies(users, purchase):
    case_id = start_case(
        token_client(users["requester"]),
        "purchase_request",
        {"amount": 7, "justification": "Ink"},
    )
    trail = list(AuditEvent.objects.filter(case_id=case_id).order_by("chain_seq"))
    assert trail
    assert {(e.id.version, e.id.variant) for e in trail} == {(7, uuid.RFC_4122)}
    stamps = [_millis(e.id) for e in trail]
    assert stamps == sorted(stamps)
    assert all(abs(_millis(e.id) - e.at.timestamp() * 1000) < 1000 for e in trail)
    assert len({e.id for e in trail}) == len(trail)
    verified = token_client(users["auditor"]).get("/api/v1/audit/verify/")
    assert verified.status_code == 200 and verified.json()["ok"] is True
