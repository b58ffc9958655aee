"""camunda:versionTag is kept per version; binding "versionTag" calls by it.

Camunda 7 (BPMN 2.0 model reference, Call Activity, "calledElementBinding":
"versionTag: call the process definition with the given version tag",
camunda:calledElementVersionTag; ProcessDefinitionManager
findProcessDefinitionByKeyVersionTagAndTenantId): the call runs the one
version of the key whose camunda:versionTag is the tag; no such version, or
several ("There are 2 process definitions with key = ... and versionTag =
..."), fail the call. Here: an incident on the call activity (the upload is
refused when that is already so when it is deployed).

Through `processes.services.version_upload`, the versions API and page,
`engine.services` and `tasks_app.services.task_complete`, with the spec
cache emptied between steps.
"""

from pathlib import Path

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from engine import spec_cache
from engine.models import Case, Incident
from engine.services import case_start
from engine.services.incidents import incident_retry
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

LATEST = Path(__file__).parent / "call_latest"
TAGGED = ' camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag='


def _child(number: int, tag: str | None) -> bytes:
    xml = (LATEST / f"child_v{number}.bpmn").read_text()
    if tag is not None:
        xml = xml.replace(
            'name="Review" isExecutable="true"',
            f'name="Review" isExecutable="true" camunda:versionTag="{tag}"',
        )
    return xml.encode()


def _parent(tag: str) -> bytes:
    xml = (LATEST / "parent.bpmn").read_text()
    return xml.replace(
        'calledElement="review_child"', f'calledElement="review_child"{TAGGED}"{tag}"'
    ).encode()


def _deploy(users, data: bytes, filename: str = "child.bpmn"):
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename=filename)
    spec_cache._cache.clear()
    return deployed.version


def _calls(case: Case) -> list[str]:
    events = AuditEvent.objects.filter(action="call.started", case_id=case.pk)
    return [e.payload["called"] for e in events.order_by("at", "pk")]


def _open(case: Case) -> HumanTask:
    return HumanTask.objects.get(case=case, status="open")


def _step(users, case: Case, data: dict) -> str:
    task = _open(case)
    user = users["finance"] if task.candidate_groups == ["Finance"] else None
    task_complete(user=user or users["manager1"], task_id=task.pk, data=data)
    spec_cache._cache.clear()
    return task.name


def test_the_version_tag_is_kept_and_shown_per_version(users, client):
    _deploy(users, _child(1, "1.0"))
    _deploy(users, _child(2, None))
    client.force_login(users["analyst"])
    listed = client.get("/api/v1/processes/review_child/versions/").json()
    assert [(v["version"], v["version_tag"]) for v in listed["results"]] == [
        (2, ""),
        (1, "1.0"),
    ]
    page = client.get(reverse("version-detail", args=["review_child", 1]))
    assert 'data-testid="version-tag">1.0<' in page.content.decode()


def test_a_call_runs_the_version_with_the_tag_whatever_is_deployed_later(users):
    _deploy(users, _child(1, "1.0"))
    _deploy(users, _child(2, "2.0"))
    _deploy(users, _parent("1.0"), "parent.bpmn")
    _deploy(users, _child(3, None))  # the latest, untagged
    case, _ = case_start(user=users["requester"], key="parent", data={})
    assert _calls(case) == ["review_child v1"]
    assert _step(users, case, {"checked_v1": True}) == "Review (v1)"
    _step(users, case, {"again": True})
    assert _calls(case) == ["review_child v1", "review_child v1"]


def test_two_versions_with_the_tag_fail_the_call_until_one_is_left(users):
    """Camunda 7 fails the call when several versions have the tag: an
    incident; once a version with the tag is the only one (retired versions
    count too, as in Camunda 7's query), the retry runs it."""
    from processes.models import ProcessVersion

    _deploy(users, _child(1, "1.0"))
    _deploy(users, _parent("1.0"), "parent.bpmn")
    _deploy(users, _child(2, "1.0"))  # a second version with the same tag
    case, _ = case_start(user=users["requester"], key="parent", data={})
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "call_child"
    assert (
        "several versions of 'review_child' (v1, v2) have the version tag '1.0'"
        in incident.message
    )
    assert _calls(case) == []

    # The analyst re-tags: v2 cannot change (versions are immutable), so the
    # only way is that no second version carries it; here v1's is the one kept.
    ProcessVersion.objects.filter(definition__key="review_child", number=2).update(
        version_tag="1.0-bad"
    )
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    assert _calls(case) == ["review_child v1"]


def test_a_tag_no_version_has_any_more_is_an_incident(users):
    from processes.models import ProcessVersion

    _deploy(users, _child(1, "1.0"))
    _deploy(users, _parent("1.0"), "parent.bpmn")
    ProcessVersion.objects.filter(definition__key="review_child").update(version_tag="")
    case, _ = case_start(user=users["requester"], key="parent", data={})
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert "no version of 'review_child' has the version tag '1.0'" in (
        incident.message
    )


@pytest.mark.parametrize(
    ("children", "says"),
    [
        ([(1, None)], "no deployed version has that camunda:versionTag"),
        ([(1, "1.0"), (2, "1.0")], "several versions have that camunda:versionTag"),
    ],
    ids=["none", "several"],
)
def test_an_upload_whose_tag_names_no_one_version_is_refused(users, children, says):
    for number, tag in children:
        _deploy(users, _child(number, tag))
    with pytest.raises(BpmnInvalid) as caught:
        version_upload(user=users["analyst"], bpmn=_parent("1.0"), filename="p.bpmn")
    [problem] = caught.value.details["errors"]
    assert (problem["element_id"], problem["line"]) == ("call_child", 11)
    assert says in problem["message"]


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        (' camunda:calledElementBinding="versionTag"', "give the version tag"),
        (TAGGED + '"${tag}"', "as a fixed text"),
    ],
    ids=["no-tag", "expression"],
)
def test_a_version_tag_binding_without_a_fixed_tag_is_refused(users, attributes, says):
    _deploy(users, _child(1, "1.0"))
    xml = (LATEST / "parent.bpmn").read_text()
    bpmn = xml.replace(
        'calledElement="review_child"', f'calledElement="review_child"{attributes}'
    ).encode()
    with pytest.raises(BpmnInvalid) as caught:
        version_upload(user=users["analyst"], bpmn=bpmn, filename="p.bpmn")
    messages = [p["message"] for p in caught.value.details["errors"]]
    assert any(says in m for m in messages), messages


def test_a_case_data_step_of_a_tagged_child_survives_reload(users):
    """The child started by tag is stored with its version reference: a later
    command loads it onto that version even after another is tagged."""
    _deploy(users, _child(1, "1.0"))
    _deploy(users, _parent("1.0"), "parent.bpmn")
    case, _ = case_start(user=users["requester"], key="parent", data={})
    _deploy(users, _child(2, "2.0"))
    case = Case.objects.get(pk=case.pk)
    assert _step(users, case, {"checked_v1": True}) == "Review (v1)"
    case.refresh_from_db()
    assert case.data["ran"] == 1


def test_two_calls_of_one_key_with_two_tags_are_refused(users):
    """One file binds one version of each process it calls (the upload checks
    the file against it): two tags of one key are refused, as two bindings."""
    _deploy(users, _child(1, "1.0"))
    _deploy(users, _child(2, "2.0"))
    xml = _parent("1.0").decode()
    xml = xml.replace(
        '<bpmn:sequenceFlow id="p_f2" sourceRef="call_child" targetRef="decide" />',
        '<bpmn:sequenceFlow id="p_f2" sourceRef="call_child" targetRef="call_two" />'
        f'<bpmn:callActivity id="call_two" calledElement="review_child"{TAGGED}"2.0" />'
        '<bpmn:sequenceFlow id="p_f2b" sourceRef="call_two" targetRef="decide" />',
    )
    with pytest.raises(BpmnInvalid) as caught:
        version_upload(user=users["analyst"], bpmn=xml.encode(), filename="p.bpmn")
    messages = [p["message"] for p in caught.value.details["errors"]]
    assert any(
        "binds its version tag '2.0': one file binds one version" in m for m in messages
    ), messages
