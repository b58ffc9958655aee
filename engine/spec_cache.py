"""Parsed specs, cached per process version, and the versions call activities run.

A pure cache keyed by (normalized checksum, process key, dependencies checksum,
adapter version, SpiffWorkflow version): any process can rebuild an entry from
the stored XML, so nothing here is needed by another process.

A call activity that calls a process of another file runs the version
resolved when it starts (`called_resolve`, Camunda 7's
`calledElementBinding="latest"`: the latest deployed version; "version": that
number; "versionTag": the one version with that camunda:versionTag). The
child's state keeps a reference to it (`called_ref`), and `called_load` gives
the same version back whenever the case is loaded again, from the cache
without a query.

Versions deployed before this was so (their `dependencies_checksum` is set)
are parsed with the stored XML of the versions they were bound to at deploy,
so that a child started then loads onto the spec it started with; their new
calls resolve when they start, like any other's.
"""

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from engine.spiff import (
    ADAPTER_VERSION,
    SPIFF_VERSION,
    BpmnParseError,
    CalledProcess,
    CallNotResolved,
    CompiledProcess,
    StateCorrupt,
    compile_process,
)
from processes.errors import DefinitionNotFound, VersionNotFound
from processes.models import ProcessVersion
from processes.selectors import called_documents, version_get, version_tagged

_MAX_ENTRIES = 256
_Key = tuple[str, str, str, str, str]
_cache: OrderedDict[_Key, CompiledProcess] = OrderedDict()
_lock = threading.Lock()


def _key(checksum: str, process_key: str, dependencies: str) -> _Key:
    return (checksum, process_key, dependencies, ADAPTER_VERSION, SPIFF_VERSION)


def _cached(key: _Key) -> CompiledProcess | None:
    with _lock:
        compiled = _cache.get(key)
        if compiled is not None:
            _cache.move_to_end(key)
        return compiled


def spec_for(version: ProcessVersion) -> CompiledProcess:
    """Return the runnable spec of a version, parsing it at most once per process."""
    key = _key(
        version.normalized_checksum,
        version.definition.key,
        version.dependencies_checksum,
    )
    compiled = _cached(key)
    if compiled is not None:
        return compiled
    dmn = [(d["name"], d["xml"].encode()) for d in version.dmn_files]
    extra_bpmn: list[tuple[str, bytes]] = []
    extra_dmn: list[tuple[str, bytes]] = []
    if version.dependencies_checksum:  # deployed when calls were bound at deploy
        extra_bpmn, extra_dmn = called_documents(
            version.dependencies.select_related("definition")
        )
    normalized = bytes(version.normalized_xml)
    compiled = compile_process(
        normalized,
        key=version.definition.key,
        dmn_files=dmn,
        extra_bpmn=extra_bpmn,
        extra_dmn=extra_dmn,
        # the end listeners of a version stored before their lines were kept
        original=(
            bytes(version.original_xml) if b'endListener="true"' in normalized else None
        ),
    )
    with _lock:
        _cache[key] = compiled
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)
    return compiled


def called_ref(version: ProcessVersion) -> dict[str, Any]:
    """Return the reference a child's state keeps to the version it runs."""
    return {
        "key": version.definition.key,
        "version": version.number,
        "id": version.pk,
        "checksum": version.normalized_checksum,
        "dependencies": version.dependencies_checksum,
    }


def called_resolve(key: str, number: int | None, tag: str | None) -> CalledProcess:
    """Return the version a call activity starting now runs, and its reference.

    `number` and `tag` None: the latest deployed version of `key` (one query;
    the spec comes from the cache); else version `number`, or the one version
    whose camunda:versionTag is `tag`.

    Raises:
        CallNotResolved: with the reason (an incident on the call activity).
    """
    version = _tagged(key, tag) if tag is not None else _numbered(key, number)
    try:
        process = spec_for(version)
    except BpmnParseError as exc:
        reason = "; ".join(p.message for p in exc.problems)
        raise CallNotResolved(f"'{version}' cannot be read: {reason}") from None
    return CalledProcess(process, called_ref(version))


def _numbered(key: str, number: int | None) -> ProcessVersion:
    try:
        return version_get(key=key, number=number, documents=False)
    except DefinitionNotFound:
        raise CallNotResolved(f"no process '{key}' is deployed") from None
    except VersionNotFound:
        raise CallNotResolved(
            f"'{key}' has no deployed version"
            if number is None
            else f"'{key}' has no version {number}"
        ) from None


def _tagged(key: str, tag: str) -> ProcessVersion:
    """The one version of `key` tagged `tag`, as Camunda 7's
    findDeployedProcessDefinitionByKeyVersionTagAndTenantId: none or several
    fail the call."""
    found = version_tagged(key=key, tag=tag)
    if len(found) == 1:
        return found[0]
    if not found:
        raise CallNotResolved(
            f"no version of '{key}' has the version tag '{tag}' "
            "(camunda:versionTag); deploy one"
        )
    raise CallNotResolved(
        f"several versions of '{key}' (v{found[0].number}, v{found[1].number}) have "
        f"the version tag '{tag}', so it names none of them (Camunda 7 fails the "
        "call too); give each version its own tag"
    )


def called_load(ref: Mapping[str, Any]) -> CompiledProcess:
    """Return the spec of the version a stored child runs (`called_ref`).

    Raises:
        StateCorrupt: when that version is gone or is not the one stored.
    """
    try:
        key = _key(str(ref["checksum"]), str(ref["key"]), str(ref["dependencies"]))
        compiled = _cached(key)
        if compiled is not None:
            return compiled
        version = ProcessVersion.objects.select_related("definition").get(pk=ref["id"])
    except (KeyError, TypeError, ValueError, ProcessVersion.DoesNotExist):
        raise StateCorrupt(f"the called version {dict(ref)} is not deployed") from None
    if called_ref(version) != dict(ref):
        raise StateCorrupt(f"the called version {dict(ref)} is not the one stored")
    return spec_for(version)
