"""The verifier names every broken event of every chain, and a changed tail at once."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import CANONICAL_FIELDS, canonical_form, event_hash
from tests.audit.helpers import start_case, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(users, purchase):
    client = token_client(users["requester"])
    ids = [
        start_case(client, "purchase_request", {"amount": n, "justification": "x"})
        for n in (1, 2)
    ]
    return [
        list(AuditEvent.objects.filter(case_id=i).order_by("chain_seq")) for i in ids
    ]


def _as_attacker(sql: str, params: list) -> None:
    """Run SQL as a superuser who switched the append-only triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


def _verify(users) -> dict:
    response = token_client(users["auditor"]).get("/api/v1/audit/verify/")
    assert response.status_code == 200
    return response.json()


def _broken(users) -> list[tuple[str, int, str]]:
    return [(b["chain"], b["chain_seq"], b["reason"]) for b in _verify(users)["broken"]]


def test_every_broken_event_of_every_chain_is_reported(users, cases):
    first, second = cases
    assert _verify(users)["ok"] is True
    for event in (first[0], first[1], second[1]):
        _as_attacker(
            "UPDATE audit_auditevent SET actor_repr = 'mallory' WHERE id = %s",
            [event.pk],
        )
    result = _verify(users)
    assert result["ok"] is False and result["broken_count"] == 3
    reported = {(b["event_id"], b["chain"], b["reason"]) for b in result["broken"]}
    assert reported == {
        (str(e.pk), e.chain, "hash does not match the event's content")
        for e in (first[0], first[1], second[1])
    }


def test_a_deleted_middle_event_is_reported_once_and_later_tampering_still_found(
    users, cases
):
    events = cases[0]
    chain = events[0].chain
    assert len(events) >= 3
    _as_attacker("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk])
    _as_attacker(
        "UPDATE audit_auditevent SET payload = '{}' WHERE id = %s", [events[-1].pk]
    )
    assert _broken(users) == [
        (
            chain,
            2,
            "expected sequence 1, found 2 (events missing before it); "
            "prev_hash does not match the previous event's hash",
        ),
        (chain, events[-1].chain_seq, "hash does not match the event's content"),
    ]


def test_deleting_the_last_event_of_a_case_is_detected_at_once(users, cases):
    events = cases[0]
    _as_attacker("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    last = events[-2].chain_seq
    assert _broken(users) == [
        (
            events[0].chain,
            last,
            f"the head records #{last + 1}: events after #{last} are missing",
        )
    ]


def test_a_consistently_rewritten_last_event_is_detected_at_once(users, cases):
    last = cases[0][-1]
    values = {name: getattr(last, name) for name in CANONICAL_FIELDS}
    values["actor_repr"] = "mallory"
    forged = event_hash(last.prev_hash, canonical_form(values))
    _as_attacker(
        "UPDATE audit_auditevent SET actor_repr = 'mallory', hash = %s WHERE id = %s",
        [forged, last.pk],
    )
    assert _broken(users) == [
        (
            last.chain,
            last.chain_seq,
            f"the head records #{last.chain_seq} with another hash: "
            "the tail was changed",
        )
    ]


def test_deleting_a_whole_case_chain_is_detected(users, cases):
    events = cases[1]
    _as_attacker("DELETE FROM audit_auditevent WHERE case_id = %s", [events[0].case_id])
    last = events[-1].chain_seq
    assert _broken(users) == [
        (events[0].chain, last, f"the head records #{last} but the chain has no events")
    ]


def test_verify_command_lists_every_break_and_fails(users, cases, capsys):
    for events in cases:
        _as_attacker(
            "UPDATE audit_auditevent SET payload = '{}' WHERE id = %s", [events[0].pk]
        )
    with pytest.raises(CommandError, match="2 broken event"):
        call_command("verify_audit")
    out = capsys.readouterr().out
    assert out.count("BROKEN case:") == 2


def test_audit_page_lists_the_broken_events(users, cases):
    from django.test import Client

    from tests.conftest import PASSWORD

    for events in cases:
        _as_attacker(
            "UPDATE audit_auditevent SET payload = '{}' WHERE id = %s", [events[0].pk]
        )
    client = Client()
    assert client.login(request=HttpRequest(), username="auditor", password=PASSWORD)
    page = client.get("/audit/?verify=1").content.decode()
    assert "2 broken events" in page
    for events in cases:
        assert f"{events[0].chain} #1</span>: hash does not match" in page
