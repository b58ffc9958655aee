"""The start page in Chromium with a process not startable in the tasklist.

camunda:isStartableInTasklist="false" (Camunda 7: BpmnParse.isStartable,
ProcessDefinitionQuery.startableInTasklist()) keeps the process off the start
page, as Camunda's Tasklist leaves it out of "Start process"; typing its start
address shows why and how its cases start.
"""

import pytest

from processes.services import version_upload
from tests.conftest import EXAMPLES, ROOT
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_pages_browser import look

pytestmark = [pytest.mark.browser]

expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = ROOT / "test-artifacts" / "startable"
PURCHASE = (EXAMPLES / "purchase_request.bpmn").read_bytes()


@pytest.fixture
def internal(users, purchase):
    """Beside the purchase request, a copy the start page must not offer."""
    bpmn = (
        PURCHASE.replace(b'"purchase_request"', b'"internal_purchase"')
        .replace(b'name="Purchase request"', b'name="Internal purchase"')
        .replace(
            b'<bpmn:process id="internal_purchase"',
            b'<bpmn:process id="internal_purchase" '
            b'camunda:isStartableInTasklist="false"',
            1,
        )
    )
    version_upload(user=users["analyst"], bpmn=bpmn, filename="internal.bpmn")


def test_the_start_page_leaves_it_out_and_says_why_when_asked(
    internal,
    live_server,
    browser,  # noqa: F811
):
    page = Session(browser, live_server.url, "requester").page
    page.goto("/start/")
    expect(page.get_by_role("heading", name="Purchase request")).to_be_visible()
    expect(page.get_by_role("heading", name="Internal purchase")).to_have_count(0)
    look(page, "start-list", ARTIFACTS)
    page.goto("/processes/internal_purchase/start/")
    expect(page.get_by_text("is not started from the start page")).to_be_visible()
    expect(
        page.get_by_role("heading", name="This process is not started here")
    ).to_be_visible()
    look(page, "start-refused", ARTIFACTS)
