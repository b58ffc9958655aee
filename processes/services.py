"""Upload, validate and deploy BPMN diagrams as numbered, immutable versions."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from engine.spiff import (
    BpmnParseError,
    CompiledBundle,
    CompiledProcess,
    Problem,
    bundle_compile,
)

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


def known_operations() -> frozenset[str]:
    """Return the names of the registered service-task operations.

    `ENGINE_SERVICE_OPERATIONS` maps each operation name a diagram may use to
    the dotted path of the Python callable a worker runs for it; a list of
    dotted paths registers each path under its own name.
    """
    registry = getattr(settings, "ENGINE_SERVICE_OPERATIONS", {})
    return frozenset(str(name) for name in registry)  # a mapping iterates its names


def _check_size(name: str, size: int, filename: str) -> None:
    limit = settings.PROCESSES_UPLOAD_MAX_BYTES
    if size > limit:
        raise _invalid(
            [
                Problem(
                    f"{name} is {size // 1024} KiB, larger than the "
                    f"{limit // 1024} KiB upload limit."
                )
            ],
            filename,
        )


def upload_read(*, user: Any, upload: Any, bpmn_name: str) -> bytes:
    """Read an uploaded file, refusing one over the size limit before reading it.

    Raises:
        DeployNotAllowed: when the user may not deploy (checked first).
        BpmnInvalid: when the file is larger than PROCESSES_UPLOAD_MAX_BYTES.
    """
    if not can_deploy(user):
        raise DeployNotAllowed("Only analysts may upload and deploy processes.")
    _check_size(upload.name, upload.size, bpmn_name)
    return upload.read()


def _bundle_compile(
    *, bpmn: bytes, filename: str, dmn_files: Sequence[tuple[str, bytes]]
) -> CompiledBundle:
    for name, data in [(filename, bpmn), *dmn_files]:
        _check_size(name, len(data), filename)
    try:
        return bundle_compile(
            bpmn,
            filename=filename,
            dmn_files=dmn_files,
            known_operations=known_operations(),
        )
    except BpmnParseError as exc:
        raise _invalid(exc.problems, filename) from None


def bundle_validate(
    *, bpmn: bytes, filename: str, dmn_files: Sequence[tuple[str, bytes]] = ()
) -> list[CompiledProcess]:
    """Check a diagram without storing anything and return its executable processes.

    Raises:
        BpmnInvalid: with every problem, located by line and element id.
    """
    return list(
        _bundle_compile(bpmn=bpmn, filename=filename, dmn_files=dmn_files).processes
    )


def _ensure_lane_groups(process: CompiledProcess, *, user) -> None:
    names = set(process.meta.lanes)
    for task in process.task_meta.values():
        names.update(task.candidate_groups)
    for name in sorted(n for n in names if n and not n.startswith(("$", "#"))):
        group, created = Group.objects.get_or_create(name=name)
        if created:
            audit_record(
                actor=user,
                action="group.created",
                process_key=process.key,
                payload={
                    "group": name,
                    "reason": "lane or candidate group of a deployed process",
                },
            )


def _deploy_one(
    process: CompiledProcess,
    *,
    user,
    bpmn: bytes,
    normalized: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]],
    checksum: str,
) -> DeployedVersion:
    definition, _ = ProcessDefinition.objects.select_for_update().get_or_create(
        key=process.key, defaults={"name": process.meta.name}
    )
    latest = definition.versions.order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return DeployedVersion(latest, created=False)
    version = ProcessVersion.objects.create(
        definition=definition,
        number=(latest.number + 1) if latest else 1,
        name=process.meta.name,
        filename=filename,
        original_xml=bpmn,
        normalized_xml=normalized,
        dmn_files=[{"name": n, "xml": d.decode()} for n, d in dmn_files],
        checksum=checksum,
        normalized_checksum=_checksum(normalized, dmn_files),
        uploaded_by=user,
    )
    if definition.name != process.meta.name:
        ProcessDefinition.objects.filter(pk=definition.pk).update(
            name=process.meta.name
        )
    _ensure_lane_groups(process, user=user)
    audit_record(
        actor=user,
        action="process.deployed",
        process_key=process.key,
        version_id=version.pk,
        payload={
            "key": process.key,
            "version": version.number,
            "file": filename,
            "checksum": checksum,
        },
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
    bundle = _bundle_compile(bpmn=bpmn, filename=filename, dmn_files=dmn_files)
    checksum = _checksum(bpmn, dmn_files)
    with transaction.atomic():
        return [
            _deploy_one(
                p,
                user=user,
                bpmn=bpmn,
                normalized=bundle.normalized_xml,
                filename=filename,
                dmn_files=dmn_files,
                checksum=checksum,
            )
            for p in bundle.processes
        ]
