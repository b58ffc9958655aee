"""Upload, validate and deploy BPMN diagrams as numbered, immutable versions.

Call activities across files: a `calledElement` that is not a process of the
uploaded file binds to the **latest deployed version** of that definition at
deploy time (Camunda's default binding, "latest", evaluated once, at deploy).
The new version records the bound versions, and theirs, recursively, in
`ProcessVersion.dependencies`; its cases always run exactly those, whatever is
deployed later. Re-deploy the caller to bind a newer callee: the upload
checksum covers the bound versions, so an unchanged file whose callee has a
new latest version becomes a new version (201), while an unchanged file bound
to the same callee versions returns the existing one (200).
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
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
    called_elements,
    called_versions,
)

from .columns import columns_problem, diagram_columns
from .errors import BpmnInvalid, DeployNotAllowed
from .models import DEFAULT_CANDIDATE_GROUP, ProcessDefinition, ProcessVersion
from .permissions import can_deploy
from .selectors import called_documents, version_latest_deployed, version_numbered


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
    called: Iterable[ProcessVersion] = (),
    default_group: str = "",
    columns: Sequence[str] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> str:
    """Digest an upload: BPMN, DMN and form files, bound versions, default group.

    Without called versions and default group this is the digest of the file
    and its DMN files alone, as before those were supported.
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
    for version in sorted(called, key=lambda v: (v.definition.key, v.number)):
        binding = f"{version.definition.key}\0{version.number}\0{version.checksum}"
        digest.update(b"\0called\0" + binding.encode())
    return digest.hexdigest()


def _dependencies_checksum(called: Iterable[ProcessVersion]) -> str:
    checksums = sorted(v.normalized_checksum for v in called)
    if not checksums:
        return ""
    return hashlib.sha256("\0".join(checksums).encode()).hexdigest()


def _called_versions(bpmn: bytes) -> tuple[list[ProcessVersion], list[Problem]]:
    """Bind each process called outside the file to its latest deployed version.

    A call with calledElementBinding="version" binds calledElementVersion instead.

    Returns those versions and, from their own `dependencies`, the versions they
    are bound to (so no recursion is needed here), and a problem for every
    definition that would be needed in two versions. A called process that is
    not deployed is left to the call-activity check, which reports it located.
    """
    closure: dict[int, ProcessVersion] = {}
    needed_by: dict[int, set[str]] = defaultdict(set)
    keys = called_elements(bpmn)
    pinned = called_versions(bpmn) if keys else {}  # read only when it is needed
    missing = []
    for key in keys:
        if key in pinned:
            version = version_numbered(key=key, number=pinned[key])
            if version is None:
                missing.append(
                    Problem(
                        f"A call activity binds version {pinned[key]} of '{key}' "
                        "(calledElementVersion), which is not deployed."
                    )
                )
                continue
        else:
            version = version_latest_deployed(key=key)
        if version is None:
            continue
        closure[version.pk] = version
        needed_by[version.pk].add("this file")
        for dep in version.dependencies.select_related("definition"):
            closure[dep.pk] = dep
            needed_by[dep.pk].add(f"{key} v{version.number}")
    by_key: dict[str, list[ProcessVersion]] = defaultdict(list)
    for version in closure.values():
        by_key[version.definition.key].append(version)
    problems = [
        Problem(
            f"The called processes need '{key}' in several versions ("
            + "; ".join(
                f"v{v.number} for {', '.join(sorted(needed_by[v.pk]))}"
                for v in sorted(versions, key=lambda v: v.number)
            )
            + f"): re-deploy the processes that call '{key}' so that they bind its "
            "latest version."
        )
        for key, versions in sorted(by_key.items())
        if len(versions) > 1
    ]
    return sorted(closure.values(), key=lambda v: v.pk), [*missing, *problems]


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
    called, conflicts = _called_versions(bpmn)
    if conflicts:
        raise _invalid(conflicts, filename)
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
    return _Upload(bundle, tuple(called))


def bundle_validate(
    *,
    bpmn: bytes,
    filename: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> list[CompiledProcess]:
    """Check a diagram without storing anything and return its executable processes.

    Called processes outside the file resolve as `version_upload` binds them.

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
        dependencies_checksum=_dependencies_checksum(called),
        default_group=default_group,
        warnings=[p.as_dict() for p in found],
        columns=list(columns) or diagram_columns(bpmn, key=process.key),
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

    An identical re-upload returns the existing version (created=False), as
    long as it binds the same called versions: processes called outside the
    file bind to their latest deployed version (see the module docstring), and
    the checksum covers them, so a callee deployed since makes it a new version.

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
    checksum = _checksum(
        bpmn, dmn_files, upload.called, default_group, columns, form_files
    )
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
