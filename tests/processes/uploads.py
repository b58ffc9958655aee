"""Uploading a diagram through the API as an analyst's client does."""

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile


def api_upload_refused(client: Any, bpmn: Path) -> dict[str, Any]:
    """POST the file to /api/v1/processes/; assert a 400 with one located
    problem and return it (element_id, line, message)."""
    response = client.post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile(bpmn.name, bpmn.read_bytes())},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    [error] = response.json()["details"]["errors"]
    return error
