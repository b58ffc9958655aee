"""API clients with token auth, as an auditor's tools would call Laneway."""

import json

from rest_framework.test import APIClient

from tests.clients import signed_in_api
from tests.conftest import PASSWORD


def token_client(user) -> APIClient:
    """Return an API client signed in through the token endpoint, as a tool would."""
    return signed_in_api(user, PASSWORD)


def start_case(client, process: str, data: dict) -> str:
    response = client.post(
        "/api/v1/cases/", {"process": process, "data": data}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def jsonl(text: str) -> list[dict]:
    """Parse JSON Lines: lines end at \\n only (U+2028 may sit inside a string)."""
    return [json.loads(line) for line in text.split("\n") if line]
