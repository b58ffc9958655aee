"""Upload, validate and deploy BPMN diagrams as numbered, immutable versions.

Call activities across files: a `calledElement` that is not a process of the
uploaded file runs, in a case, the version resolved when the call activity
starts (Camunda's default binding, "latest": the latest deployed version;
"version": that number; engine.spec_cache). At upload the file is checked
against the versions its calls would run now (the callee must be deployed);
its direct callees are recorded in `ProcessVersion.dependencies`, for the
record only. The upload checksum does not cover them: an unchanged file is the
same version (200) whatever has been deployed of its callees since.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from audit.actions import AuditAction
from audit.services import audit_record
from engine.spiff import (
    BpmnParseError,
    CompiledBundle,
    CompiledProcess,
    Problem,
    bundle_compile,
    call_site,
    called_elements,
    called_version_tags,
    called_versions,
)

from .columns import columns_problem, diagram_columns
from .errors import BpmnInvalid, DeployNotAllowed
from .models import DEFAULT_CANDIDATE_GROUP, ProcessDefinition, ProcessVersion
from .permissions import can_deploy
from .selectors import (
    called_documents,
    version_latest_deployed,
    version_numbered,
    version_tagged,
)


@dataclass(frozen=True, slots=True)
class DeployedVersion:
    version: ProcessVersion
    created: bool


@dataclass(frozen=True, slots=True)
class _Upload:
    bundle: CompiledBundle
    called: tuple[ProcessVersion, ...]


def _checksum(
    bpmn: bytes,
    dmn_files: Sequence[tuple[str, bytes]],
    default_group: str = "",
    columns: Sequence[str] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> str:
    """Digest an upload: BPMN, DMN and form files, default group, columns.

    The versions of the processes it calls are not in it: a call resolves its
    version when it starts. Without default group, columns and forms this is
    the digest of the file and its DMN files alone.
    """
    digest = hashlib.sha256(bpmn)
    if default_group:
        digest.update(b"\0default_group\0" + default_group.encode())
    if columns:
        digest.update(b"\0columns\0" + ",".join(columns).encode())
    for name, data in sorted(dmn_files):
        digest.update(b"\0" + name.encode() + b"\0" + data)
    for name, data in sorted(form_files):
        digest.update(b"\0form\0" + name.encode() + b"\0" + data)
    return digest.hexdigest()


def _called_versions(bpmn: bytes) -> tuple[list[ProcessVersion], list[Problem]]:
    """Return the deployed versions the file's calls of other files would run now.

    Each process called outside the file resolves as a call starting now does
    (engine.spec_cache.called_resolve): its latest deployed version, or the
    number of a calledElementBinding="version" call, or the one version with
    the tag of a "versionTag" call; then, the same way, the processes those
    call, once per process. The file is checked against them
    (the called process is deployed and starts at a none start event; no call
    cycle across files; no human task id in two of them), and the direct ones
    are recorded in `ProcessVersion.dependencies`; its cases resolve each call
    again when it starts.

    Returns those versions, the file's own callees first, and a problem for
    each pinned version that is not deployed (or tag that not one version
    has). A called process that is not deployed is left to the call-activity
    check, which reports it located.
    """
    found: dict[str, ProcessVersion] = {}
    missing: list[Problem] = []
    pending = [(bpmn, True)]
    while pending:
        xml, own = pending.pop(0)
        keys = called_elements(xml)
        pins: dict[str, dict[str, Any]] = {}
        if keys:  # read only when it is needed
            pins = {"version": called_versions(xml), "tag": called_version_tags(xml)}
        for key in keys:
            if key in found:
                continue
            version, problem = _bound_version(key, pins)
            if problem is not None and own:
                missing.append(Problem(problem, *call_site(xml, key)))
            if version is None:
                continue
            found[key] = version
            pending.append((bytes(version.normalized_xml), False))
    return list(found.values()), missing


def _bound_version(
    key: str, pins: dict[str, dict[str, Any]]
) -> tuple[ProcessVersion | None, str | None]:
    """The version of `key` a call starting now runs, as `called_resolve` finds
    it; a problem when the number or tag the file binds names none."""
    if key in pins.get("version", {}):
        number = pins["version"][key]
        version = version_numbered(key=key, number=number)
        if version is not None:
            return version, None
        return None, (
            f"A call activity binds version {number} of '{key}' "
            "(calledElementVersion), which is not deployed."
        )
    if key in pins.get("tag", {}):
        tag = pins["tag"][key]
        tagged = version_tagged(key=key, tag=tag)
        if len(tagged) == 1:
            return tagged[0], None
        how = "no deployed version has" if not tagged else "several versions have"
        return None, (
            f"A call activity binds the version of '{key}' whose version tag is "
            f"'{tag}' (calledElementVersionTag), but {how} that camunda:versionTag "
            "(Camunda 7 fails such a call); deploy one version with that tag."
        )
    return version_latest_deployed(key=key), None


def _direct(bpmn: bytes, versions: Sequence[ProcessVersion]) -> list[ProcessVersion]:
    keys = set(called_elements(bpmn))
    return sorted((v for v in versions if v.definition.key in keys), key=lambda v: v.pk)


def _invalid(problems: Sequence[Problem], filename: str) -> BpmnInvalid:
    count = len(problems)
    return BpmnInvalid(
        f"{filename} cannot be deployed: "
        f"{count} problem{'s' if count != 1 else ''} found.",
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


def deploy_check(user: Any) -> None:
    """Refuse a user who may not upload and deploy (pages check before showing a form).

    Raises:
        DeployNotAllowed: when the user is not an analyst (or a superuser).
    """
    if not can_deploy(user):
        raise DeployNotAllowed("Only analysts may upload and deploy processes.")


def upload_read(*, user: Any, upload: Any, bpmn_name: str) -> bytes:
    """Read an uploaded file, refusing one over the size limit before reading it.

    Raises:
        DeployNotAllowed: when the user may not deploy (checked first).
        BpmnInvalid: when the file is larger than PROCESSES_UPLOAD_MAX_BYTES.
    """
    deploy_check(user)
    _check_size(upload.name, upload.size, bpmn_name)
    return upload.read()


def _bundle_compile(
    *,
    bpmn: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]],
    form_files: Sequence[tuple[str, bytes]] = (),
) -> _Upload:
    for name, data in [(filename, bpmn), *dmn_files, *form_files]:
        _check_size(name, len(data), filename)
    called, missing = _called_versions(bpmn)
    if missing:
        raise _invalid(missing, filename)
    extra_bpmn, extra_dmn = called_documents(called)
    try:
        bundle = bundle_compile(
            bpmn,
            filename=filename,
            dmn_files=dmn_files,
            known_operations=known_operations(),
            extra_bpmn=extra_bpmn,
            extra_dmn=extra_dmn,
            form_files=form_files,
        )
    except BpmnParseError as exc:
        raise _invalid(exc.problems, filename) from None
    return _Upload(bundle, tuple(_direct(bpmn, called)))


def bundle_validate(
    *,
    bpmn: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> list[CompiledProcess]:
    """Check a diagram without storing anything and return its executable processes.

    Called processes outside the file are checked as `version_upload` checks them.

    Raises:
        BpmnInvalid: with every problem, located by line and element id.
    """
    upload = _bundle_compile(
        bpmn=bpmn, filename=filename, dmn_files=dmn_files, form_files=form_files
    )
    return list(upload.bundle.processes)


def _ensure_lane_groups(process: CompiledProcess, *, user: Any, default: str) -> None:
    names = {*process.meta.lanes, default}
    for task in process.task_meta.values():
        names.update(task.candidate_groups)
    for name in sorted(n for n in names if n and not n.startswith(("$", "#"))):
        group, created = Group.objects.get_or_create(name=name)
        if created:
            audit_record(
                actor=user,
                action=AuditAction.GROUP_CREATED,
                process_key=process.key,
                payload={
                    "group": name,
                    "reason": "lane, candidate or default group of a deployed process",
                },
            )


def _empty_group_warnings(process: CompiledProcess, *, default: str) -> list[Problem]:
    """Warn of each lane, candidate group or the default group that has no members."""
    named = {name.strip(): "lane" for name in process.meta.lanes}
    for task in process.task_meta.values():
        for name in task.candidate_groups:
            named.setdefault(name.strip(), "candidate group")
    named.setdefault(default, "default candidate group")
    names = {n for n in named if n and not n.startswith(("$", "#"))}
    staffed = set(
        Group.objects.filter(name__in=names, user__isnull=False).values_list(
            "name", flat=True
        )
    )
    return [
        Problem(
            f"The {named[name]} '{name}' of process '{process.key}' names a group "
            "with no members: its tasks wait until someone is added to it."
        )
        for name in sorted(names - staffed)
    ]


def _deploy_one(
    process: CompiledProcess,
    *,
    user: Any,
    bpmn: bytes,
    normalized: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]],
    form_files: Sequence[tuple[str, bytes]],
    checksum: str,
    called: Sequence[ProcessVersion],
    default_group: str,
    warnings: Sequence[Problem],
    columns: Sequence[str] = (),
) -> DeployedVersion:
    definition, _ = ProcessDefinition.objects.select_for_update().get_or_create(
        key=process.key, defaults={"name": process.meta.name}
    )
    latest = (  # its XML (read back only if it is returned, unchanged) stays unread
        definition.versions.order_by("-number")
        .defer("original_xml", "normalized_xml", "dmn_files")
        .first()
    )
    if latest is not None and latest.checksum == checksum:
        return DeployedVersion(latest, created=False)
    default = default_group or DEFAULT_CANDIDATE_GROUP
    _ensure_lane_groups(process, user=user, default=default)
    found = [*warnings, *_empty_group_warnings(process, default=default)]
    version = ProcessVersion.objects.create(
        definition=definition,
        number=(latest.number + 1) if latest else 1,
        name=process.meta.name,
        filename=filename,
        original_xml=bpmn,
        normalized_xml=normalized,
        dmn_files=[{"name": n, "xml": d.decode()} for n, d in dmn_files],
        form_files=[{"name": n, "json": d.decode()} for n, d in form_files],
        checksum=checksum,
        normalized_checksum=_checksum(normalized, dmn_files),
        default_group=default_group,
        warnings=[p.as_dict() for p in found],
        columns=list(columns) or diagram_columns(bpmn, key=process.key),
        version_tag=process.meta.version_tag,
        startable_in_tasklist=process.meta.startable_in_tasklist,
        uploaded_by=user,
    )
    if called:  # a new version has none yet: nothing to read or delete
        version.dependencies.set(called)
    if definition.name != process.meta.name:
        ProcessDefinition.objects.filter(pk=definition.pk).update(
            name=process.meta.name
        )
    audit_record(
        actor=user,
        action=AuditAction.PROCESS_DEPLOYED,
        process_key=process.key,
        version_id=version.pk,
        payload={
            "key": process.key,
            "version": version.number,
            "file": filename,
            "checksum": checksum,
            # the versions its calls would run at deploy (each resolves again
            # when it starts)
            "calls": [f"{v.definition.key} v{v.number}" for v in called],
            "default_group": default,
            "warnings": len(found),
        },
    )
    return DeployedVersion(version, created=True)


def version_upload(
    *,
    user: Any,
    bpmn: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    default_group: str = "",
    columns: Sequence[str] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> list[DeployedVersion]:
    """Validate and deploy every executable process in a diagram.

    `form_files` are the Camunda Forms (.form) its user tasks and start event name; each
    version keeps those it was deployed with (a formRef binds, whatever its
    binding, to the form uploaded with the diagram).

    A user task with no candidates, or whose candidates resolve to nobody at
    run time, is offered to `default_group` (process-admins when empty); each
    version records its warnings (such tasks, lanes and groups with no members).

    An identical re-upload returns the existing version (created=False),
    whatever has been deployed of the processes it calls since: a call of a
    process of another file resolves its version when it starts (see the
    module docstring).

    Raises:
        DeployNotAllowed: when the user may not deploy.
        BpmnInvalid: when anything is wrong; nothing is stored then.
    """
    deploy_check(user)
    if problem := columns_problem(columns):
        raise BpmnInvalid(
            f"columns: {problem}",
            details={"errors": [], "fields": {"columns": [problem]}},
        )
    upload = _bundle_compile(
        bpmn=bpmn, filename=filename, dmn_files=dmn_files, form_files=form_files
    )
    default_group = default_group.strip()
    checksum = _checksum(bpmn, dmn_files, default_group, columns, form_files)
    with transaction.atomic():
        return [
            _deploy_one(
                p,
                user=user,
                bpmn=bpmn,
                normalized=upload.bundle.normalized_xml,
                filename=filename,
                dmn_files=dmn_files,
                form_files=form_files,
                checksum=checksum,
                called=upload.called,
                default_group=default_group,
                warnings=_own_warnings(upload.bundle.warnings, p),
                columns=columns,
            )
            for p in upload.bundle.processes
        ]


def _own_warnings(
    warnings: Sequence[Problem], process: CompiledProcess
) -> list[Problem]:
    ids = {*process.task_meta, *(i for i, _ in process.meta.element_names)}
    return [w for w in warnings if w.element_id in ids]


def version_upload_files(
    *,
    user: Any,
    upload: Any,
    dmn_uploads: Sequence[Any] = (),
    default_group: str = "",
    columns: Sequence[str] = (),
    form_uploads: Sequence[Any] = (),
) -> list[DeployedVersion]:
    """Read uploaded files and deploy them as `version_upload` does.

    `upload`, `dmn_uploads` and `form_uploads` are Django `File`s (an upload on
    the page or the API, a file opened by `deploy_process`); each is size-checked
    before it is
    read, so the page, the API and the command refuse the same files alike.

    Raises:
        DeployNotAllowed: when the user may not deploy (checked before reading).
        BpmnInvalid: when a file is too large or anything in the diagram is wrong.
    """
    bpmn = upload_read(user=user, upload=upload, bpmn_name=upload.name)
    dmn_files = [
        (f.name, upload_read(user=user, upload=f, bpmn_name=upload.name))
        for f in dmn_uploads
    ]
    form_files = [
        (f.name, upload_read(user=user, upload=f, bpmn_name=upload.name))
        for f in form_uploads
    ]
    return version_upload(
        user=user,
        bpmn=bpmn,
        filename=upload.name,
        dmn_files=dmn_files,
        default_group=default_group,
        columns=columns,
        form_files=form_files,
    )
