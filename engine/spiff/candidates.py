"""Who may act on a human task, resolved from the diagram (pure rules, no Django).

Order (ARCHITECTURE §7): assignee / candidateUsers / candidateGroups (Camunda
attributes or spiffworkflow properties with the same names), then the lane:
SpiffArena's `lane_owners` variable (a dict from lane name to usernames) names
the lane's people when it has the lane, else the lane's trimmed name is the
Django group name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .types import HumanTaskMeta

INITIATOR_VALUES = frozenset({"initiator", "${initiator}", "#{initiator}"})
VARIABLE = re.compile(r"^[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
# Names Camunda 7 reads as the engine's objects, not variables (juel.py).
ENGINE_OBJECTS = frozenset({"execution", "authenticatedUserId"})


@dataclass(frozen=True, slots=True)
class Candidates:
    """The resolved people and groups for one task."""

    assignee: str
    users: tuple[str, ...]
    groups: tuple[str, ...]


def has_candidates(meta: HumanTaskMeta) -> bool:
    """Return whether the diagram names anyone who can take this task."""
    return bool(
        meta.assignee or meta.candidate_users or meta.candidate_groups or meta.lane
    )


def is_readable(value: str) -> bool:
    """Whether `_resolve_name` reads `value` as Camunda 7 would: a plain name, the
    initiator, or one whole variable (${name}); any other expression is not
    evaluated here (it would be taken as a literal name)."""
    whole = VARIABLE.match(value)
    return (
        ("${" not in value and "#{" not in value)
        or value in INITIATOR_VALUES
        or (whole is not None and whole.group(1) not in ENGINE_OBJECTS)
    )


def _resolve_name(value: str, data: Mapping[str, object], initiator: str) -> str:
    if value in INITIATOR_VALUES:
        return initiator
    match = VARIABLE.match(value)
    if match:
        resolved = data.get(match.group(1))
        return resolved.strip() if isinstance(resolved, str) else ""
    return value


def _resolve_names(
    value: str, data: Mapping[str, object], initiator: str
) -> tuple[str, ...]:
    """Candidate users or groups: a variable may hold a list of names (Camunda
    takes a collection, as a DMN's collectEntries result gives) or a text,
    which Camunda 7 splits at commas, trimmed ("[\\s]*,[\\s]*",
    DefaultTaskAssignmentHandler.extractCandidates)."""
    match = VARIABLE.match(value)
    if match:
        resolved = data.get(match.group(1))
        if isinstance(resolved, str):
            resolved = resolved.split(",")
        if isinstance(resolved, list | tuple):
            return tuple(
                n.strip() for n in resolved if isinstance(n, str) and n.strip()
            )
    name = _resolve_name(value, data, initiator)
    return (name,) if name else ()


def _lane_owners(data: Mapping[str, object], lane: str) -> tuple[str, ...] | None:
    owners = data.get("lane_owners")
    if not isinstance(owners, Mapping) or lane not in owners:
        return None
    names = owners[lane]
    if not isinstance(names, list | tuple):
        return None
    return tuple(n.strip() for n in names if isinstance(n, str) and n.strip())


def resolve_candidates(
    meta: HumanTaskMeta, *, data: Mapping[str, object], initiator: str
) -> Candidates:
    """Resolve a task's assignee, candidate users and groups for one case."""
    assignee = _resolve_name(meta.assignee, data, initiator) if meta.assignee else ""
    users = tuple(
        u for v in meta.candidate_users for u in _resolve_names(v, data, initiator)
    )
    groups = tuple(
        g for v in meta.candidate_groups for g in _resolve_names(v, data, initiator)
    )
    if not (assignee or users or groups) and meta.lane:
        owners = _lane_owners(data, meta.lane.strip())
        if owners is not None:
            return Candidates(assignee="", users=owners, groups=())
        groups = (meta.lane.strip(),)
    return Candidates(assignee=assignee, users=users, groups=groups)
