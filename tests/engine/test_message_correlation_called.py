"""A message awaited inside a called process, correlated as Camunda 7 does.

Camunda 7 runs a called process as a process instance of its own: its own
variables (what `camunda:in` passed), and its own business key, none unless
the call activity's `camunda:in businessKey` gives one
(`CallableElement.getBusinessKey`; `#{execution.processBusinessKey}` passes
the caller's). Correlation selects executions by the variables and business
key of *their* process instance (`DefaultCorrelationHandler`:
`processVariableValueEquals`, `processInstanceBusinessKey`;
MessageCorrelationTest). Laneway runs the called process inside the case; it
matched the case's business key and variables, so a message by business key
or by a caller's variable reached a called process Camunda 7 would not
correlate (and a variable only the called process holds found nothing).
"""

import pytest
from rest_framework.test import APIClient

from engine.models import Case
from engine.services.cases import case_start
from processes.errors import BpmnInvalid
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def called(users):
    for name in (
        "child",
        "parent_plain",
        "parent_bk",
        "parent_expr",
        "each",
        "and_own",
    ):
        deploy(BPMN_DIR / f"msgcorr_called_{name}.bpmn", users["analyst"])


def send(user, **body):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(
        "/api/v1/messages/", {"name": "msgcorr_ready", **body}, format="json"
    )


def start(users, key, data=None, business_key="BK-1"):
    data = {"ref": "R1", "order": "O1"} if data is None else data
    case, _ = case_start(
        user=users["padmin"], key=key, data=data, business_key=business_key
    )
    return case


def status(case):
    case.refresh_from_db()
    return case.status


@pytest.mark.parametrize(
    ("process", "body", "reaches"),
    [
        # No camunda:in businessKey: the called instance has none.
        ("msgcorr_parent_plain", {"business_key": "BK-1"}, False),
        # The caller's variable is not the called instance's.
        ("msgcorr_parent_plain", {"correlation": {"order": "O1"}}, False),
        ("msgcorr_parent_plain", {"correlation": {"ref": "R1"}}, False),
        # What camunda:in passed is.
        ("msgcorr_parent_plain", {"correlation": {"childRef": "R1"}}, True),
        (
            "msgcorr_parent_plain",
            {"correlation": {"childRef": "R1"}, "business_key": "BK-1"},
            False,
        ),
        # camunda:in businessKey="#{execution.processBusinessKey}".
        ("msgcorr_parent_bk", {"business_key": "BK-1"}, True),
        (
            "msgcorr_parent_bk",
            {"correlation": {"childRef": "R1"}, "business_key": "BK-1"},
            True,
        ),
        ("msgcorr_parent_bk", {"correlation": {"order": "O1"}}, False),
        # camunda:in businessKey="${orderNo}": that value, not the case's.
        ("msgcorr_parent_expr", {"business_key": "BK-1"}, False),
        ("msgcorr_parent_expr", {"business_key": "N-7"}, True),
    ],
)
def test_correlation_reads_the_called_instance(users, called, process, body, reaches):
    case = start(users, process, {"ref": "R1", "order": "O1", "orderNo": "N-7"})
    response = send(users["padmin"], **body)
    if reaches:
        assert response.status_code == 200, response.content
        assert response.json()["delivered"] == [str(case.pk)]
        assert status(case) == Case.Status.COMPLETED
    else:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "message_not_correlated"
        assert status(case) == Case.Status.RUNNING


def test_each_run_of_a_multi_instance_call_is_its_own_instance(users, called):
    # Camunda 7: two called instances, childRef "a" and "b"; the message for
    # "b" correlates to exactly one execution.
    case = start(users, "msgcorr_parent_each", {"items": ["a", "b"]})
    assert send(users["padmin"], correlation={"childRef": "b"}).status_code == 200
    # "b" is done; only "a" still waits.
    assert send(users["padmin"], correlation={"childRef": "b"}).status_code == 404
    assert status(case) == Case.Status.RUNNING
    assert send(users["padmin"]).status_code == 200  # the one left
    assert HumanTask.objects.filter(case=case, bpmn_id="mce_after").exists()


def test_the_case_and_its_called_process_both_waiting(users, called):
    # The caller's receive task has the business key, the called process's
    # (no camunda:in businessKey) has none: one execution matches, so
    # correlate() gives it to the caller's only (was: 409, two waiting).
    case = start(users, "msgcorr_parent_both")
    response = send(users["padmin"], business_key="BK-1")
    assert response.status_code == 200, response.content
    open_ids = set(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )
    assert open_ids == {"mcb_after_own"}
    # Without a business key both match: correlate() refuses, changing nothing.
    case2 = start(users, "msgcorr_parent_both", business_key="BK-2")
    response = send(users["padmin"], correlation={})
    assert response.status_code == 409, response.content
    # The called one alone, by its own variable.
    response = send(users["padmin"], correlation={"childRef": "R1"}, business_key="")
    assert response.status_code == 409  # both cases' called runs have R1
    response = send(users["padmin"], correlation={"childRef": "R1"}, all=True)
    assert response.status_code == 200
    assert set(response.json()["delivered"]) == {str(case.pk), str(case2.pk)}
    assert set(
        HumanTask.objects.filter(case=case2, status="open").values_list(
            "bpmn_id", flat=True
        )
    ) == {"mcb_after_call"}


def test_message_data_lands_in_the_called_instance(users, called):
    # Camunda 7 sets the correlation's processVariables on the called
    # instance; without camunda:out the caller does not get them.
    case = start(users, "msgcorr_parent_each", {"items": ["a"]})
    response = send(users["padmin"], data={"note": "hi"})
    assert response.status_code == 200
    case.refresh_from_db()
    assert "note" not in case.data
    assert case.data["lastRef"] == "a"


def test_a_business_key_expression_reading_the_callers_key_otherwise_is_refused(
    users, tmp_path
):
    xml = (BPMN_DIR / "msgcorr_called_parent_bk.bpmn").read_text()
    path = tmp_path / "bad_key.bpmn"
    path.write_text(
        xml.replace(
            "#{execution.processBusinessKey}",
            "${execution.processBusinessKey == null}",
        )
    )
    with pytest.raises(BpmnInvalid) as refused:
        deploy(path, users["analyst"])
    assert "businessKey" in str(refused.value.details)
