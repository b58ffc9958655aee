"""An operator continues a case waiting at a receive task without a message,
from the case page, in headless Chromium."""

from engine.models import Case
from engine.services import case_start
from tests.conftest import BPMN_DIR, deploy
from tests.web.test_browser import Session, browser, pytestmark  # noqa: F401

DIAGRAM = (
    BPMN_DIR.parent
    / "conformance"
    / "bpmn"
    / "camunda7"
    / "InputOutputTest.testInputMapElValues.bpmn"
)
SHOT = "/tmp/waits-case-receive.png"  # noqa: S108 - looked at by hand


def test_operator_continues_a_receive_task_from_the_case_page(
    live_server,
    users,
    browser,  # noqa: F811
):
    deploy(DIAGRAM, users["analyst"])
    case, _ = case_start(user=users["requester"], key="testProcess", data={})
    admin = Session(browser, live_server.url, "padmin")
    page = admin.page
    page.goto(f"/cases/{case.pk}/")
    page.get_by_text("Receive task, waiting to be signalled").wait_for()
    page.screenshot(path=SHOT, full_page=True)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    page.get_by_test_id("receive-signal").click()

    page.get_by_text("The case went on past the receive task.").wait_for()
    assert dialogs and "Continue this case past" in dialogs[0]
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    admin.close()
