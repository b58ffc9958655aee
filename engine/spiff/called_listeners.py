"""End listeners of a called process that its caller can cancel, across files.

Camunda 7 cancels a call activity (an interrupting boundary event on it, an
interrupting event sub-process or a terminate end event of its scope, a
multi-instance completion condition) by deleting the called instance without
skipping custom listeners (PvmExecutionImpl.deleteCascade from the call
activity's execution), so the end listeners of the called process's waiting
tasks and catch events run then. Here such a listener runs only when its
element completes, so it is refused, as it is when its own process can cancel
it (listeners.interrupter, which also follows the calls within one file).

Across files the stored XML of a version marks the elements whose end listener
runs after they waited (listeners.END_LISTENER):

* a file whose cancellable call activity calls a deployed process with such an
  element, or one calling such a process in turn, is refused at that call
  activity (`called_problems`);
* a file whose process has such an element, while the latest deployed version
  of another process calls it (latest binding) from a cancellable call
  activity, is refused at that element (`caller_problems`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lxml import etree

from .listeners import END_LISTENER, interrupter
from .types import Problem
from .xml import NSMAP, local_name, vendor_attr


def _marked(process: etree._Element) -> Iterator[etree._Element]:
    for element in process.iter():
        if isinstance(element.tag, str) and element.get(END_LISTENER) == "true":
            yield element


def _executable(roots: Sequence[etree._Element]) -> dict[str, etree._Element]:
    return {
        str(p.get("id")): p
        for root in roots
        for p in root.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP)
    }


def _cancellable_calls(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """The call activities something can cancel, with what (by a static key)."""
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        if "{" in (call.get("calledElement") or ""):
            continue  # resolved when it runs: not known here
        if cancelling := interrupter(call):
            yield call, cancelling


def _label(element: etree._Element) -> str:
    name = element.get("name")
    named = f" ({name})" if name else ""
    return f"{local_name(element)} '{element.get('id')}'{named}"


def called_problems(
    root: etree._Element, called: Sequence[tuple[str, etree._Element]]
) -> list[Problem]:
    """Refuse a cancellable call activity of `root` calling a process of a
    deployed document (`called`: name, root) that runs an end listener."""
    own = _executable([root])
    documents = {
        key: (name, process)
        for name, called_root in called
        for key, process in _executable([called_root]).items()
    }
    found = []
    for call, cancelling in _cancellable_calls(root):
        key = (call.get("calledElement") or "").strip()
        if key in own:
            continue  # the same file: listeners.interrupter follows the call
        reached = _first_marked(key, documents, set())
        if reached is None:
            continue
        (name, process), element = reached
        through = (
            "" if process.get("id") == key else f", which calls '{process.get('id')}'"
        )
        found.append(
            Problem(
                f"The {_label(call)} calls the process '{key}'{through} of {name}, "
                f"whose {_label(element)} has an end listener: Camunda 7 runs it "
                f"also when {cancelling} cancels this call activity (it deletes "
                "the called instances with their listeners), and here it would "
                "run only when that element completes; remove the listener or "
                "use a script task.",
                call.sourceline,
                call.get("id"),
            )
        )
    return found


def _first_marked(
    key: str,
    documents: dict[str, tuple[str, etree._Element]],
    seen: set[str],
) -> tuple[tuple[str, etree._Element], etree._Element] | None:
    """The first element running an end listener in the deployed process `key`
    or in a process it calls in turn (deleted with it), with its document."""
    if key in seen or key not in documents:
        return None
    seen.add(key)
    name, process = documents[key]
    element = next(_marked(process), None)
    if element is not None:
        return (name, process), element
    for call in process.iterfind(".//bpmn:callActivity", NSMAP):
        inner = _first_marked(
            (call.get("calledElement") or "").strip(), documents, seen
        )
        if inner is not None:
            return inner
    return None


def caller_problems(
    root: etree._Element, callers: Sequence[tuple[str, etree._Element]]
) -> list[Problem]:
    """Refuse an element of `root` running an end listener in a process that a
    cancellable call activity of a deployed document (`callers`: name, root)
    calls at its latest version."""
    own = _executable([root])
    found = []
    for name, caller in callers:
        for call, cancelling in _cancellable_calls(caller):
            key = (call.get("calledElement") or "").strip()
            binding = vendor_attr(call, "calledElementBinding") or "latest"
            if key not in own or binding != "latest":
                continue
            for element in _marked(own[key]):
                found.append(
                    Problem(
                        f"The end listener of {_label(element)} would not run "
                        f"here when {cancelling} cancels the {_label(call)} of "
                        f"{name}, which calls this process: Camunda 7 runs it "
                        "then (it deletes the called instance with its "
                        "listeners); remove the listener or use a script task.",
                        element.sourceline,
                        element.get("id"),
                    )
                )
    return list(dict.fromkeys(found))
