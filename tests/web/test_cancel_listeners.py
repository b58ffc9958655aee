"""Cancelling a case runs the end listeners of its active activities, or skips them.

Camunda 7's RuntimeService.deleteProcessInstance and DELETE /process-instance/{id}
take skipCustomListeners (default false: the end listeners fire;
RuntimeServiceTest.testDeleteProcessInstanceSkipCustomListeners,
ProcessInstanceRestServiceInteractionTest.testDeleteProcessInstanceSkipCustom
Listeners). Here: the case page's cancel form (a checkbox, unticked) and
POST /api/v1/cases/{id}/cancel/?skipCustomListeners=true; a listener that fails
refuses the cancellation, the case unchanged (Camunda's deletion rolls back).
"""

import pytest

from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from tests.clients import api_for
from tests.conftest import ROOT, deploy
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_browser import WIDTHS, _fits
from tests.web.test_pages import client_for, flash, html

DIAGRAM = ROOT / "tests" / "conformance" / "bpmn" / "cancel_runs_end_listeners.bpmn"
ARTIFACTS = ROOT / "test-artifacts" / "cancel-listeners"
RAN = {"approve_ended": True, "inner_ended": True, "sub_saw_inner": True}


@pytest.fixture
def start(users):
    deploy(DIAGRAM, users["analyst"])

    def started(key: str = "cancel_end_listeners") -> Case:
        return case_start(user=users["requester"], key=key, data={})[0]

    return started


def _cancelled(case: Case) -> AuditEvent:
    return AuditEvent.objects.get(case_id=case.pk, action="case.cancelled")


@pytest.mark.django_db
def test_the_cancel_form_offers_to_skip_custom_listeners_unticked(users, start):
    case = start()
    page = html(client_for(users["requester"]), f"/cases/{case.pk}/")
    assert 'name="skip_custom_listeners"' in page
    assert 'data-testid="skip-custom-listeners">' in page  # not checked


@pytest.mark.django_db
@pytest.mark.parametrize(("skip", "data"), [(False, RAN), (True, {})])
def test_the_cancel_form_runs_or_skips_the_end_listeners(users, start, skip, data):
    case = start()
    form = {"skip_custom_listeners": "on"} if skip else {}
    response = client_for(users["requester"]).post(f"/cases/{case.pk}/cancel/", form)
    assert "The case was cancelled." in flash(response)
    case.refresh_from_db()
    assert case.status == "cancelled"
    assert {k: v for k, v in case.data.items() if k in RAN} == data
    assert _cancelled(case).payload["skip_custom_listeners"] is skip


@pytest.mark.django_db
def test_a_failing_end_listener_refuses_the_cancel_form(users, start):
    case = start("cancel_failing_end_listener")
    response = client_for(users["requester"]).post(f"/cases/{case.pk}/cancel/")
    (message,) = flash(response)
    assert "could not be cancelled" in message
    assert "end listener of 'Review' failed" in message
    case.refresh_from_db()
    assert case.status == "running"
    assert not AuditEvent.objects.filter(case_id=case.pk, action="case.cancelled")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "data"),
    [("", RAN), ("?skipCustomListeners=false", RAN), ("?skipCustomListeners=true", {})],
)
def test_the_api_takes_camundas_skip_custom_listeners(users, start, query, data):
    case = start()
    response = api_for(users["requester"]).post(
        f"/api/v1/cases/{case.pk}/cancel/{query}", {"reason": "r"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    case.refresh_from_db()
    assert {k: v for k, v in case.data.items() if k in RAN} == data


@pytest.mark.django_db
def test_the_api_refuses_a_bad_skip_custom_listeners(users, start):
    case = start()
    response = api_for(users["requester"]).post(
        f"/api/v1/cases/{case.pk}/cancel/?skipCustomListeners=maybe"
    )
    assert response.status_code == 400
    assert "skipCustomListeners" in response.json()["details"]["fields"]
    assert Case.objects.get(pk=case.pk).status == "running"


@pytest.mark.django_db
def test_the_api_answers_409_when_an_end_listener_fails(users, start):
    case = start("cancel_failing_end_listener")
    api = api_for(users["requester"])
    response = api.post(f"/api/v1/cases/{case.pk}/cancel/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "cancellation_failed"
    assert "Nothing was changed" in body["message"]
    assert Case.objects.get(pk=case.pk).status == "running"
    response = api.post(f"/api/v1/cases/{case.pk}/cancel/?skipCustomListeners=true")
    assert response.status_code == 200


@pytest.mark.browser
def test_the_cancel_form_in_the_browser(
    live_server,
    users,
    start,
    browser,  # noqa: F811
):
    case = start()
    session = Session(browser, live_server.url, "requester")
    page = session.page
    page.goto(f"/cases/{case.pk}/")
    box = page.get_by_test_id("skip-custom-listeners")
    assert not box.is_checked()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("case-cancel-form").screenshot(
        path=str(ARTIFACTS / "cancel-form.png")
    )
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"case-page-{width}.png"))
        _fits(page)
    page.set_viewport_size(WIDTHS["desktop"])
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel case").click()
    page.get_by_text("The case was cancelled.").wait_for()
    case.refresh_from_db()
    assert case.status == "cancelled" and case.data["sub_saw_inner"] is True
    session.close()
