"""The process and version pages offer Start only where the start page starts.

The Start button leads to the start page, which starts the current version for
a user among its starters (camunda:candidateStarterGroups/Users, else the start
event's lane), unless the diagram is not startable in the tasklist
(camunda:isStartableInTasklist="false", tests/tasks_app/test_startable_in_tasklist.py)
or every start event waits for a message, signal, timer or condition. Camunda
7's Tasklist offers a definition under the same rules: its start-process dialog
lists ProcessDefinitionQuery.startableInTasklist().startablePermissionCheck()
(the user's CREATE_INSTANCE authorization, which candidate starters grant),
and a definition without a none start event has no start form to fill.
"""

import pytest

from processes.services import version_upload
from tests.clients import page_for
from tests.conftest import BPMN_DIR, EXAMPLES, deploy

pytestmark = pytest.mark.django_db

PURCHASE_START = 'href="/processes/purchase_request/start/"'


def _page(user, path: str) -> str:
    response = page_for(user).get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_only_a_starter_sees_the_start_button(users, purchase):
    """purchase_request starts in the Requester lane: a requester may start
    it; a manager, who acts in it, and an outsider may not."""
    for path in ("/processes/purchase_request/v1/", "/processes/purchase_request/"):
        assert PURCHASE_START in _page(users["requester"], path)
        for name in ("manager1", "outsider"):
            page = _page(users[name], path)
            assert PURCHASE_START not in page, (name, path)
            assert 'data-testid="start-case"' not in page
    # as the start page itself decides
    refused = page_for(users["outsider"]).get("/processes/purchase_request/start/")
    assert refused.status_code == 403


def test_an_older_version_page_follows_the_current_versions_starters(users):
    """v2, the one the start page starts, names other starters than v1: v1's
    page offers Start to v2's starters only."""
    deploy(EXAMPLES / "purchase_request.bpmn", users["analyst"])
    xml = (EXAMPLES / "purchase_request.bpmn").read_bytes()
    process = b'<bpmn:process id="purchase_request"'
    v2 = xml.replace(process, process + b' camunda:candidateStarterGroups="Finance"', 1)
    version_upload(user=users["analyst"], bpmn=v2, filename="purchase_request.bpmn")
    older = "/processes/purchase_request/v1/"
    assert PURCHASE_START not in _page(users["requester"], older)
    assert "Start a case of v2" in _page(users["finance"], older)


def test_a_process_started_only_by_its_message_offers_no_start(users):
    deploy(BPMN_DIR / "message_start.bpmn", users["analyst"])
    for path in ("/processes/order_intake/v1/", "/processes/order_intake/"):
        page = _page(users["finance"], path)
        assert 'href="/processes/order_intake/start/"' not in page
        assert "Starts only by its message start event" in page
    version = _page(users["analyst"], "/processes/order_intake/v1/")
    assert "not offered: it starts only by its message start event" in version
    # the start page refuses it too
    refused = page_for(users["finance"]).get("/processes/order_intake/start/")
    assert refused.status_code in (400, 409)
