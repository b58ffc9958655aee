"""Parsed specs, cached per process version.

A pure cache keyed by (normalized checksum, adapter version, SpiffWorkflow
version): any process can rebuild an entry from the stored XML, so nothing here
is needed by another process.
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

_MAX_ENTRIES = 256
_cache: OrderedDict[tuple[str, str, str, str], CompiledProcess] = OrderedDict()
_lock = threading.Lock()


def spec_for(version: ProcessVersion) -> CompiledProcess:
    """Return the runnable spec of a version, parsing it at most once per process."""
    key = (
        version.normalized_checksum,
        version.definition.key,
        ADAPTER_VERSION,
        SPIFF_VERSION,
    )
    with _lock:
        compiled = _cache.get(key)
        if compiled is not None:
            _cache.move_to_end(key)
            return compiled
    dmn = [(d["name"], d["xml"].encode()) for d in version.dmn_files]
    compiled = compile_process(
        bytes(version.normalized_xml), key=version.definition.key, dmn_files=dmn
    )
    with _lock:
        _cache[key] = compiled
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)
    return compiled
