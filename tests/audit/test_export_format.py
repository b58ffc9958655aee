"""The export's bytes are pinned: auditors' tools parse them and verify the chain.

A few events with awkward values (quotes, backslashes, newlines, control
characters, non-ASCII and astral characters, nulls, big and small numbers) are
exported from the command line and over HTTP; the output must stay byte for
byte what it is, and the standard-library verifier must still verify it.
"""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from audit.models import AuditChainHead, AuditEvent
from audit.services import canonical_form, event_hash
from tests.audit.helpers import body, token_client
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db
CASE = uuid.UUID("5f0e8c2a-7b1d-4c3e-9a2f-0123456789ab")
GENESIS = "0" * 64
AWKWARD = 'line1\nline2\r\t"quoted" back\\slash é 😀 \u2028 \x01 \x1f \x7f </script>'
EVENTS = [
    {
        "id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
        "chain": f"case:{CASE}",
        "chain_seq": 1,
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "actor_id": 7,
        "actor_repr": 'Zoë "Z" O\'Neil\\',
        "on_behalf_of": "",
        "action": "case.started",
        "case_id": CASE,
        "process_key": "golden",
        "version_id": 3,
        "task_ref": "",
        "payload": {
            "data": {
                "note": AWKWARD,
                "amount": 1.5,
                "big": 1e16,
                "tiny": 1e-300,
                "none": None,
                "list": [1, "ü", None, True, False, {}],
            },
            "name": "Approve",
            "ключ": "значение",
        },
    },
    {
        "id": uuid.UUID("22222222-2222-4222-8222-222222222222"),
        "chain": f"case:{CASE}",
        "chain_seq": 2,
        "at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "actor_id": None,
        "actor_repr": "system",
        "on_behalf_of": "boss\nsecond line",
        "action": "task.completed",
        "case_id": CASE,
        "process_key": "golden",
        "version_id": None,
        "task_ref": 'approve "fast"\t\x1f',
        "payload": {},
    },
    {  # each awkward character alone: a backslash, U+0001, U+007F (not escaped)
        "id": uuid.UUID("44444444-4444-4444-8444-444444444444"),
        "chain": f"case:{CASE}",
        "chain_seq": 3,
        "at": datetime(2026, 1, 2, 3, 4, 6, 999999, tzinfo=UTC),
        "actor_id": 2**62,
        "actor_repr": "a\\b",
        "on_behalf_of": "\x01",
        "action": "task.claimed",
        "case_id": CASE,
        "process_key": "golden",
        "version_id": 1,
        "task_ref": "\x7f",
        "payload": {"k": "v"},
    },
    {  # no case: the system chain
        "id": uuid.UUID("33333333-3333-4333-8333-333333333333"),
        "chain": "system",
        "chain_seq": 1,
        "at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "actor_id": None,
        "actor_repr": "cron ☃",
        "on_behalf_of": "",
        "action": "process.retired",
        "case_id": None,
        "process_key": "golden",
        "version_id": None,
        "task_ref": "",
        "payload": {"unicode": "日本語\u0085", "nested": [[["deep"]]], "zero": -0.0},
    },
]

# jsonb writes 1e-300 with all its digits.
TINY = "0." + "0" * 299 + "1"
# Exported in this order (at, chain, chain_seq): the system event sorts third.
JSONL_EVENTS = [
    (
        '{"action":"case.started","actor_id":7,"actor_repr":"Zoë \\"Z\\'
        '" O\'Neil\\\\","at":"2026-01-02T03:04:05.000000Z","case_id":"5'
        'f0e8c2a-7b1d-4c3e-9a2f-0123456789ab","chain":"case:5f0e8c2a-7b'
        '1d-4c3e-9a2f-0123456789ab","chain_seq":1,"hash":"3d24eabb41925'
        'e98f4e8a72943c675c3d4358ab603ad4e44e5477a20f44f3cd0","id":"111'
        '11111-1111-4111-8111-111111111111","on_behalf_of":"","payload"'
        ':{"data": {"big": 10000000000000000, "list": [1, "ü", null, tr'
        'ue, false, {}], "none": null, "note": "line1\\nline2\\r\\t\\"q'
        'uoted\\" back\\\\slash é 😀 \u2028 \\u0001 \\u001f \x7f </scrip'
        't>", "tiny": '
        + TINY
        + ', "amount": 1.5}, "name": "Approve", "ключ": "значение"},"prev'
        '_hash":"000000000000000000000000000000000000000000000000000000'
        '0000000000","process_key":"golden","task_ref":"","version_id":'
        "3}"
    ),
    (
        '{"action":"task.completed","actor_id":null,"actor_repr":"syste'
        'm","at":"2026-01-02T03:04:05.123456Z","case_id":"5f0e8c2a-7b1d'
        '-4c3e-9a2f-0123456789ab","chain":"case:5f0e8c2a-7b1d-4c3e-9a2f'
        '-0123456789ab","chain_seq":2,"hash":"2f50ed8f3ba25a98468af7d1c'
        'd754df1e9a2ea88f1356d93b42309b636638e66","id":"22222222-2222-4'
        '222-8222-222222222222","on_behalf_of":"boss\\nsecond line","pa'
        'yload":{},"prev_hash":"3d24eabb41925e98f4e8a72943c675c3d4358ab'
        '603ad4e44e5477a20f44f3cd0","process_key":"golden","task_ref":"'
        'approve \\"fast\\"\\t\\u001f","version_id":null}'
    ),
    (
        '{"action":"process.retired","actor_id":null,"actor_repr":"cron'
        ' ☃","at":"2026-01-02T03:04:05.123456Z","case_id":null,"chain":'
        '"system","chain_seq":1,"hash":"c616763ba82de0051f805007a487737'
        '25ace0be7cbbeb857537e2cb3467d56f1","id":"33333333-3333-4333-83'
        '33-333333333333","on_behalf_of":"","payload":{"zero": 0.0, "ne'
        'sted": [[["deep"]]], "unicode": "日本語\x85"},"prev_hash":"000000'
        '0000000000000000000000000000000000000000000000000000000000","p'
        'rocess_key":"golden","task_ref":"","version_id":null}'
    ),
    (
        '{"action":"task.claimed","actor_id":4611686018427387904,"actor'
        '_repr":"a\\\\b","at":"2026-01-02T03:04:06.999999Z","case_id":"'
        '5f0e8c2a-7b1d-4c3e-9a2f-0123456789ab","chain":"case:5f0e8c2a-7'
        'b1d-4c3e-9a2f-0123456789ab","chain_seq":3,"hash":"3e3cbf4e478b'
        '39bc76e980425bc52fe9d83112ad7d141fc2a6db07327c48ef62","id":"44'
        '444444-4444-4444-8444-444444444444","on_behalf_of":"\\u0001","'
        'payload":{"k": "v"},"prev_hash":"2f50ed8f3ba25a98468af7d1cd754'
        'df1e9a2ea88f1356d93b42309b636638e66","process_key":"golden","t'
        'ask_ref":"\x7f","version_id":1}'
    ),
]
CASE_HEAD = (
    '{"chain": "case:5f0e8c2a-7b1d-4c3e-9a2f-0123456789ab", "chain_'
    'seq": 3, "hash": "3e3cbf4e478b39bc76e980425bc52fe9d83112ad7d14'
    '1fc2a6db07327c48ef62", "record": "chain_head"}'
)
CSV_EVENTS = (
    "id,chain,chain_seq,at,actor_id,actor_repr,on_behalf_of,action,"
    "case_id,process_key,version_id,task_ref,payload,prev_hash,hash"
    "\n"
    "11111111-1111-4111-8111-111111111111,case:5f0e8c2a-7b1d-4c3e-9"
    'a2f-0123456789ab,1,2026-01-02T03:04:05.000000Z,7,"Zoë ""Z"" O\''
    'Neil\\","",case.started,5f0e8c2a-7b1d-4c3e-9a2f-0123456789ab,g'
    'olden,3,"","{""data"": {""big"": 10000000000000000, ""list"": '
    '[1, ""ü"", null, true, false, {}], ""none"": null, ""note"": "'
    '"line1\\nline2\\r\\t\\""quoted\\"" back\\\\slash é 😀 \u2028 \\'
    'u0001 \\u001f \x7f </script>"", ""tiny"": '
    + TINY
    + ', ""amount"": 1.5}, ""name"": ""Approve"", ""ключ"": ""значени'
    'е""}",00000000000000000000000000000000000000000000000000000000'
    "00000000,3d24eabb41925e98f4e8a72943c675c3d4358ab603ad4e44e5477"
    "a20f44f3cd0\n"
    "22222222-2222-4222-8222-222222222222,case:5f0e8c2a-7b1d-4c3e-9"
    'a2f-0123456789ab,2,2026-01-02T03:04:05.123456Z,,system,"boss\n'
    'second line",task.completed,5f0e8c2a-7b1d-4c3e-9a2f-0123456789'
    'ab,golden,,"approve ""fast""\t\x1f",{},3d24eabb41925e98f4e8a72'
    "943c675c3d4358ab603ad4e44e5477a20f44f3cd0,2f50ed8f3ba25a98468a"
    "f7d1cd754df1e9a2ea88f1356d93b42309b636638e66\n"
    "33333333-3333-4333-8333-333333333333,system,1,2026-01-02T03:04"
    ':05.123456Z,,cron ☃,"",process.retired,,golden,,"","{""zero"":'
    ' 0.0, ""nested"": [[[""deep""]]], ""unicode"": ""日本語\x85""}",0'
    "00000000000000000000000000000000000000000000000000000000000000"
    "0,c616763ba82de0051f805007a48773725ace0be7cbbeb857537e2cb3467d"
    "56f1\n"
    "44444444-4444-4444-8444-444444444444,case:5f0e8c2a-7b1d-4c3e-9"
    "a2f-0123456789ab,3,2026-01-02T03:04:06.999999Z,461168601842738"
    "7904,a\\b,\x01,task.claimed,5f0e8c2a-7b1d-4c3e-9a2f-0123456789"
    'ab,golden,1,\x7f,"{""k"": ""v""}",2f50ed8f3ba25a98468af7d1cd75'
    "4df1e9a2ea88f1356d93b42309b636638e66,3e3cbf4e478b39bc76e980425"
    "bc52fe9d83112ad7d141fc2a6db07327c48ef62\n"
)


def _insert(values: dict, prev_hash: str) -> str:
    values = {**values, "prev_hash": prev_hash}
    digest = event_hash(prev_hash, canonical_form(values))
    AuditEvent.objects.create(**values, hash=digest)
    AuditChainHead.objects.update_or_create(
        chain=values["chain"],
        defaults={"chain_seq": values["chain_seq"], "hash": digest},
    )
    return digest


@pytest.fixture
def golden():
    """The events above, chained; before any other event (the system chain's first)."""
    prev = {}
    for values in EVENTS:
        prev[values["chain"]] = _insert(values, prev.get(values["chain"], GENESIS))


def _command(tmp_path, fmt: str, *filters: str) -> bytes:
    target = tmp_path / f"export.{fmt}"
    call_command("export_audit", "--format", fmt, *filters, "--output", str(target))
    return target.read_bytes()


def _verify(data: bytes, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "to_verify.jsonl"
    path.write_bytes(data)
    return subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "verify_audit_export.py"), path],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _jsonl(lines: list[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


def test_jsonl_and_csv_exports_are_pinned_byte_for_byte(golden, tmp_path):
    everything = _command(tmp_path, "jsonl", "--process", "golden")
    assert everything == _jsonl(JSONL_EVENTS)
    one_case = _command(tmp_path, "jsonl", "--case", str(CASE))
    assert one_case == _jsonl([CASE_HEAD, *JSONL_EVENTS[:2], JSONL_EVENTS[3]])
    assert _command(tmp_path, "csv", "--process", "golden") == CSV_EVENTS.encode()


def test_http_export_streams_the_same_bytes(golden, users):
    # `golden` before `users`: its system event is that chain's first.
    api = token_client(users["auditor"])
    response = api.get("/api/v1/audit/", {"format": "jsonl", "process": "golden"})
    assert response.status_code == 200
    assert response.streaming
    assert body(response).encode() == _jsonl(JSONL_EVENTS)
    response = api.get("/api/v1/audit/", {"format": "csv", "process": "golden"})
    assert body(response).encode() == CSV_EVENTS.encode()


def test_the_pinned_export_verifies_and_a_changed_byte_is_found(golden, tmp_path):
    one_case = _command(tmp_path, "jsonl", "--case", str(CASE))
    result = _verify(one_case, tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "OK"), result.stderr
    everything = _command(tmp_path, "jsonl", "--process", "golden")
    assert _verify(everything, tmp_path).stdout.strip() == "OK"
    forged = one_case.replace(b'"Approve"', b'"Approvf"')
    result = _verify(forged, tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"BROKEN: case:{CASE} #1 (11111111-1111-4111-8111-111111111111): "
        "hash does not match its content"
    )


def test_every_ascii_character_in_free_text_is_written_as_python_writes_it(tmp_path):
    case = uuid.uuid4()
    texts = ("actor_repr", "on_behalf_of", "action", "process_key", "task_ref")
    prev, expected = GENESIS, []
    for code in range(1, 128):
        value = f"{chr(code)}x" if code % 2 else f"x{chr(code)}"
        field = texts[code % len(texts)]
        prev = _insert(
            {
                **EVENTS[0],
                "actor_repr": "plain",  # one awkward character per event
                "id": uuid.uuid4(),
                "chain": f"case:{case}",
                "chain_seq": code,
                "at": datetime(2026, 1, 2, 3, 4, 5, code, tzinfo=UTC),
                "case_id": case,
                field: value,
            },
            prev,
        )
        expected.append((field, value))
    lines = _command(tmp_path, "jsonl", "--case", str(case)).decode().split("\n")
    events = lines[1:-1]  # after the chain's head, before the final newline
    assert len(events) == len(expected)
    for line, (field, value) in zip(events, expected, strict=True):
        written = f'"{field}":{json.dumps(value, ensure_ascii=False)},'
        assert written in line, (field, value, line)
        assert json.loads(line)[field] == value
    assert _verify("\n".join(lines).encode(), tmp_path).stdout.strip() == "OK"
