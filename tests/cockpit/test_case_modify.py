"""Moving a case (Camunda's process instance modification) through the API.

POST /api/v1/cases/{id}/modify/ {"instructions": [{"cancel" | "start_before" |
"start_after": "<element id>"}, ...], "reason"}: applied in order in one advance,
audited as case.modified with the active elements before and after; what cannot
be done is refused (409 modification_refused, naming the instruction and element)
and nothing changes.
"""

import pytest

from audit.models import AuditEvent
from engine.models import Case, Incident, ServiceCall
from engine.selectors import element_outgoing_flows
from engine.services import (
    case_start,
    service_call_apply,
    service_call_begin,
    service_call_execute,
)
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

CONFORMANCE_BPMN = BPMN_DIR.parent / "conformance" / "bpmn"

pytestmark = pytest.mark.django_db


@pytest.fixture
def diagram(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = {
        "test.flaky": "tests.operations.corpus_operation"
    }
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1
    return deploy(BPMN_DIR / "case_modify.bpmn", users["analyst"])


def _open(case, bpmn_id=None):
    tasks = HumanTask.objects.filter(case=case, status=HumanTask.Status.OPEN)
    if bpmn_id:
        tasks = tasks.filter(bpmn_id=bpmn_id)
    return list(tasks)


def _complete(users, case, bpmn_id, user="manager1", data=None):
    [task] = _open(case, bpmn_id)
    task_complete(user=users[user], task_id=task.pk, data=data or {})


def _run_call(case):
    call = ServiceCall.objects.get(case=case, status=ServiceCall.Status.PENDING)
    began = service_call_begin(call_id=call.pk)
    ok, value = service_call_execute(call=began)
    service_call_apply(call_id=call.pk, ok=ok, value=value)


def _at_review(users):
    case, _ = case_start(user=users["requester"], key="case_modify", data={"amount": 2})
    _complete(users, case, "submit", user="requester", data={"title": "Ink"})
    _run_call(case)
    assert [t.bpmn_id for t in _open(case)] == ["review"]
    return case


def _modify(users, case, *instructions, reason="fix", user="padmin"):
    return api_for(users[user]).post(
        f"/api/v1/cases/{case.pk}/modify/",
        {"instructions": list(instructions), "reason": reason},
        format="json",
    )


def test_a_case_moves_back_from_a_user_task_to_an_earlier_one(users, diagram):
    case = _at_review(users)
    review = _open(case, "review")[0]
    response = _modify(
        users,
        case,
        {"cancel": "review"},
        {"start_before": "submit"},
        reason="the requester must correct the title",
    )
    assert response.status_code == 200, response.content
    assert response.json()["active_elements"] == ["submit"]
    review.refresh_from_db()
    assert review.status == HumanTask.Status.CANCELLED
    [submit] = _open(case)
    assert submit.bpmn_id == "submit"
    # The new token carries the case's variables; the case runs on from there.
    assert Case.objects.get(pk=case.pk).data["title"] == "Ink"
    _complete(users, case, "submit", user="requester", data={"title": "Toner"})
    assert ServiceCall.objects.filter(case=case, status="pending").count() == 1
    _run_call(case)
    assert [t.bpmn_id for t in _open(case)] == ["review"]
    assert Case.objects.get(pk=case.pk).data["title"] == "Toner"
    event = AuditEvent.objects.get(case_id=case.pk, action="case.modified")
    assert event.actor_repr == "padmin"
    assert event.payload["reason"] == "the requester must correct the title"
    assert event.payload["instructions"] == [
        {"cancel": "review"},
        {"start_before": "submit"},
    ]
    assert event.payload["before"] == {"active": ["review"]}
    assert event.payload["after"] == {"active": ["submit"], "status": "running"}


def test_start_after_a_failed_service_task_resolves_its_incident(
    users, settings, diagram
):
    settings.ENGINE_SERVICE_OPERATIONS = {"test.flaky": "tests.operations.always_fails"}
    case, _ = case_start(user=users["requester"], key="case_modify", data={"amount": 2})
    _complete(users, case, "submit", user="requester")
    _run_call(case)
    incident = Incident.objects.get(case=case, status="open")
    assert incident.bpmn_id == "call_erp"
    response = _modify(
        users,
        case,
        {"cancel": "call_erp"},
        {"start_after": "call_erp"},
        reason="ERP booked by hand",
    )
    assert response.status_code == 200, response.content
    assert response.json()["active_elements"] == ["review"]
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "modified")
    assert Case.objects.get(pk=case.pk).has_incident is False
    assert [t.bpmn_id for t in _open(case)] == ["review"]


def test_a_cancelled_waiting_service_call_is_discarded_not_run(users, diagram):
    case, _ = case_start(user=users["requester"], key="case_modify", data={"amount": 2})
    _complete(users, case, "submit", user="requester")
    call = ServiceCall.objects.get(case=case)
    response = _modify(users, case, {"cancel": "call_erp"}, {"start_before": "review"})
    assert response.status_code == 200, response.content
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.DISCARDED
    assert service_call_begin(call_id=call.pk) is None  # a late delivery runs nothing
    assert [t.bpmn_id for t in _open(case)] == ["review"]


def test_start_transition_puts_a_token_on_a_sequence_flow(users, diagram):
    case = _at_review(users)
    response = _modify(users, case, {"cancel": "review"}, {"start_transition": "f3"})
    assert response.status_code == 200, response.content
    assert response.json()["active_elements"] == ["review"]
    [again] = _open(case)
    assert again.bpmn_id == "review"


def _at_split(users):
    case = _at_review(users)
    _complete(users, case, "review")
    assert sorted(t.bpmn_id for t in _open(case)) == ["finance", "legal"]
    assert Case.objects.get(pk=case.pk).next_timer_at is not None  # finance's timer
    return case


def test_cancelling_one_parallel_branch_leaves_the_join_waiting_for_it(users, diagram):
    """BPMN/Camunda: a parallel join waits for a token on every incoming flow."""
    case = _at_split(users)
    response = _modify(users, case, {"cancel": "finance"})
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.next_timer_at is None  # the boundary timer went with its task
    _complete(users, case, "legal")
    case.refresh_from_db()
    assert case.status == "running" and case.active_elements == ["join"]
    assert _open(case) == []
    # The token finance would have sent: the join fires, the case goes on.
    response = _modify(users, case, {"start_after": "finance"})
    assert response.status_code == 200, response.content
    assert [t.bpmn_id for t in _open(case)] == ["archive"]
    _complete(users, case, "archive")
    assert Case.objects.get(pk=case.pk).status == "completed"


def test_cancel_a_branch_and_start_after_it_lets_the_join_complete(users, diagram):
    case = _at_split(users)
    response = _modify(users, case, {"cancel": "finance"}, {"start_after": "finance"})
    assert response.status_code == 200, response.content
    assert sorted(response.json()["active_elements"]) == ["join", "legal"]
    assert [t.bpmn_id for t in _open(case)] == ["legal"]
    _complete(users, case, "legal")
    assert [t.bpmn_id for t in _open(case)] == ["archive"]  # the join fired once
    _complete(users, case, "archive")
    assert Case.objects.get(pk=case.pk).status == "completed"


@pytest.mark.parametrize(
    ("instructions", "element", "words"),
    [
        ([{"cancel": "nope"}], "nope", "no such element"),
        ([{"start_before": "nope"}], "nope", "no such element"),
        ([{"start_transition": "nope"}], "nope", "no such sequence flow"),
        ([{"cancel": "submit"}], "submit", "not active"),
        ([{"start_after": "split"}], "split", "2 outgoing"),
        ([{"start_after": "end"}], "end", "0 outgoing"),
        ([{"start_before": "join"}], "join", "join"),
        ([{"cancel": "finance_late"}], "finance_late", "boundary"),
        ([{"cancel": "review"}], "", "no active element"),
    ],
)
def test_what_cannot_be_done_is_refused_and_nothing_changes(
    users, diagram, instructions, element, words
):
    case = _at_review(users)
    revision = Case.objects.get(pk=case.pk).revision
    # A valid first instruction, then the one that cannot be done (leaving no
    # token is checked after all of them).
    first = [{"start_before": "archive"}] if element else []
    response = _modify(users, case, *first, *instructions)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "modification_refused"
    assert body["details"]["element"] == element
    assert words in body["details"]["reason"]
    if element:
        assert body["details"]["instruction"] == 1  # the second one
        assert f"Instruction 2 ({element})" in body["message"]
    after = Case.objects.get(pk=case.pk)
    assert (after.revision, after.active_elements) == (revision, ["review"])
    assert [t.bpmn_id for t in _open(case)] == ["review"]
    assert not AuditEvent.objects.filter(case_id=case.pk, action="case.modified")


def test_an_element_inside_a_multi_instance_body_is_refused(users):
    deploy(BPMN_DIR / "mi_subprocess.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="mi_subprocess", data={})
    assert len(_open(case, "sign")) == 2
    for instruction, words in (
        ({"cancel": "sign"}, "multi-instance"),
        ({"start_before": "sign"}, "running 2 times"),
    ):
        response = _modify(users, case, instruction)
        assert response.status_code == 409, response.content
        assert words in response.json()["details"]["reason"]
    # The whole multi-instance activity can be cancelled and the case moved on.
    response = _modify(users, case, {"cancel": "signing"}, {"start_after": "signing"})
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).status == "completed"
    assert _open(case) == []


def test_only_process_admins_modify_and_bad_input_names_the_field(users, diagram):
    case = _at_review(users)
    refused = _modify(users, case, {"cancel": "review"}, user="manager1")
    assert refused.status_code == 403
    missing = api_for(users["padmin"]).post(
        f"/api/v1/cases/{case.pk}/modify/",
        {"instructions": [{"cancel": "review"}]},
        format="json",
    )
    assert (
        missing.status_code == 400 and "reason" in missing.json()["details"]["fields"]
    )
    for bad in ([], [{"move": "review"}], [{"cancel": "a", "start_before": "b"}], "x"):
        response = _modify(users, case, *([bad] if isinstance(bad, str) else bad))
        assert response.status_code == 400, (bad, response.content)
        assert "instructions" in response.json()["details"]["fields"]
    assert [t.bpmn_id for t in _open(case)] == ["review"]


def test_a_process_admin_moves_a_case_on_its_repair_page(users, diagram):
    case = _at_review(users)
    page, url = page_for(users["padmin"]), f"/cockpit/cases/{case.pk}/"
    # The case page links process admins (only) to the repair page.
    link = f'href="{url}" data-testid="case-repair"'
    assert link in page.get(f"/cases/{case.pk}/").content.decode()
    other = page_for(users["requester"]).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-repair"' not in other
    shown = page.get(url)
    assert shown.status_code == 200
    assert b'name="cancel" value="review"' in shown.content
    assert b"Submit request (submit)" in shown.content
    nothing = page.post(url, {"action": "modify", "reason": "fix"})
    assert nothing.status_code == 400 and "move" in nothing.context["errors"]
    # Refused: the message says which element and why, the choices are kept.
    refused = page.post(
        url,
        {"action": "modify", "start_after": "split", "reason": "skip ahead"},
    )
    assert refused.status_code == 409
    assert "2 outgoing sequence flows" in refused.context["errors"]["move"][0]
    assert b'<option value="split" selected>' in refused.content
    assert b'value="skip ahead"' in refused.content
    moved = page.post(
        url,
        {
            "action": "modify",
            "cancel": "review",
            "start_before": "submit",
            "reason": "send back",
        },
        follow=True,
    )
    assert moved.status_code == 200
    assert b"The case was moved." in moved.content
    assert [t.bpmn_id for t in _open(case)] == ["submit"]
    event = AuditEvent.objects.get(case_id=case.pk, action="case.modified")
    assert event.payload["reason"] == "send back"


def test_the_flow_a_link_pair_stands_for_is_no_flow_to_choose(users):
    """links.py joins a link throw to its catch with a flow nobody drew
    (`<throw>_link`): no modification may name it, and an incident page never
    offers it; a token started after the throw still goes on at the catch."""
    deploy(CONFORMANCE_BPMN / "link_sequence.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="link_sequence", data={})
    assert [t.bpmn_id for t in _open(case)] == ["Task_Prepare"]
    response = _modify(
        users,
        case,
        {"cancel": "Task_Prepare"},
        {"start_transition": "Throw_ToReview_link"},
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["details"]["element"] == "Throw_ToReview_link"
    assert "no such sequence flow" in body["details"]["reason"]
    assert "start after 'Throw_ToReview'" in body["details"]["reason"]
    assert [t.bpmn_id for t in _open(case)] == ["Task_Prepare"]
    case = Case.objects.get(pk=case.pk)
    assert element_outgoing_flows(case=case, bpmn_id="Throw_ToReview") == []
    # The drawn flows are still there to choose.
    drawn = element_outgoing_flows(case=case, bpmn_id="Task_Prepare")
    assert [f.id for f in drawn] == ["Flow_Prepare_Throw"]
    response = _modify(
        users, case, {"cancel": "Task_Prepare"}, {"start_after": "Throw_ToReview"}
    )
    assert response.status_code == 200, response.content
    assert [t.bpmn_id for t in _open(case)] == ["Task_Review"]
