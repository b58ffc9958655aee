"""Upload, validate and deploy BPMN diagrams as numbered, immutable versions."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from engine.spiff import BpmnParseError, CompiledProcess, Problem, compile_bundle

from .errors import BpmnInvalid, DeployNotAllowed
from .models import ProcessDefinition, ProcessVersion
from .permissions import can_deploy


@dataclass(frozen=True, slots=True)
class DeployedVersion:
    version: ProcessVersion
    created: bool


def _checksum(bpmn: bytes, dmn_files: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(bpmn)
    for name, data in sorted(dmn_files):
        digest.update(b"\0" + name.encode() + b"\0" + data)
    return digest.hexdigest()


def _invalid(problems: Sequence[Problem], filename: str) -> BpmnInvalid:
    count = len(problems)
    return BpmnInvalid(
        f"{filename} cannot be deployed: {count} problem{'s' if count != 1 else ''} found.",
        details={"file": filename, "errors": [p.as_dict() for p in problems]},
    )


def bundle_validate(
    *, bpmn: bytes, filename: str, dmn_files: Sequence[tuple[str, bytes]] = ()
) -> list[CompiledProcess]:
    """Check a diagram without storing anything and return its executable processes.

    Raises:
        BpmnInvalid: with every problem, located by line and element id.
    """
    limit = settings.PROCESSES_UPLOAD_MAX_BYTES
    sizes = [len(bpmn), *(len(data) for _, data in dmn_files)]
    if max(sizes) > limit:
        raise _invalid([Problem(f"The file is larger than the {limit // 1024} KiB limit.")], filename)
    try:
        return compile_bundle(bpmn, filename=filename, dmn_files=dmn_files)
    except BpmnParseError as exc:
        raise _invalid(exc.problems, filename) from None


def _ensure_lane_groups(process: CompiledProcess, *, user) -> None:
    names = set(process.meta.lanes)
    for task in process.task_meta.values():
        names.update(task.candidate_groups)
    for name in sorted(n for n in names if n and not n.startswith(("$", "#"))):
        group, created = Group.objects.get_or_create(name=name)
        if created:
            audit_record(
                actor=user, action="group.created", process_key=process.key,
                payload={"group": name, "reason": "lane or candidate group of a deployed process"},
            )


def _deploy_one(
    process: CompiledProcess, *, user, bpmn: bytes, filename: str,
    dmn_files: Sequence[tuple[str, bytes]], checksum: str,
) -> DeployedVersion:
    definition, _ = ProcessDefinition.objects.select_for_update().get_or_create(
        key=process.key, defaults={"name": process.meta.name}
    )
    latest = definition.versions.order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return DeployedVersion(latest, created=False)
    version = ProcessVersion.objects.create(
        definition=definition, number=(latest.number + 1) if latest else 1,
        name=process.meta.name, filename=filename, original_xml=bpmn, normalized_xml=bpmn,
        dmn_files=[{"name": n, "xml": d.decode()} for n, d in dmn_files],
        checksum=checksum, normalized_checksum=hashlib.sha256(bpmn).hexdigest(),
        uploaded_by=user,
    )
    if definition.name != process.meta.name:
        ProcessDefinition.objects.filter(pk=definition.pk).update(name=process.meta.name)
    _ensure_lane_groups(process, user=user)
    audit_record(
        actor=user, action="process.deployed", process_key=process.key, version_id=version.pk,
        payload={"key": process.key, "version": version.number, "file": filename,
                 "checksum": checksum},
    )
    return DeployedVersion(version, created=True)


def version_upload(
    *, user, bpmn: bytes, filename: str, dmn_files: Sequence[tuple[str, bytes]] = ()
) -> list[DeployedVersion]:
    """Validate and deploy every executable process in a diagram.

    An identical re-upload returns the existing version (created=False).

    Raises:
        DeployNotAllowed: when the user may not deploy.
        BpmnInvalid: when anything is wrong; nothing is stored then.
    """
    if not can_deploy(user):
        raise DeployNotAllowed("Only analysts may upload and deploy processes.")
    compiled = bundle_validate(bpmn=bpmn, filename=filename, dmn_files=dmn_files)
    checksum = _checksum(bpmn, dmn_files)
    with transaction.atomic():
        return [
            _deploy_one(p, user=user, bpmn=bpmn, filename=filename, dmn_files=dmn_files,
                        checksum=checksum)
            for p in compiled
        ]
