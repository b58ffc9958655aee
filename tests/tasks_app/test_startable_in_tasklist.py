"""camunda:isStartableInTasklist: the start page neither lists nor starts a
process whose diagram says it is not startable there; the API still starts it.

Camunda 7 reads the attribute on the process element (BpmnParse.parseProcess:
isStartable, "true" in any case or no attribute is startable, any other value
is not) into ProcessDefinition.isStartableInTasklist. Tasklist offers only the
definitions that are (ProcessDefinitionQuery.startableInTasklist(), as its
start-process dialog queries them); the REST API's
POST /process-definition/key/{key}/start and the process's message, signal and
timer starts start it all the same (RepositoryService does not check it).
"""

from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from engine.models import Case
from processes.models import ProcessVersion
from tests.clients import api_for, page_for
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PURCHASE = (EXAMPLES / "purchase_request.bpmn").read_bytes()
PROCESS = b'<bpmn:process id="purchase_request"'
DATA = {"amount": "120", "justification": "A new monitor"}
PAGE_DATA = {"f-amount": "120", "f-justification": "A new monitor"}


def _marked(value: str) -> bytes:
    attribute = f' camunda:isStartableInTasklist="{value}"'.encode()
    return PURCHASE.replace(PROCESS, PROCESS + attribute, 1)


def _upload(user, bpmn: bytes):
    response = api_for(user).post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile("purchase_request.bpmn", bpmn)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response


@pytest.fixture
def hidden(users):
    """The purchase request deployed with isStartableInTasklist="false"."""
    _upload(users["analyst"], _marked("false"))


def _start_page(user) -> str:
    response = page_for(user).get("/start/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_start_page_does_not_list_it(users, hidden):
    page = _start_page(users["requester"])
    assert "Purchase request" not in page
    assert 'href="/processes/purchase_request/start/"' not in page
    assert "Nothing you can start" in page


def test_the_start_form_refuses_with_the_reason(users, hidden):
    response = page_for(users["requester"]).get("/processes/purchase_request/start/")
    assert response.status_code == 409
    page = response.content.decode()
    assert "is not started from the start page" in page
    assert "isStartableInTasklist" in page
    assert "POST /api/v1/cases/" in page


def test_a_posted_start_form_starts_nothing(users, hidden):
    response = page_for(users["requester"]).post(
        "/processes/purchase_request/start/", PAGE_DATA
    )
    assert response.status_code == 409
    assert "is not started from the start page" in response.content.decode()
    assert not Case.objects.exists()


def test_the_api_still_starts_it(users, hidden):
    """As Camunda 7's REST start: the attribute is about Tasklist only."""
    response = api_for(users["requester"]).post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": DATA},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Case.objects.get().status == "running"
    form = api_for(users["requester"]).get(
        "/api/v1/processes/purchase_request/start-form/"
    )
    assert form.status_code == 200, form.json()


def test_permissions_come_first(users, hidden):
    """Someone who may not start it is told so, not about the tasklist."""
    page = page_for(users["outsider"]).get("/processes/purchase_request/start/")
    assert page.status_code == 403
    api = api_for(users["outsider"]).post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": DATA},
        format="json",
    )
    assert api.status_code == 403


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_true_in_any_case_is_startable(users, value):
    _upload(users["analyst"], _marked(value))
    assert 'href="/processes/purchase_request/start/"' in _start_page(
        users["requester"]
    )
    response = page_for(users["requester"]).post(
        "/processes/purchase_request/start/", PAGE_DATA
    )
    assert response.status_code == 302
    assert Case.objects.count() == 1


@pytest.mark.parametrize("value", ["false", "no", "", " true"])
def test_any_other_value_is_not(users, value):
    """BpmnParse.isStartable: only "true" (ignoring case) is startable."""
    _upload(users["analyst"], _marked(value))
    assert 'href="/processes/purchase_request/start/"' not in _start_page(
        users["requester"]
    )


def test_the_current_version_decides(users, hidden):
    """A new version without the attribute is offered again; one with it hides
    the process again (the start page starts the current version)."""
    _upload(users["analyst"], PURCHASE)
    assert 'href="/processes/purchase_request/start/"' in _start_page(
        users["requester"]
    )
    _upload(users["analyst"], _marked("false"))
    assert 'href="/processes/purchase_request/start/"' not in _start_page(
        users["requester"]
    )


def test_the_version_api_and_pages_say_so(users, hidden):
    versions = api_for(users["analyst"]).get(
        "/api/v1/processes/purchase_request/versions/"
    )
    assert versions.status_code == 200, versions.json()
    body = versions.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["startable_in_tasklist"] for row in rows] == [False]
    analyst = page_for(users["analyst"])
    listing = analyst.get("/processes/").content.decode()
    assert 'data-testid="not-startable"' in listing
    assert 'href="/processes/purchase_request/start/"' not in listing
    detail = analyst.get("/processes/purchase_request/").content.decode()
    assert 'href="/processes/purchase_request/start/"' not in detail
    version = analyst.get("/processes/purchase_request/v1/").content.decode()
    assert "not offered" in version
    assert 'href="/processes/purchase_request/start/"' not in version


START_HREF = 'href="/processes/purchase_request/start/"'


def _version_page(user, number: int) -> str:
    response = page_for(user).get(f"/processes/purchase_request/v{number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_older_version_page_offers_no_start_the_current_one_refuses(users):
    """v1 is startable, v2 (current) is not: the start page starts v2 and
    refuses, so v1's page offers no Start button and says why."""
    _upload(users["analyst"], PURCHASE)
    _upload(users["analyst"], _marked("false"))
    older = _version_page(users["analyst"], 1)
    assert START_HREF not in older
    assert "the start page starts the current version" in older
    assert 'href="/processes/purchase_request/v2/">v2</a>, which is not offered' in (
        older
    )
    current = _version_page(users["analyst"], 2)
    assert START_HREF not in current
    assert "not offered" in current
    refused = page_for(users["requester"]).get("/processes/purchase_request/start/")
    assert refused.status_code == 409


def test_an_older_version_page_starts_the_current_version_and_says_so(users):
    """v1 is not startable, v2 (current) is: v1's page offers the button, named
    after v2, and pressing it starts a case of v2."""
    _upload(users["analyst"], _marked("false"))
    _upload(users["analyst"], PURCHASE)
    older = _version_page(users["requester"], 1)
    assert START_HREF in older
    assert "Start a case of v2" in older
    assert "would not be offered" in older
    current = _version_page(users["requester"], 2)
    assert START_HREF in current
    assert ">Start a case</a>" in current
    response = page_for(users["requester"]).post(
        "/processes/purchase_request/start/", PAGE_DATA
    )
    assert response.status_code == 302
    assert Case.objects.get().version.number == 2


def test_no_start_button_without_a_deployed_version(users):
    """Every version retired: the start page has nothing to start (404), so
    neither the list, the process page nor a version page offers it."""
    _upload(users["analyst"], PURCHASE)
    ProcessVersion.objects.update(status=ProcessVersion.Status.RETIRED)
    analyst = page_for(users["analyst"])
    listing = analyst.get("/processes/").content.decode()
    assert START_HREF not in listing
    assert 'data-testid="not-deployed"' in listing
    assert (
        START_HREF not in analyst.get("/processes/purchase_request/").content.decode()
    )
    version = _version_page(users["analyst"], 1)
    assert START_HREF not in version
    assert "only a deployed version, and none is" in version
    start = page_for(users["requester"]).get("/processes/purchase_request/start/")
    assert start.status_code == 404


def test_the_command_line_start_still_starts_it(users, hidden):
    call_command(
        "start_case",
        "purchase_request",
        "--as",
        "requester",
        "--data",
        '{"amount": "120", "justification": "A new monitor"}',
    )
    assert Case.objects.count() == 1


def test_stored_versions_are_read_back_from_their_xml(users, hidden):
    """The migration's back-fill reads each stored version's own XML."""
    (path,) = (ROOT / "processes" / "migrations").glob("*_startable_in_tasklist.py")
    migration = import_module(f"processes.migrations.{path.stem}")
    ProcessVersion.objects.update(startable_in_tasklist=True)
    migration.backfill(apps, None)
    assert list(
        ProcessVersion.objects.values_list("startable_in_tasklist", flat=True)
    ) == [False]
