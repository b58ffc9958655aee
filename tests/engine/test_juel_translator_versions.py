"""A deployed version keeps the JUEL translation it was deployed with.

The translation happens at upload, into the version's normalized XML, which is
what runs (engine/spiff/juel.py, "Versions"): a newer TRANSLATOR_VERSION never
changes how a deployed version behaves; a changed file deployed as a new
version gets the new translation.
"""

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from engine.models import Incident
from engine.services import case_start
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.models import HumanTask

DIAGRAM = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"
DIAGRAM = DIAGRAM / "el_map_missing_key.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
# ${order.total > 100} as TRANSLATOR_VERSION 4 wrote it: a missing key fails.
V4 = "(order['total'] is not None and (order['total'] > 100))"
V5 = "_el_cmp_('>', _el_get_(order, 'total'), 100)"


def _upload(users, bpmn: bytes) -> ProcessVersion:
    deployed = version_upload(user=users["analyst"], bpmn=bpmn, filename=DIAGRAM.name)
    return deployed[0].version


def _as_deployed_by_translator_4(version: ProcessVersion) -> None:
    _as_translated(version, V5, V4)


def _as_translated(version: ProcessVersion, now: str, then: str) -> None:
    """Rewrite the version's condition from its translation `now` to `then`."""
    root = etree.fromstring(bytes(version.normalized_xml))
    condition = root.find(".//bpmn:conditionExpression", NS)
    assert condition.text == now
    condition.text = then
    xml = etree.tostring(root)
    ProcessVersion.objects.filter(pk=version.pk).update(
        normalized_xml=xml, normalized_checksum=hashlib.sha256(xml).hexdigest()
    )


def _open_tasks(case) -> list[str]:
    tasks = HumanTask.objects.filter(case=case, status="open")
    return sorted(tasks.values_list("bpmn_id", flat=True))


@pytest.mark.django_db
def test_a_version_deployed_before_translator_5_keeps_its_translation(users):
    version = _upload(users, DIAGRAM.read_bytes())
    _as_deployed_by_translator_4(version)
    key = version.definition.key

    old, _ = case_start(user=users["requester"], key=key, data={"order": {"id": 1}})
    incidents = Incident.objects.filter(case=old, status=Incident.Status.OPEN)
    assert [i.bpmn_id for i in incidents] == ["Gateway_1"]  # as v4 ran it
    assert _open_tasks(old) == []

    again = _upload(users, DIAGRAM.read_bytes())  # the identical file: that version
    assert again.pk == version.pk
    kept = etree.fromstring(bytes(again.normalized_xml))
    assert kept.find(".//bpmn:conditionExpression", NS).text == V4

    changed = DIAGRAM.read_bytes().replace(b"Big amount?", b"Big order?")
    new = _upload(users, changed)
    assert new.number == version.number + 1
    case, _ = case_start(user=users["requester"], key=key, data={"order": {"id": 1}})
    assert case.version_id == new.pk
    assert _open_tasks(case) == ["Task_Small"]  # EL 2.1 §1.6: the missing key is null


EQUALS = DIAGRAM.parent / "el_equals.bpmn"
# ${code.equals(expected)} as TRANSLATOR_VERSION 5 wrote it: Python's ==.
EQUALS_V5 = "(code == expected)"
EQUALS_V6 = "_el_call_('equals', code, expected)"


@pytest.mark.django_db
def test_a_version_deployed_before_translator_6_keeps_python_equals(users):
    deployed = version_upload(
        user=users["analyst"], bpmn=EQUALS.read_bytes(), filename=EQUALS.name
    )
    version = deployed[0].version
    _as_translated(version, EQUALS_V6, EQUALS_V5)
    key = version.definition.key
    data = {"code": 5.0, "expected": 5}

    old, _ = case_start(user=users["requester"], key=key, data=data)
    assert _open_tasks(old) == ["Task_Big"]  # as v5 ran it: 5.0 == 5

    changed = EQUALS.read_bytes().replace(b"Same code?", b"Same code now?")
    new = version_upload(user=users["analyst"], bpmn=changed, filename=EQUALS.name)
    assert new[0].version.number == version.number + 1
    case, _ = case_start(user=users["requester"], key=key, data=data)
    assert _open_tasks(case) == ["Task_Small"]  # Java: Double.equals(Long) is false
