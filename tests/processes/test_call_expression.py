"""A calledElement expression names the called process when the call starts.

Camunda 7 (BPMN 2.0 model reference, Call Activity: "calledElement ... can be
an expression", resolved by CallableElementUtil each time the call activity
is executed, against the variables the activity sees): `${callee}` calls the
latest deployed version of the process whose key `callee` holds then (or
calledElementVersion of it with binding "version"). A value that is not a
text (BaseCallableElement.getDefinitionKey: "Cannot cast ... to String"), a
key no process is deployed under, or a process without a none start event
fails the call: here an incident on the call activity, retried once fixed.

Everything goes through `processes.services.version_upload`, `engine.services`
(case start, variables, incident retry) and `tasks_app.services.task_complete`
on PostgreSQL; the parsed-spec cache is emptied between steps, so every step
rebuilds the specs from the database (as another worker process would).
"""

from pathlib import Path

import pytest

from audit.models import AuditEvent
from engine import spec_cache
from engine.models import Case, Incident
from engine.services import case_start
from engine.services.incidents import incident_retry
from engine.services.repairs import case_variables_set
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "call_expression"
LATEST = Path(__file__).parent / "call_latest"


def _deploy(users, data: bytes, filename: str):
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename=filename)
    spec_cache._cache.clear()
    return deployed.version


def _child(number: int) -> bytes:
    return (LATEST / f"child_v{number}.bpmn").read_bytes()


def _parent(attributes: str = "", called: str = "${callee}") -> bytes:
    xml = (FILES / "parent.bpmn").read_text()
    return xml.replace(
        'calledElement="${callee}"', f'calledElement="{called}"{attributes}'
    ).encode()


def _open(case: Case) -> HumanTask:
    return HumanTask.objects.get(case=case, status="open")


def _calls(case: Case) -> list[str]:
    events = AuditEvent.objects.filter(action="call.started", case_id=case.pk)
    return [e.payload["called"] for e in events.order_by("at", "pk")]


def _work(users, case: Case) -> str:
    """Do the child's open task; return its name."""
    spec_cache._cache.clear()
    task = _open(case)
    data = {f["id"]: True for f in task.form}
    user = users["finance"] if task.candidate_groups == ["Finance"] else None
    task_complete(user=user or users["manager1"], task_id=task.pk, data=data)
    spec_cache._cache.clear()
    return task.name


def _decide(users, case: Case, *, again: bool, callee: str) -> None:
    task = _open(case)
    assert task.bpmn_id == "decide"
    task_complete(
        user=users["manager1"],
        task_id=task.pk,
        data={"again": again, "callee": callee},
    )
    spec_cache._cache.clear()


def _incident(case: Case) -> Incident:
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "call_child"
    return incident


def test_the_expression_is_evaluated_each_time_the_call_starts(users):
    _deploy(users, _child(1), "child.bpmn")
    _deploy(users, (FILES / "other.bpmn").read_bytes(), "other.bpmn")
    _deploy(users, _parent(), "parent.bpmn")  # upload needs no process of that key

    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "review_child"}
    )
    assert _calls(case) == ["review_child v1"]
    _deploy(users, _child(2), "child.bpmn")  # while the child v1 runs
    assert _work(users, case) == "Review (v1)"  # the running child stays on v1
    case.refresh_from_db()
    assert case.data["ran"] == 1

    # The second call evaluates the expression again: another process.
    _decide(users, case, again=True, callee="other_child")
    assert _work(users, case) == "Other work"
    # And the third: the latest version of review_child now (v2).
    _decide(users, case, again=True, callee="review_child")
    assert _work(users, case) == "Review (v2)"
    _decide(users, case, again=False, callee="")
    case.refresh_from_db()
    assert (case.status, case.data["ran"]) == (Case.Status.COMPLETED, 2)
    assert _calls(case) == ["review_child v1", "other_child v1", "review_child v2"]
    events = AuditEvent.objects.filter(action="call.started", case_id=case.pk)
    assert [(e.payload["key"], e.payload["version"]) for e in events] == [
        ("review_child", 1),
        ("other_child", 1),
        ("review_child", 2),
    ]


def test_binding_version_calls_that_version_of_the_key_the_expression_gives(users):
    _deploy(users, _child(1), "child.bpmn")
    _deploy(users, _child(2), "child.bpmn")
    pinned = ' camunda:calledElementBinding="version" camunda:calledElementVersion="1"'
    _deploy(users, _parent(pinned), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "review_child"}
    )
    assert _calls(case) == ["review_child v1"]
    assert _work(users, case) == "Review (v1)"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (5, "the expression gives 5 (int), not the key of a process (a text)"),
        (None, "the expression gives None (NoneType), not the key of a process"),
        ("nobody_here", "no process 'nobody_here' is deployed"),
    ],
    ids=["number", "null", "not-deployed"],
)
def test_a_value_that_names_no_deployed_process_is_an_incident_fixed_by_retry(
    users, value, reason
):
    _deploy(users, _child(1), "child.bpmn")
    _deploy(users, _parent(), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": value}
    )
    incident = _incident(case)
    assert "calledElement ${callee}" in incident.message
    assert reason in incident.message
    assert not HumanTask.objects.filter(case=case).exists()
    assert _calls(case) == []

    # The process admin fixes the variable; the retry evaluates it again.
    spec_cache._cache.clear()
    case = Case.objects.select_for_update().get(pk=case.pk)
    case_variables_set(
        case=case, actor=users["padmin"], values={"callee": "review_child"}, remove=[]
    )
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert _calls(case) == ["review_child v1"]
    assert _work(users, case) == "Review (v1)"


def test_a_missing_variable_is_an_incident_and_deploying_the_key_fixes_it(users):
    _deploy(users, _parent(), "parent.bpmn")
    case, _ = case_start(user=users["requester"], key="parent_expr", data={})
    assert (
        "the expression cannot be evaluated (NameError: name 'callee' is not defined)"
        in _incident(case).message
    )

    spec_cache._cache.clear()
    case = Case.objects.select_for_update().get(pk=case.pk)
    case_variables_set(
        case=case, actor=users["padmin"], values={"callee": "review_child"}, remove=[]
    )
    incident = _incident(case)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident = _incident(case)  # still no process review_child
    assert "no process 'review_child' is deployed" in incident.message

    _deploy(users, _child(3), "child.bpmn")  # the analyst deploys it
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    assert _calls(case) == ["review_child v1"]
    assert _work(users, case) == "Review (v3)"


def test_a_process_without_a_none_start_event_is_an_incident(users):
    _deploy(users, (LATEST / "child_no_none_start.bpmn").read_bytes(), "child.bpmn")
    _deploy(users, _parent(), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "review_child"}
    )
    assert "'review_child' v1 has no none start event" in _incident(case).message


def test_the_callee_starts_whoever_may_start_it_by_hand(users):
    """As for a named callee: the called process starts as part of the case,
    for whoever made the step; its candidateStarterGroups restrict starting it
    by hand only (Camunda 7 checks no start permission in a call activity)."""
    restricted = (
        (FILES / "other.bpmn")
        .read_text()
        .replace(
            'isExecutable="true"',
            'isExecutable="true" camunda:candidateStarterGroups="Finance"',
        )
    )
    _deploy(users, restricted.encode(), "other.bpmn")
    _deploy(users, _parent(), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "other_child"}
    )
    assert _calls(case) == ["other_child v1"]
    assert _open(case).bpmn_id == "other_task"


@pytest.mark.parametrize(
    ("attributes", "called", "says"),
    [
        (
            ' camunda:calledElementBinding="deployment"',
            "${callee}",
            'with calledElementBinding="deployment"',
        ),
        ("", "review_${callee}", "outside the JUEL subset"),
        ("", "${callee.toUpperCase()}", "outside the JUEL subset"),
    ],
    ids=["deployment-binding", "mixed-text", "method"],
)
def test_an_expression_laneway_cannot_run_as_camunda_is_refused_at_upload(
    users, attributes, called, says
):
    with pytest.raises(BpmnInvalid) as caught:
        version_upload(
            user=users["analyst"],
            bpmn=_parent(attributes, called),
            filename="parent.bpmn",
        )
    [problem] = caught.value.details["errors"]
    assert problem["element_id"] == "call_child"
    assert problem["line"] == 12
    assert says in problem["message"]


def test_each_instance_of_a_multi_instance_call_evaluates_it_with_its_element(users):
    """Camunda 7 resolves calledElement per instance, in the instance's scope:
    `${callee}` with camunda:elementVariable="callee" calls one process each."""
    _deploy(users, _child(1), "child.bpmn")
    _deploy(users, (FILES / "other.bpmn").read_bytes(), "other.bpmn")
    xml = (
        _parent()
        .decode()
        .replace(
            "</bpmn:extensionElements>\n    </bpmn:callActivity>",
            "</bpmn:extensionElements>\n      <bpmn:multiInstanceLoopCharacteristics "
            'camunda:collection="${callees}" camunda:elementVariable="callee" />\n'
            "    </bpmn:callActivity>",
        )
    )
    _deploy(users, xml.encode(), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"],
        key="parent_expr",
        data={"callees": ["other_child", "review_child"]},
    )
    assert sorted(_calls(case)) == ["other_child v1", "review_child v1"]
    names = HumanTask.objects.filter(case=case, status="open").values_list(
        "name", flat=True
    )
    assert sorted(names) == ["Other work", "Review (v1)"]


@pytest.mark.parametrize("called", ["${callee}", "other_child"])
def test_an_assignment_listener_of_the_called_version_runs_when_claimed(users, called):
    """A caller whose only call is an expression may run any process: what
    depends on the callee (here its task's assignment listener, Camunda 7
    runs it at the claim) is read from the version the child runs."""
    from tasks_app.services import task_claim

    listening = (
        (FILES / "other.bpmn")
        .read_text()
        .replace(
            '<bpmn:userTask id="other_task" name="Other work" '
            'camunda:candidateGroups="Manager" />',
            '<bpmn:userTask id="other_task" name="Other work" '
            'camunda:candidateGroups="Manager"><bpmn:extensionElements>'
            '<camunda:taskListener event="assignment"><camunda:script '
            "scriptFormat=\"javascript\">task.setVariable('taker', "
            "task.getAssignee());</camunda:script></camunda:taskListener>"
            "</bpmn:extensionElements></bpmn:userTask>",
        )
        .replace('ran = "other"', "ran = taker")
    )
    _deploy(users, listening.encode(), "other.bpmn")
    _deploy(users, _parent(called=called), "parent.bpmn")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "other_child"}
    )
    spec_cache._cache.clear()
    task_claim(user=users["manager1"], task_id=_open(case).pk)
    spec_cache._cache.clear()
    assert _work(users, case) == "Other work"
    case.refresh_from_db()
    assert not Incident.objects.filter(case=case).exists()
    assert case.data["ran"] == "manager1"  # the child's listener set it


def _with_own_child(label: str) -> bytes:
    """The parent with a process of its own file it may name (`own_child`)."""
    own = (LATEST / "child_v1.bpmn").read_text()
    own = own[own.index("<bpmn:process") : own.index("</bpmn:definitions>")]
    own = (
        own.replace('id="review_child"', 'id="own_child"')
        .replace('id="child_lanes"', 'id="own_lanes"')
        .replace("Review (v1)", label)
    )
    xml = (FILES / "parent.bpmn").read_text()
    return xml.replace("</bpmn:definitions>", own + "</bpmn:definitions>").encode()


def test_a_key_of_the_callers_own_file_calls_its_latest_deployed_version(users):
    """Camunda 7 looks the key up among the deployed definitions: a process of
    the caller's file runs its latest deployed version, which a later upload
    of the file may have replaced (a named callee of the same file runs as
    deployed with the caller)."""
    # The file deploys parent_expr and own_child.
    version_upload(user=users["analyst"], bpmn=_with_own_child("Own (1)"), filename="p")
    case, _ = case_start(
        user=users["requester"], key="parent_expr", data={"callee": "own_child"}
    )
    assert _calls(case) == ["own_child v1"]
    version_upload(user=users["analyst"], bpmn=_with_own_child("Own (2)"), filename="p")
    spec_cache._cache.clear()
    assert _work(users, case) == "Own (1)"
    _decide(users, case, again=True, callee="own_child")  # case still on v1
    assert _calls(case) == ["own_child v1", "own_child v2"]
    assert _work(users, case) == "Own (2)"
