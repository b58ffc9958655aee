"""Parsed specs, cached per process version.

A pure cache keyed by (normalized checksum, process key, dependencies checksum,
adapter version, SpiffWorkflow version): any process can rebuild an entry from
the stored XML, so nothing here is needed by another process. A version whose
call activities call processes of other files is parsed with the stored XML of
exactly the versions it was bound to at deploy (`ProcessVersion.dependencies`),
so its `dependencies_checksum` is part of the key.
"""

import threading
from collections import OrderedDict

from engine.spiff import (
    ADAPTER_VERSION,
    SPIFF_VERSION,
    CompiledProcess,
    compile_process,
)
from processes.models import ProcessVersion
from processes.selectors import called_documents

_MAX_ENTRIES = 256
_cache: OrderedDict[tuple[str, str, str, str, str], CompiledProcess] = OrderedDict()
_lock = threading.Lock()


def spec_for(version: ProcessVersion) -> CompiledProcess:
    """Return the runnable spec of a version, parsing it at most once per process."""
    key = (
        version.normalized_checksum,
        version.definition.key,
        version.dependencies_checksum,
        ADAPTER_VERSION,
        SPIFF_VERSION,
    )
    with _lock:
        compiled = _cache.get(key)
        if compiled is not None:
            _cache.move_to_end(key)
            return compiled
    dmn = [(d["name"], d["xml"].encode()) for d in version.dmn_files]
    extra_bpmn: list[tuple[str, bytes]] = []
    extra_dmn: list[tuple[str, bytes]] = []
    if version.dependencies_checksum:
        extra_bpmn, extra_dmn = called_documents(
            version.dependencies.select_related("definition")
        )
    compiled = compile_process(
        bytes(version.normalized_xml),
        key=version.definition.key,
        dmn_files=dmn,
        extra_bpmn=extra_bpmn,
        extra_dmn=extra_dmn,
    )
    with _lock:
        _cache[key] = compiled
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)
    return compiled
