"""Which version of another file's process a call activity binds, checked at upload.

Camunda 7's calledElementBinding: "latest" (the default), "deployment" (the
process deployed with the caller), "version" (calledElementVersion) and
"versionTag" (calledElementVersionTag: the one version whose
camunda:versionTag it is). The version is resolved when the call starts
(called.py); the upload checks the file against the version its calls would
run now (processes.services), so one file binds one version of each process
it calls (a key called with two bindings is refused).

A calledElement that is an expression (`${key}`) names its process only when
the call activity is reached: nothing of it is checked here but its binding
(with "deployment" it is refused, ref_checks.py) and its version number or
tag; what the key names is checked when the call starts (an incident).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .juel import is_juel
from .normalize import describe as _label
from .types import Problem
from .xml import NSMAP, vendor_attr

_PINS = {"version": "calledElementVersion", "versionTag": "calledElementVersionTag"}
_WORDS = {"version": "version", "versionTag": "version tag"}


def _calls(root: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    """Each call activity with a fixed calledElement, its key and its binding."""
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        called = (call.get("calledElement") or "").strip()
        if not is_juel(called):
            binding = vendor_attr(call, "calledElementBinding") or "latest"
            yield call, called, binding


def called_outside(root: etree._Element) -> set[str]:
    """Return the called processes (`calledElement`) that are not in this file.

    A calledElement expression names no process here (resolved at the call).
    """
    in_file = {p.get("id") for p in root.iterfind("bpmn:process", NSMAP)}
    return {called for _, called, _ in _calls(root) if called and called not in in_file}


def called_computed(root: etree._Element) -> set[str]:
    """Return the calledElement expressions (any deployed process may run there)."""
    return {
        called
        for call in root.iterfind(".//bpmn:callActivity", NSMAP)
        if is_juel(called := (call.get("calledElement") or "").strip())
    }


def _pinned(root: etree._Element, binding: str) -> dict[str, str]:
    return {
        called: vendor_attr(call, _PINS[binding])
        for call, called, bound in _calls(root)
        if bound == binding
    }


def pinned_versions(root: etree._Element) -> dict[str, str]:
    """Return calledElementVersion by called process, for binding="version" calls."""
    return _pinned(root, "version")


def pinned_tags(root: etree._Element) -> dict[str, str]:
    """Return calledElementVersionTag by called process, for binding="versionTag"."""
    return _pinned(root, "versionTag")


def _refused(call: etree._Element, why: str) -> Problem:
    return Problem(f"The {_label(call)} {why}", call.sourceline, call.get("id"))


def binding_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse the bindings Laneway cannot run as Camunda 7 does."""
    yield from _pin_values(root)
    outside = called_outside(root)
    pins = {"version": pinned_versions(root), "versionTag": pinned_tags(root)}
    for call, called, binding in _calls(root):
        if binding == "deployment" and called in outside:
            # Camunda 7 (CallableElementUtil): "deployment" calls the definition
            # deployed with the caller, and fails the call when there is none; a
            # Laneway deployment is one file.
            yield _refused(
                call,
                f"binds '{called}' of its own deployment "
                '(calledElementBinding="deployment"), but this file does not '
                f"define '{called}': put the process in this file, or use "
                'calledElementBinding="latest".',
            )
        if binding in pins and called and called not in outside:
            # Laneway runs the process of this file as deployed with it; Camunda
            # 7 would call the numbered (tagged) version, another one later.
            yield _refused(
                call,
                f"binds {_WORDS[binding]} {pins[binding][called]!r} of '{called}', "
                f'a process of this file (calledElementBinding="{binding}"): the '
                f"file runs its own '{called}'; put '{called}' in its own file to "
                'bind a version, or use calledElementBinding="deployment".',
            )
            continue
        own = vendor_attr(call, _PINS[binding]) if binding in _PINS else None
        other = [
            (kind, found[called])
            for kind, found in pins.items()
            if called in found and (kind != binding or found[called] != own)
        ]
        if other:  # every call of a key outside the file binds one version
            kind, value = other[0]
            yield _refused(
                call,
                f"calls '{called}' with binding {binding!r} while another call "
                f"activity of this file binds its {_WORDS[kind]} {value!r}: one "
                f"file binds one version of '{called}'; give the calls the same "
                "binding.",
            )


def _pin_values(root: etree._Element) -> Iterator[Problem]:
    """A version must be a number, a version tag a fixed text (expressions too)."""
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        binding = vendor_attr(call, "calledElementBinding")
        if binding not in _PINS:
            continue
        value = vendor_attr(call, _PINS[binding])
        if binding == "version" and not value.isdigit():
            yield _refused(
                call,
                'binds a version (calledElementBinding="version") but '
                f"calledElementVersion is {value!r}: give a version number.",
            )
        elif binding == "versionTag" and (not value or is_juel(value)):
            yield _refused(
                call,
                'binds a version tag (calledElementBinding="versionTag") but '
                f"calledElementVersionTag is {value!r}: give the version tag "
                "(camunda:versionTag) of the version to call, as a fixed text.",
            )
