"""Auditors verify an export outside Laneway with a standard-library script."""

import json
import subprocess
import sys

import pytest

from tests.audit.helpers import body, jsonl, start_case, token_client
from tests.audit.test_canonical import VALUES, deploy_bytes
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db
SCRIPT = ROOT / "scripts" / "verify_audit_export.py"


def _run(path) -> subprocess.CompletedProcess:
    # -S: no site-packages at all, so the script can only use the standard library
    return subprocess.run(
        [sys.executable, "-S", str(SCRIPT), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def case_id(users, purchase):
    deploy_bytes(users["analyst"])
    client = token_client(users["requester"])
    start_case(client, "purchase_request", {"amount": 1e16, "justification": "A ship"})
    return start_case(client, "free_form", dict(VALUES))


def _export(users, tmp_path, **query):
    response = token_client(users["auditor"]).get("/api/v1/audit/", query)
    assert response.status_code == 200
    path = tmp_path / "export.jsonl"
    path.write_text(body(response))
    return path


def _rewrite(path, change) -> None:
    rows = jsonl(path.read_text())
    rows = change(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_whole_export_verifies_and_a_tampered_copy_names_the_event(
    users, case_id, tmp_path
):
    path = _export(users, tmp_path)
    result = _run(path)
    assert (result.returncode, result.stdout.strip()) == (0, "OK"), result.stderr
    rows = jsonl(path.read_text())
    target = next(
        r for r in rows if r.get("action") == "case.started" and r["case_id"] == case_id
    )

    def forge(rows):
        for row in rows:
            if row.get("id") == target["id"]:
                row["payload"]["data"]["float_1e16"] = 1e15
        return rows

    _rewrite(path, forge)
    result = _run(path)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"BROKEN: case:{case_id} #{target['chain_seq']} ({target['id']}): "
        "hash does not match its content"
    )


def test_case_export_is_self_contained_and_a_dropped_tail_is_found(
    users, case_id, tmp_path
):
    path = _export(users, tmp_path, case=case_id)
    rows = jsonl(path.read_text())
    head = [r for r in rows if r.get("record") == "chain_head"]
    version = [r for r in rows if r.get("record") == "process_version"]
    events = [r for r in rows if "record" not in r]
    case_events = [e for e in events if e["case_id"] == case_id]
    assert head == [
        {
            "record": "chain_head",
            "chain": f"case:{case_id}",
            "chain_seq": case_events[-1]["chain_seq"],
            "hash": case_events[-1]["hash"],
        }
    ]
    assert [e["chain_seq"] for e in case_events] == list(range(1, len(case_events) + 1))
    deployed = [e for e in events if e["action"] == "process.deployed"]
    assert [(v["key"], v["version"], v["checksum"]) for v in version] == [
        ("free_form", 1, deployed[0]["payload"]["checksum"])
    ]
    xml = token_client(users["auditor"]).get(version[0]["original_xml"])
    assert xml.status_code == 200 and b'<bpmn:process id="free_form"' in xml.content
    assert _run(path).returncode == 0

    _rewrite(path, lambda rows: rows[:-1])  # the last event of the case goes missing
    result = _run(path)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"BROKEN: case:{case_id}: its head #{len(case_events)} is missing or changed"
    )


def test_a_removed_middle_event_is_found(users, case_id, tmp_path):
    path = _export(users, tmp_path, case=case_id)
    rows = jsonl(path.read_text())
    case_events = [r for r in rows if r.get("case_id") == case_id and "record" not in r]
    gone, after = case_events[1], case_events[2]
    _rewrite(path, lambda rows: [r for r in rows if r.get("id") != gone["id"]])
    assert _run(path).stdout.strip() == (
        f"BROKEN: case:{case_id} #{after['chain_seq']} ({after['id']}): "
        f"does not follow #{after['chain_seq'] - 2}"
    )
