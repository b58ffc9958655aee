"""Who may start a version and act on each of its tasks, and which groups are empty.

Read from the version's diagram now (not at upload): a lane or candidate group
whose group has no active member is an empty lane, and its tasks wait until
someone is added. The version page shows this, as the upload did when it was
deployed; people added to or removed from groups since change it.

Rules as at run time (ARCHITECTURE §7): a task's assignee, candidate users and
candidate groups, else its lane (the group of the same name), else the version's
default group; names like ${initiator} or ${approver} are decided per case.
Starters: the process's candidate starter groups and users, else the start
event's lane, else everyone signed in.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Q

from engine.spiff import (
    BpmnParseError,
    CompiledProcess,
    HumanTaskMeta,
    compile_process,
    event_starts_only,
)

from .models import ProcessVersion
from .permissions import starters_admit
from .selectors import called_documents


@dataclass(frozen=True, slots=True)
class Role:
    """Who acts at one step (the start, or a task)."""

    step: str
    groups: tuple[tuple[str, int], ...] = ()  # (group, active members)
    users: tuple[str, ...] = ()  # named people (existing or not)
    per_case: tuple[str, ...] = ()  # expressions decided per case (${initiator})
    everyone: bool = False  # anyone signed in (a start without restriction)
    default: bool = False  # nobody named: the version's default group

    @property
    def empty_groups(self) -> list[str]:
        return [name for name, members in self.groups if members == 0]


@dataclass(frozen=True, slots=True)
class Staffing:
    """The start and the tasks of a version, with who acts; the warnings."""

    start: Role
    tasks: tuple[Role, ...]
    warnings: tuple[str, ...] = field(default=())


def _dynamic(name: str) -> bool:
    return name.startswith(("$", "#")) or name == "initiator"


def _task_names(meta: HumanTaskMeta, default: str) -> tuple[list[str], list[str], bool]:
    users = (
        [meta.assignee, *meta.candidate_users]
        if meta.assignee
        else [*meta.candidate_users]
    )
    groups = list(meta.candidate_groups)
    if not (users or groups) and meta.lane:
        groups = [meta.lane.strip()]
    if not (users or groups):
        return [], [default], True
    return users, groups, False


def _members(names: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(names, 0)
    for name, members in (
        Group.objects.filter(name__in=list(counts))
        .annotate(members=Count("user", filter=Q(user__is_active=True)))
        .values_list("name", "members")
    ):
        counts[name] = members
    return counts


def _role(
    step: str, users: list[str], groups: list[str], counts: dict[str, int], **kw: bool
) -> Role:
    return Role(
        step=step,
        groups=tuple((g, counts[g]) for g in dict.fromkeys(groups) if not _dynamic(g)),
        users=tuple(u for u in dict.fromkeys(users) if not _dynamic(u)),
        per_case=tuple(n for n in dict.fromkeys([*users, *groups]) if _dynamic(n)),
        **kw,
    )


def _compiled(version: ProcessVersion) -> CompiledProcess | None:
    """Return the version's process as stored (None when it no longer compiles),
    compiled once per instance: a page asks for its staffing and its start offer."""
    if not hasattr(version, "_staffing_compiled"):
        version._staffing_compiled = _compile(version)  # type: ignore[attr-defined]
    return version._staffing_compiled  # type: ignore[attr-defined]


def _compile(version: ProcessVersion) -> CompiledProcess | None:
    extra_bpmn, extra_dmn = (
        called_documents(version.dependencies.select_related("definition"))
        if version.dependencies_checksum
        else ([], [])
    )
    try:
        return compile_process(
            bytes(version.normalized_xml),
            key=version.definition.key,
            dmn_files=[(d["name"], d["xml"].encode()) for d in version.dmn_files],
            extra_bpmn=extra_bpmn,
            extra_dmn=extra_dmn,
        )
    except BpmnParseError:
        return None


@dataclass(frozen=True, slots=True)
class StartOffer:
    """Whether the start page offers a version to a user, and why not."""

    allowed: bool  # the user is among its starters
    tasklist: bool  # camunda:isStartableInTasklist
    event_starts: tuple[str, ...] = ()  # every start event waits for one of these

    @property
    def offered(self) -> bool:
        """Whether the user may start it from the start page (a Start button)."""
        return self.allowed and self.tasklist and not self.event_starts

    @property
    def event_starts_text(self) -> str:
        return " or ".join(self.event_starts)


def version_start_offer(*, user: Any, version: ProcessVersion) -> StartOffer:
    """Return whether the start page offers `version` to `user`, as the start
    page decides (engine.selectors.process_start_form_for_user with tasklist):
    the user is among its starters (processes.permissions.starters_admit),
    camunda:isStartableInTasklist is not "false" (Camunda 7's Tasklist offers
    only ProcessDefinitionQuery.startableInTasklist()), and some start event is
    a none start (a process started only by its message, signal, timer or
    condition is not started by hand)."""
    process = _compiled(version)
    if process is None:
        return StartOffer(allowed=False, tasklist=version.startable_in_tasklist)
    return StartOffer(
        allowed=starters_admit(user, process.meta, by_lane=True),
        tasklist=version.startable_in_tasklist,
        event_starts=event_starts_only(process),
    )


def version_staffing(*, version: ProcessVersion) -> Staffing | None:
    """Return who starts the version and who acts on each task; None if unreadable."""
    process = _compiled(version)
    if process is None:
        return None
    meta = process.meta
    start_groups = list(meta.candidate_starter_groups)
    start_users = list(meta.candidate_starter_users)
    if not (start_groups or start_users) and meta.start is not None and meta.start.lane:
        start_groups = [meta.start.lane.strip()]
    tasks = [(t, *_task_names(t, version.fallback_group)) for t in meta.human_tasks]
    counts = _members(
        n
        for n in [*start_groups, *(g for _, _, groups, _ in tasks for g in groups)]
        if not _dynamic(n)
    )
    start = _role(
        "Start",
        start_users,
        start_groups,
        counts,
        everyone=not (start_groups or start_users),
    )
    roles = tuple(
        _role(t.name or t.bpmn_id, users, groups, counts, default=default)
        for t, users, groups, default in tasks
    )
    return Staffing(start=start, tasks=roles, warnings=_warnings(start, roles))


def _warnings(start: Role, tasks: tuple[Role, ...]) -> tuple[str, ...]:
    known = set(
        get_user_model()
        .objects.filter(
            is_active=True,
            username__in=[u for r in (start, *tasks) for u in r.users],
        )
        .values_list("username", flat=True)
    )
    found: list[str] = []
    for group in start.empty_groups:
        found.append(f"Nobody can start it: the group '{group}' has no members.")
    for role in tasks:
        for group in role.empty_groups:
            found.append(
                f"'{role.step}' waits for the group '{group}', which has no members."
            )
        missing = [u for u in role.users if u not in known]
        if missing and not role.groups:
            found.append(
                f"'{role.step}' names {', '.join(missing)}, who "
                f"{'is' if len(missing) == 1 else 'are'} not an active user."
            )
    return tuple(dict.fromkeys(found))
