"""calledElementBinding="latest" resolves the callee's version when the call starts.

Camunda 7 (BPMN 2.0 model reference, Call Activity, "calledElementBinding":
"latest: always call the latest process definition version (which is also the
default)"; CallableElementUtil resolves it each time the call activity is
executed): a callee version deployed while a parent case runs is used by every
call activity that starts after it, in that case and in new ones, while a
child already running stays on its version to its end.

Everything goes through `processes.services.version_upload`, `engine.services`
(case start, incident retry) and `tasks_app.services.task_complete` on
PostgreSQL; each command loads the case state stored by the one before, and
the parsed-spec cache is emptied between steps, so every step also rebuilds
the specs from the database (as another worker process would).
"""

import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from engine import spec_cache
from engine.models import Case, Incident
from engine.services import case_start
from engine.services.incidents import incident_retry
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tasks_app.story import case_story

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "call_latest"

# What each child version's user task shows (name, lane, candidate group, form
# field), as its file says.
CHILD_VERSIONS = {
    1: ("Review (v1)", "Finance", "Finance", "checked_v1"),
    2: ("Review (v2)", "Managers", "Manager", "checked_v2"),
    3: ("Review (v3)", "Finance", "Finance", "checked_v3"),
}
WORKER = {"Finance": "finance", "Manager": "manager1"}


def child(number: int) -> bytes:
    """Version `number` of the called process (review_child)."""
    return (FILES / f"child_v{number}.bpmn").read_bytes()


def parent(binding: str) -> bytes:
    """The caller, its call activity given `binding` (attributes) if any."""
    return (
        (FILES / "parent.bpmn")
        .read_text()
        .replace(
            'calledElement="review_child"', f'calledElement="review_child"{binding}'
        )
        .encode()
    )


def _deploy(users, data: bytes, filename: str):
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename=filename)
    return deployed.version


def _open(case: Case) -> HumanTask:
    return HumanTask.objects.get(case=case, status="open")


def _review(users, case: Case, number: int) -> None:
    """The open task is the child's task of version `number`: check it, do it."""
    spec_cache._cache.clear()  # the next command rebuilds every spec it needs
    task = _open(case)
    name, lane, group, field = CHILD_VERSIONS[number]
    assert (task.bpmn_id, task.name, task.lane) == ("review", name, lane)
    assert task.candidate_groups == [group]
    assert [f["id"] for f in task.form] == [field]
    task_complete(user=users[WORKER[group]], task_id=task.pk, data={field: True})
    spec_cache._cache.clear()


def _decide(users, case: Case, *, again: bool) -> None:
    task = _open(case)
    assert task.bpmn_id == "decide"
    task_complete(user=users["manager1"], task_id=task.pk, data={"again": again})
    spec_cache._cache.clear()


def _calls(case: Case) -> list[str]:
    events = AuditEvent.objects.filter(action="call.started", case_id=case.pk)
    return [e.payload["called"] for e in events.order_by("at", "pk")]


@pytest.mark.parametrize(
    "binding",
    ["", ' camunda:calledElementBinding="latest"'],
    ids=["no-binding", "latest"],
)
def test_a_call_runs_the_callee_version_latest_when_it_starts(users, binding):
    _deploy(users, child(1), "child.bpmn")
    _deploy(users, parent(binding), "parent.bpmn")

    case_a, _ = case_start(user=users["requester"], key="parent", data={})
    assert _calls(case_a) == ["review_child v1"]
    _open(case_a)  # child v1's task

    _deploy(users, child(2), "child.bpmn")  # deployed while A's child v1 runs
    spec_cache._cache.clear()

    # A's running child stays on v1 to its end (its task, lane, form, script).
    _review(users, case_a, 1)
    case_a.refresh_from_db()
    assert case_a.data["ran"] == 1

    # A new case B calls v2.
    case_b, _ = case_start(user=users["requester"], key="parent", data={})
    assert _calls(case_b) == ["review_child v2"]
    _review(users, case_b, 2)

    # A's loop calls the child again: the call starts now, so it runs v2.
    _decide(users, case_a, again=True)
    assert _calls(case_a) == ["review_child v1", "review_child v2"]

    _deploy(users, child(3), "child.bpmn")  # deployed while A's child v2 runs
    spec_cache._cache.clear()
    _review(users, case_a, 2)
    case_a.refresh_from_db()
    assert case_a.data["ran"] == 2
    _decide(users, case_a, again=False)
    case_a.refresh_from_db()
    assert case_a.status == Case.Status.COMPLETED
    assert _calls(case_a) == ["review_child v1", "review_child v2"]

    _decide(users, case_b, again=True)  # B's second call: v3
    assert _calls(case_b) == ["review_child v2", "review_child v3"]
    _review(users, case_b, 3)
    _decide(users, case_b, again=False)
    case_b.refresh_from_db()
    assert (case_b.status, case_b.data["ran"]) == (Case.Status.COMPLETED, 3)
    # The case page's story names the version each call ran.
    _, story = case_story(case=case_b)
    started = [i["words"] for i in story if i["action"] == "call.started"]
    assert started == [
        "“call_child” started review_child v2",
        "“call_child” started review_child v3",
    ]


def test_binding_version_keeps_calling_that_version(users):
    """calledElementBinding="version" calls calledElementVersion, whatever is
    deployed later (Camunda 7: "version: call a specific version")."""
    _deploy(users, child(1), "child.bpmn")
    _deploy(users, child(2), "child.bpmn")
    pinned = ' camunda:calledElementBinding="version" camunda:calledElementVersion="1"'
    _deploy(users, parent(pinned), "parent.bpmn")
    _deploy(users, child(3), "child.bpmn")
    case, _ = case_start(user=users["requester"], key="parent", data={})
    _review(users, case, 1)
    _decide(users, case, again=True)
    _review(users, case, 1)
    _decide(users, case, again=False)
    assert _calls(case) == ["review_child v1", "review_child v1"]


def test_a_latest_version_that_cannot_be_called_is_an_incident_fixed_by_retry(
    users,
):
    """The callee's latest version at call time has no none start event (BPMN
    2.0.2 §10.5.2: a called process starts there; Camunda 7 fails the call):
    never a silent misrun, but an incident on the call activity naming the
    reason; once the analyst deploys a version that can be called, a retry of
    the incident runs that version."""
    _deploy(users, child(1), "child.bpmn")
    _deploy(users, parent(""), "parent.bpmn")
    _deploy(
        users, (FILES / "child_no_none_start.bpmn").read_bytes(), "child.bpmn"
    )  # review_child v2
    spec_cache._cache.clear()

    case, _ = case_start(user=users["requester"], key="parent", data={})
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "call_child"
    assert "'review_child' v2 has no none start event" in incident.message
    assert not HumanTask.objects.filter(case=case).exists()
    assert _calls(case) == []

    _deploy(users, child(3), "child.bpmn")
    spec_cache._cache.clear()
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert _calls(case) == ["review_child v3"]
    _review(users, case, 3)
    _decide(users, case, again=False)
    case.refresh_from_db()
    assert (case.status, case.data["ran"]) == (Case.Status.COMPLETED, 3)


def test_a_callee_with_no_deployed_version_left_is_an_incident(users):
    """A called definition whose versions are all retired (no deployed version
    to call at call time) is an incident on the call activity, not a misrun."""
    from processes.models import ProcessVersion

    _deploy(users, child(1), "child.bpmn")
    _deploy(users, parent(""), "parent.bpmn")
    ProcessVersion.objects.filter(definition__key="review_child").update(
        status=ProcessVersion.Status.RETIRED
    )
    case, _ = case_start(user=users["requester"], key="parent", data={})
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "call_child"
    assert "'review_child' has no deployed version" in incident.message


def _statements(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(
        [
            q
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]
    )


def _inline_parent() -> bytes:
    """The parent, calling a copy of child v1 kept in its own file."""
    head = (FILES / "parent.bpmn").read_text().replace("</bpmn:definitions>", "")
    own = (FILES / "child_v1.bpmn").read_text()
    own = own[own.index("<bpmn:process") :]
    return (
        head.replace('id="parent"', 'id="parent_inline"').replace(
            'calledElement="review_child"', 'calledElement="inline_child"'
        )
        + own.replace('id="review_child"', 'id="inline_child"').replace(
            'id="child_lanes"', 'id="inline_lanes"'
        )
    ).encode()


def test_a_call_of_another_files_process_costs_one_query_more_when_it_starts(users):
    """Resolving the latest version is one query (the spec comes from the cache):
    the same diagram calling the same process kept in its own file costs one
    less. The later steps of the running child cost the same (its version is
    found by the reference in the state, without a query, the spec cached)."""
    _deploy(users, child(1), "child.bpmn")
    _deploy(users, parent(""), "parent.bpmn")
    version_upload(user=users["analyst"], bpmn=_inline_parent(), filename="i.bpmn")
    started: dict[str, Case] = {}

    def start(key: str) -> int:
        def run() -> None:
            started[key] = case_start(user=users["requester"], key=key, data={})[0]

        return _statements(run)

    def complete(key: str) -> int:
        task = _open(started[key])
        return _statements(
            lambda: task_complete(
                user=users["finance"], task_id=task.pk, data={"checked_v1": True}
            )
        )

    for key in ("parent", "parent_inline"):  # warm: specs parsed, caches filled
        start(key)
        complete(key)
    assert start("parent") == start("parent_inline") + 1
    assert complete("parent") == complete("parent_inline")


def test_a_called_version_that_waits_for_a_message_gets_it(users):
    """The caller has no message event, the latest child version has one:
    the case subscribes when the child waits, and the message reaches it
    (Camunda 7 correlates to the called instance's execution)."""
    from engine.models import MessageSubscription
    from engine.services import message_deliver

    _deploy(users, child(1), "child.bpmn")
    _deploy(users, parent(""), "parent.bpmn")
    _deploy(users, (FILES / "child_waits.bpmn").read_bytes(), "child.bpmn")
    spec_cache._cache.clear()
    case, _ = case_start(user=users["requester"], key="parent", data={})
    assert list(
        MessageSubscription.objects.filter(case=case).values_list("name", "bpmn_id")
    ) == [("payment_received", "wait_paid")]

    spec_cache._cache.clear()
    message_deliver(
        user=users["padmin"], name="payment_received", correlation={}, data={}
    )
    assert not MessageSubscription.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.data["ran"] == 4
    assert _open(case).bpmn_id == "decide"


def _form(key: str) -> bytes:
    return json.dumps(
        {
            "id": "child-review",
            "type": "default",
            "schemaVersion": 16,
            "components": [
                {"type": "checkbox", "id": "Field_ok", "key": key, "label": "OK"}
            ],
        }
    ).encode()


def _child_with_form(number: int) -> bytes:
    xml = child(number).decode()
    start = xml.index("<bpmn:extensionElements>")
    end = xml.index("</bpmn:extensionElements>") + len("</bpmn:extensionElements>")
    xml = xml[:start] + xml[end:]
    return xml.replace(
        'name="Review (v', 'camunda:formRef="child-review" name="Review (v'
    ).encode()


def test_a_task_of_the_called_version_shows_that_versions_camunda_form(users):
    """camunda:formRef in a called process: the form uploaded with the version
    the child runs, not with another version of the callee."""

    def deploy_child(number: int) -> None:
        version_upload(
            user=users["analyst"],
            bpmn=_child_with_form(number),
            filename="child.bpmn",
            form_files=[("child.form", _form(f"ok_v{number}"))],
        )

    deploy_child(1)
    _deploy(users, parent(""), "parent.bpmn")
    case_a, _ = case_start(user=users["requester"], key="parent", data={})
    deploy_child(2)
    spec_cache._cache.clear()
    case_b, _ = case_start(user=users["requester"], key="parent", data={})

    def keys(case: Case) -> list[str]:
        form = _open(case).form_js or {}
        return [c.get("key") for c in form.get("components", [])]

    assert (keys(case_a), keys(case_b)) == (["ok_v1"], ["ok_v2"])
    task = _open(case_b)
    task_complete(user=users["manager1"], task_id=task.pk, data={"ok_v2": True})
    assert _open(case_b).bpmn_id == "decide"


def test_a_child_started_when_calls_were_bound_at_deploy_finishes_on_that_version(
    users,
):
    """Upgrade path: a caller deployed when `latest` was bound at deploy has
    its callee in `dependencies` (dependencies_checksum set), and a child it
    started then is stored without a version reference. Such a child loads
    onto the bound version and finishes there; the next call resolves."""
    import hashlib

    bound = _deploy(users, child(1), "child.bpmn")
    caller = _deploy(users, parent(""), "parent.bpmn")
    case, _ = case_start(user=users["requester"], key="parent", data={})
    # As stored then: the caller bound to child v1, the child's state with no
    # reference to its version.
    type(caller).objects.filter(pk=caller.pk).update(
        dependencies_checksum=hashlib.sha256(
            bound.normalized_checksum.encode()
        ).hexdigest()
    )
    assert list(caller.dependencies.all()) == [bound]
    stored = json.loads(case.state.state_json)
    for sub in stored["subprocesses"].values():
        sub.pop("laneway_called")
    type(case.state).objects.filter(pk=case.pk).update(state_json=json.dumps(stored))
    _deploy(users, child(2), "child.bpmn")
    spec_cache._cache.clear()
    case = Case.objects.get(pk=case.pk)

    _review(users, case, 1)  # the bound version, to its end
    case.refresh_from_db()
    assert case.data["ran"] == 1
    _decide(users, case, again=True)
    _review(users, case, 2)  # a new call: the latest version now
    assert _calls(case) == ["review_child v1", "review_child v2"]
