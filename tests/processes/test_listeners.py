"""Listeners that set a variable run; any other is refused, located (issue 9)."""

import pytest

from audit.models import AuditEvent
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete, task_delegate
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db


def diagram(listeners: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="listen" name="Listen" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
{listeners}
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f4" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="high">
      <bpmn:conditionExpression>${{state == "reviewed"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="low" />
    <bpmn:userTask id="high" camunda:candidateGroups="Manager" />
    <bpmn:userTask id="low" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


SET_ON_START_AND_COMPLETE = """\
        <camunda:executionListener event="start"
            expression="${execution.setVariable('opened', 'yes')}" />
        <camunda:taskListener event="complete"
            expression="${task.setVariable('state', 'reviewed')}" />
        <camunda:taskListener event="create"
            expression="${task.setVariable('limit', amount * 2)}" />"""


def test_set_variable_listeners_run_at_their_events(users):
    version_upload(
        user=users["analyst"],
        bpmn=diagram(SET_ON_START_AND_COMPLETE),
        filename="l.bpmn",
    )
    case, _ = case_start(user=users["requester"], key="listen", data={"amount": 21})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={})
    case.refresh_from_db()
    assert case.data["opened"] == "yes"  # execution start
    assert case.data["limit"] == 42  # task create, from the case data
    assert case.data["state"] == "reviewed"  # task complete
    # The gateway reads the value the complete listener set.
    assert HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN).bpmn_id == (
        "high"
    )


@pytest.mark.parametrize(
    "listener",
    [
        '<camunda:taskListener event="create" class="com.example.Notify" />',
        '<camunda:taskListener event="delete" '
        "expression=\"${task.setVariable('x', task.assignee)}\" />",
        '<camunda:executionListener event="start" expression="${mailer.send(x)}" />',
    ],
)
def test_any_other_listener_is_refused_located(users, listener):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=diagram(listener), filename="l.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "review" and problem["line"] == 10
    assert "would not run here" in problem["message"]


def flows_and_events(listeners: dict[str, str]) -> bytes:
    """A start event, a gateway with a default flow, and an intermediate throw
    event; `listeners` puts extension elements on the start event, the flows
    and the throw event by id."""

    def ext(element: str) -> str:
        body = listeners.get(element, "")
        return (
            f"<bpmn:extensionElements>{body}</bpmn:extensionElements>" if body else ""
        )

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="flows" name="Flows" isExecutable="true">
    <bpmn:startEvent id="start">{ext("start")}</bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" type="long" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="low" />
    <bpmn:sequenceFlow id="high" sourceRef="gw" targetRef="note">
      {ext("high")}
      <bpmn:conditionExpression>${{amount &gt; 1000}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="low" sourceRef="gw" targetRef="note">{ext("low")}
    </bpmn:sequenceFlow>
    <bpmn:intermediateThrowEvent id="note">{ext("note")}</bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="check" />
    <bpmn:userTask id="check" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


FLOW_LISTENERS = {
    "start": """<camunda:executionListener event="end"
        expression="${execution.setVariable('priority', 'LOW')}" />""",
    "high": """<camunda:executionListener event="take"
        expression="${execution.setVariable('route', 'high')}" />
      <camunda:executionListener event="take">
        <camunda:script scriptFormat="python">route = route + '!'
limit = amount * 2</camunda:script>
      </camunda:executionListener>""",
    "low": """<camunda:executionListener
        expression="${execution.setVariable('route', 'low')}" />""",
    "note": """<camunda:executionListener event="start"
        expression="${execution.setVariable('noted', route)}" />""",
}


@pytest.mark.parametrize(
    ("amount", "route", "limit"), [(5000, "high!", 10000), (10, "low", None)]
)
def test_listeners_on_flows_and_events_run_where_and_when_drawn(
    users, amount, route, limit
):
    version_upload(
        user=users["analyst"], bpmn=flows_and_events(FLOW_LISTENERS), filename="f.bpmn"
    )
    case, _ = case_start(user=users["requester"], key="flows", data={})
    assert case.data["priority"] == "LOW"  # the start event's end listener
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={"amount": amount})
    case.refresh_from_db()
    # Only the flow taken runs its listeners, in the order drawn, before the
    # throw event's start listener; a listener without an event on a flow is a
    # take listener, as in Camunda.
    assert case.data["route"] == route
    assert case.data["noted"] == route
    assert case.data.get("limit") == limit
    assert HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN).bpmn_id == (
        "check"
    )


def test_the_uploaded_xml_stays_as_drawn(users):
    data = flows_and_events(FLOW_LISTENERS)
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename="f.bpmn")
    assert bytes(deployed.version.original_xml) == data


@pytest.mark.parametrize(
    ("element", "listener", "why"),
    [
        (
            "high",
            '<camunda:executionListener event="take">'
            '<camunda:script scriptFormat="javascript">x = 1</camunda:script>'
            "</camunda:executionListener>",
            "javascript script uses the statement starting with 'x'",
        ),
        (
            "high",
            '<camunda:executionListener event="take">'
            '<camunda:script scriptFormat="python">'
            "execution.setVariable('x', 1)</camunda:script>"
            "</camunda:executionListener>",
            "execution and task objects are not available",
        ),
        (
            "high",
            '<camunda:executionListener event="take" delegateExpression="${audit}" />',
            "Java code",
        ),
        (
            "start",
            '<camunda:executionListener event="end" class="com.example.Audit" />',
            "Java code",
        ),
    ],
)
def test_listeners_that_cannot_run_on_flows_and_events_are_refused_located(
    users, element, listener, why
):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"],
            bpmn=flows_and_events({element: listener}),
            filename="f.bpmn",
        )
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == element and problem["line"]
    assert "would not run here" in problem["message"] and why in problem["message"]


def approval_loop(listeners: str, boundary: str = "") -> bytes:
    """Camunda's invoice pattern: an approval that goes back to who approved."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="loop" name="Loop" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="approved" type="boolean" />
        </camunda:formData>
{listeners}
      </bpmn:extensionElements>
    </bpmn:userTask>{boundary}
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="again" />
    <bpmn:sequenceFlow id="done" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>${{approved}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="again" sourceRef="gw" targetRef="approve" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


INVOICE_LISTENERS = """\
        <camunda:taskListener event="create">
          <camunda:script scriptFormat="javascript">if(!!task.getVariable('approver')) {
  task.setAssignee(approver);
}</camunda:script>
        </camunda:taskListener>
        <camunda:taskListener event="assignment">
          <camunda:script scriptFormat="javascript"
            >task.setVariable('approver', task.getAssignee());</camunda:script>
        </camunda:taskListener>"""


def test_invoice_javascript_listeners_give_the_task_back_to_its_approver(users):
    version_upload(
        user=users["analyst"],
        bpmn=approval_loop(INVOICE_LISTENERS),
        filename="loop.bpmn",
    )
    case, _ = case_start(user=users["requester"], key="loop", data={})
    first = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    # No approver yet: the create listener assigns nobody; the group is offered it.
    assert first.assignee is None and first.candidate_groups == ["Manager"]
    task_complete(user=users["manager2"], task_id=first.pk, data={"approved": False})
    case.refresh_from_db()
    assert case.data["approver"] == "manager2"  # the assignment listener
    again = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert again.assignee == users["manager2"]  # setAssignee(approver) on create
    task_complete(user=users["manager2"], task_id=again.pk, data={"approved": True})
    case.refresh_from_db()
    assert case.status == case.Status.COMPLETED


GROOVY_ON_FLOW = {
    "high": """<camunda:executionListener event="take">
        <camunda:script scriptFormat="groovy">
if (execution.getVariable("amount") > 1000 &amp;&amp; !execution.hasVariable("route")) {
  execution.setVariable("route", "high")
} else {
  execution.setVariable("route", "odd")
}
execution.setVariable("limit", amount * 2)
        </camunda:script>
      </camunda:executionListener>""",
}


def test_a_groovy_listener_in_the_subset_runs_on_its_flow(users):
    version_upload(
        user=users["analyst"], bpmn=flows_and_events(GROOVY_ON_FLOW), filename="g.bpmn"
    )
    case, _ = case_start(user=users["requester"], key="flows", data={})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={"amount": 5000})
    case.refresh_from_db()
    assert case.data["route"] == "high" and case.data["limit"] == 10000
    # The script's temporary names do not become variables.
    assert not [k for k in case.data if k.startswith("listener")]


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("var x = task.getVariable('a');", "the statement 'var'"),
        ("task.complete();", "the call task.complete(...)"),
        ("java.lang.System.exit(0)", "the statement starting with 'java'"),
        ("if (a == 1) { task.setVariable('b', 2) }", "loose comparison '=='"),
        ("task.setAssignee(boss)", "task.setAssignee(...) of a value"),
        ("for (;;) {}", "the statement 'for'"),
        ("task.setVariable('b', `x`)", "the character '`'"),
        # 010 is 8 in JavaScript (and Groovy); Python would not read it so.
        ("task.setVariable('b', 010)", "the octal number 010"),
    ],
)
def test_listener_scripts_outside_the_subset_are_refused_naming_the_construct(
    users, script, why
):
    listener = (
        '<camunda:taskListener event="create"><camunda:script '
        f'scriptFormat="javascript">{script}</camunda:script></camunda:taskListener>'
    )
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"], bpmn=approval_loop(listener), filename="l.bpmn"
        )
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "approve" and problem["line"]
    assert why in problem["message"], problem["message"]


ASSIGNMENT_LISTENER = """\
        <camunda:taskListener event="assignment">
          <camunda:script scriptFormat="javascript"
            >task.setVariable('approver', task.getAssignee());</camunda:script>
        </camunda:taskListener>"""
LATE = """
    <bpmn:boundaryEvent id="late" attachedToRef="approve">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f9" sourceRef="late" targetRef="end" />"""


def _case_data(user, case_id):
    response = api_for(user).get(f"/api/v1/cases/{case_id}/")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def _deployed_loop(users, boundary=LATE):
    version_upload(
        user=users["analyst"],
        bpmn=approval_loop(ASSIGNMENT_LISTENER, boundary),
        filename="loop.bpmn",
    )
    case, _ = case_start(user=users["requester"], key="loop", data={})
    return case, HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)


def test_an_assignment_listener_runs_when_the_task_is_claimed(users):
    # On a task with a boundary event: Camunda runs it at the claim, and so here.
    case, task = _deployed_loop(users)
    assert "approver" not in _case_data(users["requester"], case.pk)
    manager = api_for(users["manager1"])
    assert manager.post(f"/api/v1/tasks/{task.pk}/claim/").status_code == 200
    assert _case_data(users["requester"], case.pk)["approver"] == "manager1"
    page = page_for(users["requester"]).get(f"/cases/{case.pk}/").content.decode()
    assert '<th scope="row">approver</th><td>manager1</td>' in page
    events = AuditEvent.objects.filter(case_id=case.pk, action="case.data_changed")
    [event] = events
    assert event.payload["set"] == {"approver": "manager1"}
    assert event.payload["reason"] == "assignment listener"
    # Given back: the assignee is now nobody, and the listener says so (Camunda
    # fires assignment on every change of the assignee, null included).
    assert manager.post(f"/api/v1/tasks/{task.pk}/unclaim/").status_code == 200
    assert _case_data(users["requester"], case.pk)["approver"] is None


def test_an_assignment_by_a_process_admin_runs_it_with_the_new_assignee(users):
    case, task = _deployed_loop(users)
    response = api_for(users["padmin"]).post(
        f"/api/v1/tasks/{task.pk}/assign/", {"user": "manager2"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert _case_data(users["requester"], case.pk)["approver"] == "manager2"
    # Delegating hands the task to the delegate: the listener runs for them,
    # and again for the owner when the delegate's answer comes back.
    task_delegate(user=users["manager2"], task_id=task.pk, delegate="manager1")
    assert _case_data(users["requester"], case.pk)["approver"] == "manager1"
    task_complete(user=users["manager1"], task_id=task.pk, data={"approved": False})
    assert _case_data(users["requester"], case.pk)["approver"] == "manager2"


def test_a_task_created_with_an_assignee_runs_it_after_create(users):
    listener = ASSIGNMENT_LISTENER.replace(
        "task.getAssignee()", "'by ' + task.getAssignee()"
    )
    bpmn = approval_loop(listener).replace(
        b'camunda:candidateGroups="Manager"', b'camunda:assignee="${boss}"'
    )
    version_upload(user=users["analyst"], bpmn=bpmn, filename="loop.bpmn")
    case, _ = case_start(user=users["requester"], key="loop", data={"boss": "manager1"})
    assert _case_data(users["requester"], case.pk)["approver"] == "by manager1"
    other, _ = case_start(user=users["requester"], key="loop", data={"boss": ""})
    assert "approver" not in _case_data(users["requester"], other.pk)


PARALLEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="par" name="Parallel" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="approve" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="check" />
    <bpmn:userTask id="approve" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
        <camunda:taskListener event="assignment">
          <camunda:script scriptFormat="groovy"
            >task.setVariable('approver', task.getAssignee())</camunda:script>
        </camunda:taskListener>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="end1" />
    <bpmn:endEvent id="end1" />
    <bpmn:userTask id="check" camunda:candidateGroups="Finance" />
    <bpmn:sequenceFlow id="f5" sourceRef="check" targetRef="who" />
    <bpmn:exclusiveGateway id="who" default="nobody" />
    <bpmn:sequenceFlow id="known" sourceRef="who" targetRef="brief">
      <bpmn:conditionExpression>${approver != null}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="nobody" sourceRef="who" targetRef="end2" />
    <bpmn:userTask id="brief" name="Brief the approver"
        camunda:assignee="${approver}" />
    <bpmn:sequenceFlow id="f6" sourceRef="brief" targetRef="end2" />
    <bpmn:endEvent id="end2" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_parallel_branch_reads_what_a_claim_set_before_the_task_completes(users):
    version_upload(user=users["analyst"], bpmn=PARALLEL, filename="par.bpmn")
    case, _ = case_start(user=users["requester"], key="par", data={"approver": None})
    approve = HumanTask.objects.get(case=case, bpmn_id="approve")
    check = HumanTask.objects.get(case=case, bpmn_id="check")
    task_claim(user=users["manager1"], task_id=approve.pk)
    task_complete(user=users["finance"], task_id=check.pk, data={})
    brief = HumanTask.objects.get(case=case, bpmn_id="brief")
    assert brief.assignee == users["manager1"]  # approve is still open
    approve.refresh_from_db()
    assert approve.status == HumanTask.Status.OPEN


def test_a_failing_assignment_listener_refuses_the_claim_and_changes_nothing(users):
    failing = ASSIGNMENT_LISTENER.replace(
        "task.getAssignee()", "task.getAssignee() + missing"
    )
    version_upload(
        user=users["analyst"], bpmn=approval_loop(failing), filename="loop.bpmn"
    )
    case, _ = case_start(user=users["requester"], key="loop", data={})
    task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    response = api_for(users["manager1"]).post(f"/api/v1/tasks/{task.pk}/claim/")
    assert response.status_code == 409, response.json()
    assert (
        "assignment listener of the task 'approve' failed" in response.json()["message"]
    )
    task.refresh_from_db()
    assert task.assignee is None
