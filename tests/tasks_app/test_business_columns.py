"""Business-data columns a process declares: shown in the inbox, searched by ?search=.

Declared in the diagram (a `laneway:columns` extension property of the process,
as Camunda Modeler writes it) or at upload, which wins.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.services import case_start
from processes.services import version_upload
from tests.clients import api_for, page_for
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db

PROPERTY = (
    b'<bpmn:process id="purchase_request" name="Purchase request" '
    b'isExecutable="true">\n<bpmn:extensionElements><camunda:properties>'
    b'<camunda:property name="laneway:columns" value="amount, justification" />'
    b"</camunda:properties></bpmn:extensionElements>"
)


def _diagram() -> bytes:
    xml = (EXAMPLES / "purchase_request.bpmn").read_bytes()
    head = b'<bpmn:process id="purchase_request" name="Purchase request" '
    head += b'isExecutable="true">'
    assert head in xml
    return xml.replace(head, PROPERTY, 1)


def _start(users, amount, justification):
    case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": amount, "justification": justification},
    )


def test_the_diagrams_columns_show_in_the_inbox_and_are_searched(users):
    deployed = version_upload(
        user=users["analyst"], bpmn=_diagram(), filename="purchase.bpmn"
    )
    assert deployed[0].version.columns == ["amount", "justification"]
    _start(users, 1250, "Colour printer for marketing")
    _start(users, 30, "Ink")
    api = api_for(users["manager1"])
    found = api.get("/api/v1/tasks/", {"search": "printer"}).json()["results"]
    assert [t["business_data"] for t in found] == [
        {"amount": "1250", "justification": "Colour printer for marketing"}
    ]
    assert api.get("/api/v1/tasks/", {"search": "1250"}).json()["count"] == 1
    assert api.get("/api/v1/tasks/counts/", {"search": "PRINTER"}).json()["all"] == 1
    assert api.get("/api/v1/tasks/", {"search": "nothing"}).json()["count"] == 0
    # Nobody else's tasks come back through the search.
    assert (
        api_for(users["finance"])
        .get("/api/v1/tasks/", {"search": "printer"})
        .json()["count"]
        == 0
    )
    page = page_for(users["manager1"]).get("/", {"process": "purchase_request"})
    html = page.content.decode()
    assert '<th scope="col" class="data-col">amount</th>' in html
    assert "Colour printer for marketing" in html


def test_columns_set_at_upload_win_and_bad_names_are_refused(users):
    api = api_for(users["analyst"])
    upload = api.post(
        "/api/v1/processes/",
        {
            "file": SimpleUploadedFile("purchase.bpmn", _diagram()),
            "columns": "amount",
        },
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    assert upload.json()["processes"][0]["columns"] == ["amount"]
    wrong = api.post(
        "/api/v1/processes/",
        {
            "file": SimpleUploadedFile("purchase.bpmn", _diagram()),
            "columns": "amount, not a name",
        },
        format="multipart",
    )
    assert wrong.status_code == 400
    assert wrong.json()["details"]["fields"]["columns"]
    _start(users, 77, "Stapler")
    task = api_for(users["manager1"]).get("/api/v1/tasks/").json()["results"][0]
    assert task["business_data"] == {"amount": "77"}
