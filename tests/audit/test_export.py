"""Auditors export the log over HTTP, from the Audit page and from the command line."""

import csv
import io
import json
import re
from html import unescape

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client

from audit.models import AuditEvent
from tests.audit.helpers import body, jsonl, start_case, token_client
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases(users, purchase):
    requester = token_client(users["requester"])
    first = start_case(
        requester, "purchase_request", {"amount": 5, "justification": "Pens"}
    )
    second = start_case(
        requester, "purchase_request", {"amount": 7, "justification": "Ink"}
    )
    return first, second


def _exports():
    return list(
        AuditEvent.objects.filter(action="audit.exported").order_by("chain_seq")
    )


def test_csv_export_over_the_api_streams_every_event(users, two_cases):
    response = token_client(users["auditor"]).get("/api/v1/audit/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    case_ids = {row["case_id"] for row in rows if row["action"] == "case.started"}
    assert case_ids == set(two_cases)
    assert json.loads(rows[0]["payload"]) is not None


def test_jsonl_export_filtered_by_case_and_action(users, two_cases):
    first, _ = two_cases
    response = token_client(users["auditor"]).get(
        "/api/v1/audit/",
        {"format": "jsonl", "case": first, "action": "case.started"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = jsonl(body(response))
    assert [(r["case_id"], r["action"]) for r in rows] == [(first, "case.started")]
    assert rows[0]["payload"]["data"] == {"amount": 5.0, "justification": "Pens"}
    recorded = _exports()[-1]
    assert recorded.actor_repr == "auditor"
    assert recorded.payload == {
        "format": "jsonl",
        "filters": {"case": first, "action": "case.started"},
        "outcome": "started",
    }


def test_time_window_since_inclusive_until_exclusive(users, two_cases):
    events = list(AuditEvent.objects.filter(case_id=two_cases[1]).order_by("chain_seq"))
    since, until = events[0].at, events[-1].at
    response = token_client(users["auditor"]).get(
        "/api/v1/audit/",
        {"since": since.isoformat(), "until": until.isoformat(), "case": two_cases[1]},
    )
    ids = [row["id"] for row in jsonl(body(response))]
    assert ids == [str(e.pk) for e in events if since <= e.at < until]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"case": "notauuid"}, "case"),
        ({"since": "2026-13-45T00:00:00"}, "since"),
        ({"until": "2026-02-30T00:00:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
        # Before year 1 in UTC (and an offset PostgreSQL would refuse): found by
        # Schemathesis as a 500.
        ({"until": "0001-01-01T00:00:00+17:00"}, "until"),
        ({"format": "xml"}, "format"),
        ({"actor": "x" * 151}, "actor"),
    ],
)
def test_bad_filters_answer_400_naming_the_field_and_are_recorded(
    users, two_cases, query, field
):
    response = token_client(users["auditor"]).get("/api/v1/audit/", query)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert list(error["details"]["fields"]) == [field]
    recorded = _exports()[-1]
    assert recorded.actor_repr == "auditor"
    assert recorded.payload["outcome"] == "rejected"
    assert list(recorded.payload["errors"]) == [field]


def test_only_auditors_export(users, two_cases):
    response = token_client(users["requester"]).get("/api/v1/audit/?format=csv")
    assert response.status_code == 403
    assert (
        token_client(users["requester"]).get("/api/v1/audit/verify/").status_code == 403
    )


def _page(user, query: str = "") -> str:
    client = Client()
    assert client.login(
        request=HttpRequest(), username=user.username, password=PASSWORD
    )
    response = client.get(f"/audit/{query}")
    assert response.status_code == 200
    return response.content.decode(), client


def test_audit_page_export_buttons_download_the_filtered_events(users, two_cases):
    first, _ = two_cases
    page, client = _page(users["auditor"], f"?case={first}&since=2020-01-01T00:00")
    links = {
        label: unescape(href)
        for href, label in re.findall(
            r'<a class="button" href="([^"]+)">(Export \w+)</a>', page
        )
    }
    assert set(links) == {"Export CSV", "Export JSONL"}
    csv_rows = list(csv.DictReader(io.StringIO(body(client.get(links["Export CSV"])))))
    assert csv_rows and {r["case_id"] for r in csv_rows} == {first}
    rows = jsonl(body(client.get(links["Export JSONL"])))
    events = [row for row in rows if "record" not in row]
    assert {e["case_id"] for e in events} == {first}
    assert len(events) == len(csv_rows)


def test_audit_page_shows_bad_filters_on_their_fields_and_no_export(users, two_cases):
    page, _ = _page(users["auditor"], "?case=notauuid&until=2026-02-30T10:00")
    assert "Not a case id (UUID)" in page
    assert "Not a valid ISO-8601 date-time" in page
    assert "Export CSV" not in page


def test_export_command_uses_the_same_filters(users, two_cases, tmp_path):
    first, second = two_cases
    target = tmp_path / "case.jsonl"
    call_command("export_audit", "--case", second, "--output", str(target))
    rows = jsonl(target.read_text())
    assert {
        r["case_id"] for r in rows if "record" not in r and r["chain"] != "system"
    } == {second}
    with pytest.raises(CommandError, match="--since: Not a valid ISO-8601"):
        call_command("export_audit", "--since", "2026-13-45T00:00:00")
    assert _exports()[-1].payload["outcome"] == "rejected"
    assert _exports()[-1].actor_repr == "manage.py export_audit"


def test_an_offset_postgresql_would_refuse_is_read_as_the_same_moment(users, two_cases):
    """+17:00 is a valid ISO offset; the filter compares the same instant in UTC."""
    api = token_client(users["auditor"])
    everything = api.get("/api/v1/audit/", {"format": "jsonl"})
    assert everything.status_code == 200
    later = api.get(
        "/api/v1/audit/", {"format": "jsonl", "until": "2000-01-01T00:00:00+17:00"}
    )
    assert later.status_code == 200
    assert b"".join(later.streaming_content) == b""  # nothing was recorded by then
