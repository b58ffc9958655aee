"""What compiling a BPMN file yields: runnable processes (opaque to the engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .types import HumanTaskMeta, ParsedProcess, Problem


@dataclass(frozen=True, slots=True)
class CompiledProcess:
    """A parsed, runnable process (opaque outside the adapter)."""

    key: str
    meta: ParsedProcess
    spec: object
    subprocess_specs: object
    task_meta: Mapping[str, HumanTaskMeta]
    # The senders (message throw and end events, send tasks) whose every message
    # flow goes to an outside party, with the parties' names (message_flows.py).
    outside_senders: Mapping[str, str] = field(default_factory=dict)
    # The processes its call activities call outside its file: resolved when
    # the call starts (called.py), never taken from `subprocess_specs`; a
    # calledElement expression is among them as written (any process may run).
    calls_outside: frozenset[str] = frozenset()
    # The end execution listeners' lines of its elements, by id, run when the
    # element is cancelled (cancel_listeners.py).
    end_listeners: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompiledBundle:
    """Every executable process of an uploaded file, and the XML that runs them.

    `warnings` are located findings that do not stop the deploy (a user task
    with no candidates, offered to the default group; an external task that
    waits for an outside worker).
    """

    processes: tuple[CompiledProcess, ...]
    normalized_xml: bytes
    warnings: tuple[Problem, ...] = ()


def no_initiator(process: CompiledProcess) -> dict[str, None]:
    """The variable the start event's `camunda:initiator` names, null: Camunda 7
    sets it to the authenticated user (ProcessDefinitionEntity
    .createProcessInstance), none for a case a timer, message or signal starts."""
    name = process.meta.initiator_variable
    return {name: None} if name else {}
