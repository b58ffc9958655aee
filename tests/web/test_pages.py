"""The server-rendered pages through Django's test client, on PostgreSQL."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import EXAMPLES, PASSWORD

pytestmark = pytest.mark.django_db

PURCHASE_XML = (EXAMPLES / "purchase_request.bpmn").read_bytes()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start_purchase(user, amount="120", justification="A new monitor"):
    case, _ = case_start(
        user=user,
        key="purchase_request",
        data={"amount": amount, "justification": justification},
    )
    return case


def open_task(case, bpmn_id) -> HumanTask:
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def html(client, url) -> str:
    return client.get(url).content.decode()


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ---- login and layout -------------------------------------------------------


def test_login_page_renders_and_shows_an_error_for_bad_credentials(users):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    bad = client.post("/login/", {"username": "requester", "password": "wrong"})
    assert bad.status_code == 200
    assert b"alert-error" in bad.content
    good = client.post("/login/", {"username": "requester", "password": PASSWORD})
    assert good.status_code == 302 and good.url == "/"


def test_pages_require_login(db):
    for url in ["/", "/cases/", "/processes/", "/audit/", "/processes/upload/"]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/?next="), url


def test_nav_shows_audit_only_to_auditors_and_logout_is_a_post_form(users, purchase):
    page = client_for(users["auditor"]).get("/").content.decode()
    assert 'href="/audit/"' in page
    assert re.search(r'<form method="post" action="/logout/">', page)
    assert 'href="/audit/"' not in html(client_for(users["requester"]), "/")


# ---- inbox and claiming -----------------------------------------------------


def test_inbox_lists_group_tasks_with_claim_button_and_filters(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    manager = client_for(users["manager1"])
    page = manager.get("/").content.decode()
    assert "Manager approval" in page
    assert f"/cases/{case.pk}/" in page
    assert f"/tasks/{task.pk}/claim/" in page
    assert "Manager approval" not in manager.get("/?show=mine").content.decode()
    assert "Manager approval" in manager.get("/?show=groups").content.decode()


def test_inbox_empty_state_for_someone_with_nothing_to_do(users, purchase):
    start_purchase(users["requester"])
    page = client_for(users["outsider"]).get("/")
    assert page.status_code == 200
    assert b"caught up" in page.content


def test_claim_button_claims_and_a_second_claim_gets_a_message(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    response = client_for(users["manager1"]).post(
        f"/tasks/{task.pk}/claim/", {"next": "/"}
    )
    assert response.status_code == 302 and response.url == "/"
    assert any("claimed" in m for m in flash(response))
    task.refresh_from_db()
    assert task.assignee == users["manager1"]

    other = client_for(users["manager2"])
    assert "Manager approval" not in other.get("/").content.decode()
    second = other.post(f"/tasks/{task.pk}/claim/")
    assert second.status_code == 302 and second.url == "/"
    assert any("already claimed by manager1" in m for m in flash(second))


def test_release_gives_the_task_back_to_the_group(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    manager = client_for(users["manager1"])
    manager.post(f"/tasks/{task.pk}/claim/")
    assert b"Release" in manager.get(f"/tasks/{task.pk}/").content
    response = manager.post(f"/tasks/{task.pk}/release/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee is None


# ---- task page --------------------------------------------------------------


def test_task_page_renders_form_widgets_and_case_summary(users, purchase):
    case = start_purchase(users["requester"], justification="Ergonomic chair")
    task = open_task(case, "manager_review")
    page = client_for(users["manager1"]).get(f"/tasks/{task.pk}/").content.decode()
    assert "Approve or reject the purchase request." in page
    assert 'type="radio" name="f-approved" value="true"' in page
    assert 'type="radio" name="f-approved" value="false"' in page
    assert re.search(r'<textarea name="f-comment"', page)
    assert "Ergonomic chair" in page  # case data
    assert "requester" in page  # started by
    assert 'class="req"' in page  # required marker
    assert "Complete task" in page


def test_user_outside_the_lane_gets_404_and_cannot_complete(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    outsider = client_for(users["finance"])
    assert outsider.get(f"/tasks/{task.pk}/").status_code == 404
    response = outsider.post(f"/tasks/{task.pk}/", {"f-approved": "true"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == "open" and task.assignee is None


def test_form_errors_keep_typed_values_and_change_nothing(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    events_before = AuditEvent.objects.filter(case_id=case.pk).count()
    response = client_for(users["manager1"]).post(
        f"/tasks/{task.pk}/", {"f-comment": "Please say <why> first"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Please say &lt;why&gt; first</textarea>" in page
    task.refresh_from_db()
    assert task.status == "open" and task.assignee is None
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events_before


def test_completing_from_the_page_claims_advances_and_redirects(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    response = client_for(users["manager1"]).post(
        f"/tasks/{task.pk}/", {"f-approved": "true", "f-comment": "Fine"}
    )
    assert response.status_code == 302 and response.url == "/"
    assert "“Manager approval” completed." in flash(response)
    task.refresh_from_db()
    assert task.status == "completed" and task.completed_by == users["manager1"]
    assert open_task(case, "finance_review")


def test_revise_task_is_prefilled_from_the_case_data(users, purchase):
    case = start_purchase(users["requester"], amount="980", justification="Big screen")
    task_complete(
        user=users["manager1"],
        task_id=open_task(case, "manager_review").pk,
        data={"approved": False, "comment": "Too much"},
    )
    revise = open_task(case, "revise_request")
    page = client_for(users["requester"]).get(f"/tasks/{revise.pk}/").content.decode()
    assert re.search(r'name="f-amount" value="980"', page)
    assert "Big screen</textarea>" in page
    assert "Too much" in page  # the manager's comment, in the case data


def test_completed_task_shows_no_form(users, purchase):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})
    page = client_for(users["manager1"]).get(f"/tasks/{task.pk}/").content.decode()
    assert "This task is completed." in page
    assert "Complete task" not in page


def test_completing_an_already_completed_task_says_so_and_keeps_the_input(
    users, purchase
):
    case = start_purchase(users["requester"])
    task = open_task(case, "manager_review")
    task_complete(user=users["manager2"], task_id=task.pk, data={"approved": True})
    response = client_for(users["manager1"]).post(
        f"/tasks/{task.pk}/", {"f-approved": "true"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already completed" in html
    assert 'value="true" id="id_f-approved_0" required checked' in html


# ---- starting a case --------------------------------------------------------


def test_start_page_renders_the_start_form(users, purchase):
    page = client_for(users["requester"]).get("/processes/purchase_request/start/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="number" name="f-amount"' in html
    assert 'step="any"' in html and 'min="0"' in html
    assert '<textarea name="f-justification"' in html
    assert "Describe what you want to buy and why." in html


def test_start_page_errors_keep_typed_values_and_start_nothing(users, purchase):
    response = client_for(users["requester"]).post(
        "/processes/purchase_request/start/",
        {"f-amount": "-5", "f-justification": "Keep me", "business_key": "PO-1"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Must be greater than 0." in html
    assert 'value="-5"' in html
    assert "Keep me</textarea>" in html
    assert 'value="PO-1"' in html
    assert Case.objects.count() == 0


def test_start_page_creates_a_case_and_redirects_to_it(users, purchase):
    response = client_for(users["requester"]).post(
        "/processes/purchase_request/start/",
        {"f-amount": "99.5", "f-justification": "Desk lamp", "business_key": "PO-7"},
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    assert "Purchase request started." in flash(response)
    assert case.data == {"amount": 99.5, "justification": "Desk lamp"}
    assert case.business_key == "PO-7" and case.started_by == users["requester"]


def test_start_page_of_unknown_process_is_404(users, purchase):
    response = client_for(users["requester"]).get("/processes/nope/start/")
    assert response.status_code == 404


# ---- processes and uploads --------------------------------------------------


def test_process_list_shows_definitions_and_upload_only_to_analysts(users, purchase):
    analyst_page = client_for(users["analyst"]).get("/processes/").content.decode()
    assert "Purchase request" in analyst_page
    assert "/processes/purchase_request/start/" in analyst_page
    assert 'type="file" name="file"' in analyst_page
    requester_page = client_for(users["requester"]).get("/processes/").content.decode()
    assert "Purchase request" in requester_page
    assert 'type="file"' not in requester_page


def test_upload_deploys_a_task_without_lane_and_warns_located(users):
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        b'id="d" targetNamespace="http://x">\n'
        b'  <bpmn:process id="lonely" isExecutable="true">\n'
        b'    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing>'
        b"</bpmn:startEvent>\n"
        b'    <bpmn:userTask id="orphan_task" name="Who?">\n'
        b"      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        b"    </bpmn:userTask>\n"
        b'    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
        b'    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="orphan_task"/>\n'
        b'    <bpmn:sequenceFlow id="f2" sourceRef="orphan_task" targetRef="e"/>\n'
        b"  </bpmn:process>\n"
        b"</bpmn:definitions>\n"
    )
    response = client_for(users["analyst"]).post(
        "/processes/upload/",
        {"file": SimpleUploadedFile("lonely.bpmn", xml)},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "lonely v1 deployed" in html
    # Offered to process-admins (no default group named), warned of with its line.
    assert "lonely v1: line 5: User task &#x27;Who?&#x27; has no candidates" in html


def test_upload_of_malformed_xml_shows_the_line(users):
    response = client_for(users["analyst"]).post(
        "/processes/upload/",
        {"file": SimpleUploadedFile("broken.bpmn", b"<a>\n<b>\n</a>")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "broken.bpmn was not deployed" in html
    assert re.search(r'<span class="tag">line \d+</span>', html)


def test_upload_deploys_then_recognises_an_identical_file(users):
    analyst = client_for(users["analyst"])

    def upload(content):
        file = SimpleUploadedFile("purchase_request.bpmn", content)
        return analyst.post("/processes/upload/", {"file": file}, follow=True)

    first = upload(PURCHASE_XML)
    assert first.redirect_chain == [("/processes/purchase_request/", 302)]
    assert "purchase_request v1 deployed." in first.content.decode()
    again = upload(PURCHASE_XML).content.decode()
    assert "purchase_request unchanged (identical to v1)." in again
    changed = PURCHASE_XML.replace(b"Manager approval", b"Manager sign-off")
    third = upload(changed).content.decode()
    assert "purchase_request v2 deployed." in third
    assert "/processes/purchase_request/v2/bpmn/?download=1" in third


def test_upload_without_a_file_is_a_form_error(users):
    response = client_for(users["analyst"]).post("/processes/upload/", {})
    assert response.status_code == 400
    assert b"This field is required." in response.content


def test_non_analyst_upload_post_is_403(users):
    response = client_for(users["requester"]).post(
        "/processes/upload/", {"file": SimpleUploadedFile("p.bpmn", PURCHASE_XML)}
    )
    assert response.status_code == 403
    assert b"Only analysts" in response.content


def test_process_detail_lists_versions_and_downloads_the_original_xml(users, purchase):
    client = client_for(users["requester"])
    page = client.get("/processes/purchase_request/").content.decode()
    assert "v1" in page and "purchase_request.bpmn" in page
    assert purchase.checksum[:12] in page
    download = client.get("/processes/purchase_request/v1/bpmn/?download=1")
    assert download.status_code == 200
    assert download.content == PURCHASE_XML
    assert "attachment" in download["Content-Disposition"]
    version_page = html(client, "/processes/purchase_request/v1/")
    assert 'data-xml-url="/processes/purchase_request/v1/bpmn/"' in version_page
    assert client.get("/processes/purchase_request/v9/").status_code == 404


# ---- cases ------------------------------------------------------------------


def test_case_list_filters_by_status_and_hides_other_peoples_cases(users, purchase):
    case = start_purchase(users["requester"], justification="Mine")
    mine = client_for(users["requester"])
    link = f"/cases/{case.pk}/"
    assert link in html(mine, "/cases/")
    assert link in html(mine, "/cases/?status=running")
    assert link not in html(mine, "/cases/?status=completed")
    assert link in html(mine, "/cases/?process=purchase_request")
    assert link not in html(mine, "/cases/?process=other")
    other = client_for(users["requester2"])
    assert f"/cases/{case.pk}/" not in other.get("/cases/").content.decode()
    assert other.get(f"/cases/{case.pk}/").status_code == 404


def test_case_page_shows_status_data_tasks_timeline_and_diagram_slot(users, purchase):
    case = start_purchase(users["requester"], justification="Standing desk")
    task = open_task(case, "manager_review")
    page = client_for(users["manager1"]).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-status">Running<' in page
    assert "Standing desk" in page
    assert f"/tasks/{task.pk}/" in page
    assert "case.started" in page and "task.created" in page
    assert 'id="diagram" data-xml-url="/processes/purchase_request/v1/bpmn/"' in page
    # The requester sees the manager's task but gets no link to a page they cannot open.
    starter_page = html(client_for(users["requester"]), f"/cases/{case.pk}/")
    assert "Manager approval" in starter_page
    assert f"/tasks/{task.pk}/" not in starter_page


def test_cancel_by_requester_cancels_the_case(users, purchase):
    case = start_purchase(users["requester"])
    response = client_for(users["requester"]).post(f"/cases/{case.pk}/cancel/")
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    assert "The case was cancelled." in flash(response)
    case.refresh_from_db()
    assert case.status == Case.Status.CANCELLED
    assert HumanTask.objects.filter(case=case, status="open").count() == 0


def test_cancel_by_someone_who_may_only_see_the_case_is_403(users, purchase):
    case = start_purchase(users["requester"])
    response = client_for(users["manager1"]).post(f"/cases/{case.pk}/cancel/")
    assert response.status_code == 403
    assert b"Only the requester or a process admin" in response.content
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING


# ---- audit ------------------------------------------------------------------


def test_audit_page_for_auditors_with_filters_exports_and_verification(users, purchase):
    case = start_purchase(users["requester"])
    auditor = client_for(users["auditor"])
    page = auditor.get("/audit/").content.decode()
    assert "case.started" in page
    assert "/api/v1/audit/?format=csv" in page
    filtered = html(auditor, f"/audit/?case={case.pk}&action=case.started")
    assert f"format=csv&amp;case={case.pk}&amp;action=case.started" in filtered
    assert "task.created</span>" not in filtered
    verified = auditor.get("/audit/?verify=1").content.decode()
    assert "All chains verified." in verified


def test_audit_page_is_403_for_everyone_else(users, purchase):
    assert client_for(users["requester"]).get("/audit/").status_code == 403
    assert client_for(users["analyst"]).get("/audit/").status_code == 403


def test_auditor_sees_a_task_without_the_form_and_second_review_is_not_prefilled(
    client, users, purchase
):
    from engine.services import case_start
    from tasks_app.models import HumanTask
    from tasks_app.services import task_complete

    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 5, "justification": "Pens"},
    )
    review = HumanTask.objects.get(case=case, status="open")
    client.force_login(users["auditor"])
    page = client.get(f"/tasks/{review.pk}/").content.decode()
    assert "not offered to you" in page and "Complete task" not in page
    task_complete(
        user=users["manager1"],
        task_id=review.pk,
        data={"approved": False, "comment": "Too many pens"},
    )
    revise = HumanTask.objects.get(case=case, status="open")
    task_complete(
        user=users["requester"],
        task_id=revise.pk,
        data={"amount": 4, "justification": "Fewer pens"},
    )
    second = HumanTask.objects.get(case=case, status="open", bpmn_id="manager_review")
    client.force_login(users["manager2"])
    page = client.get(f"/tasks/{second.pk}/").content.decode()
    form = page.split("Your response")[1].split("</form>")[0]
    assert "Complete task" in form and "Too many pens" not in form
    assert " checked" not in form
