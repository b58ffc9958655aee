"""What the engine tells tasks_app when a case advances, in engine's own types.

tasks_app never sees an adapter type: the `case_advanced` signal carries a
`CaseAdvance`, and each READY human task is read as a `ReadyHumanTask` whose
candidates, dates and priority are resolved for the case (only when asked, so
tasks that are already in the inbox cost nothing).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.form_validation import form_to_json, task_form_js
from engine.models import Case
from engine.spiff import (
    PRIORITY_RANGE,
    AdvanceOutcome,
    ReadyUserTask,
    has_candidates,
    resolve_candidates,
    resolve_due,
    resolve_priority,
    unreadable_value,
)
from processes.models import ProcessVersion

__all__ = ["PRIORITY_RANGE", "CaseAdvance", "ReadyHumanTask"]


@dataclass(frozen=True, slots=True)
class ReadyHumanTask:
    """A user or manual task waiting for a person, resolved for its case."""

    task_id: str
    bpmn_id: str
    name: str
    lane: str
    documentation: str
    assignee: str
    candidate_users: tuple[str, ...]
    candidate_groups: tuple[str, ...]
    due_at: datetime | None
    follow_up_at: datetime | None
    priority: int | None
    form: list[dict[str, Any]]
    separate_from: tuple[str, ...]
    form_js: dict[str, Any] | None = None  # a Camunda Form, rendered instead of form
    # Why a due date, follow-up date or priority taken from a variable was not
    # set (the variable holds something unreadable); recorded, never silent.
    unreadable: tuple[str, ...] = ()
    default_group: str = ""
    named_candidates: bool = True
    defaulted: bool = False
    # The task's local variables (camunda:inputOutput inputs, a multi-instance
    # instance's), which hide the case's of their names in its form.
    local_data: dict[str, Any] = field(default_factory=dict)

    def with_default_group(self) -> "ReadyHumanTask":
        """Return this task offered to the default group instead of its candidates.

        `defaulted` is set when the diagram named candidates that resolved to
        nobody (a task that names nobody at all was warned of at upload).
        """
        return replace(
            self,
            assignee="",
            candidate_users=(),
            candidate_groups=(self.default_group,),
            defaulted=self.defaulted or self.named_candidates,
        )


def _form_owner(version: Any, ready: ReadyUserTask) -> Any:
    """The version whose form files a task's form is among: the called version
    its child runs (read only for a task of a called process naming a form)."""
    if ready.called is None:
        return version
    return ProcessVersion.objects.select_related("definition").get(
        pk=int(str(ready.called["id"]))
    )


def _resolve(
    ready: ReadyUserTask,
    *,
    data: Mapping[str, Any],
    initiator: str,
    now: datetime,
    default_group: str,
    version: Any = None,
) -> ReadyHumanTask:
    meta = ready.meta
    candidates = resolve_candidates(meta, data=data, initiator=initiator)
    resolved = ReadyHumanTask(
        task_id=ready.task_id,
        bpmn_id=ready.bpmn_id,
        name=ready.name,
        lane=ready.lane or "",
        documentation=(
            meta.documentation if ready.documentation is None else ready.documentation
        ),
        assignee=candidates.assignee or "",
        candidate_users=tuple(candidates.users),
        candidate_groups=tuple(candidates.groups),
        due_at=resolve_due(meta.due_date, data=data, now=now),
        follow_up_at=resolve_due(meta.follow_up_date, data=data, now=now),
        priority=resolve_priority(meta.priority, data=data),
        form=form_to_json(meta.form),
        form_js=(
            task_form_js(_form_owner(version, ready), meta.form_ref)
            if meta.form_ref
            else None
        ),
        separate_from=tuple(meta.separate_from),
        unreadable=tuple(
            problem
            for value, what in (
                (meta.due_date, "due date"),
                (meta.follow_up_date, "follow-up date"),
                (meta.priority, "priority"),
            )
            if (problem := unreadable_value(value, data=data, what=what))
        ),
        default_group=default_group,
        named_candidates=has_candidates(meta),
        local_data=dict(ready.local_data),
    )
    if candidates.assignee or candidates.users or candidates.groups:
        return resolved
    return resolved.with_default_group()


@dataclass(frozen=True, slots=True)
class CaseAdvance:
    """The payload of `engine.signals.case_advanced`: one advance of one case."""

    case: Case
    actor: Any
    completed_task_id: str | None
    data: dict[str, Any]
    outcome: AdvanceOutcome
    # The case's (name, bpmn_id) signal subscriptions before this advance, as
    # the advance read them with its message subscriptions (None: not read).
    signal_subscriptions: tuple[tuple[str, str], ...] | None = None
    new_case: bool = False  # the advance started the case (it has no tasks yet)

    @property
    def ready_task_ids(self) -> list[str]:
        """Return the ids of the human tasks READY after this advance."""
        return [t.task_id for t in self.outcome.ready_user_tasks]

    def ready_task(self, task_id: str, *, now: datetime) -> ReadyHumanTask:
        """Return one READY human task, resolved against the case data at `now`.

        A multi-instance instance's own variables (its element variable,
        loopCounter) and the task's camunda:inputOutput inputs shadow the case
        data, as in Camunda's execution scopes.
        """
        ready = next(t for t in self.outcome.ready_user_tasks if t.task_id == task_id)
        initiator = self.case.started_by.get_username()
        data = {**self.data, **ready.local_data}
        return _resolve(
            ready,
            data=data,
            initiator=initiator,
            now=now,
            default_group=self.case.version.fallback_group,
            version=self.case.version,
        )
