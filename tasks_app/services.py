"""Project READY human tasks into the inbox; claim, unclaim and complete them.

Who may do what, from which state, is declared once in `lifecycle.TRANSITIONS`.

Lock order: the Case row first (engine.services.case_lock), then its HumanTask rows.
"""

import functools
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ParamSpec
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.actions import AuditAction, task_ref_for
from audit.services import audit_batch, audit_chain_head_known, case_chain_head
from common.sql import (
    insert_statement,
    instance_maker,
    select_compiled,
    update_statement,
    write_later,
)
from engine.errors import CaseNotFound
from engine.form_validation import form_clean_json
from engine.human_tasks import PRIORITY_RANGE, CaseAdvance, ReadyHumanTask
from engine.models import Case
from engine.services import (
    case_audit,
    case_complete_user_task,
    case_lock,
    case_task_assigned,
)

from . import candidates, permissions, selectors
from .discussion import attachment_discard
from .display import display_value
from .errors import AssigneeInvalid, TaskInputInvalid, TaskNotFound
from .form_js import Files, form_js_complete_data, uploads_store
from .lifecycle import TaskAction, receiver, transition_check
from .models import Attachment, HumanTask
from .notifications import Notice, notify_on_commit

UNCHANGED = object()  # "leave this field as it is" for task_plan
P = ParamSpec("P")


def _audit(
    task: HumanTask,
    actor: Any,
    action: AuditAction,
    *,
    on_behalf_of: str = "",
    **payload: Any,
) -> None:
    case_audit(
        task.case,
        actor,
        action,
        on_behalf_of=on_behalf_of,
        task_ref=task_ref_for(bpmn_id=task.bpmn_id, task_id=task.pk),
        task=str(task.pk),
        name=task.name,
        **payload,
    )


def _separated_users(case: Any, rules: list[str]) -> set[Any]:
    """Return the ids of users `separateFrom` bars: the starter, earlier deciders."""
    barred = {case.started_by_id} if "initiator" in rules else set()
    steps = set(rules) - {"initiator"}
    if steps:
        barred.update(
            HumanTask.objects.filter(
                case=case, bpmn_id__in=steps, completed_by__isnull=False
            ).values_list("completed_by_id", flat=True)
        )
    return barred - {None}


def _principals(ready: ReadyHumanTask) -> tuple[ReadyHumanTask, list[Any], list[str]]:
    """Return the task's users and group names; the default group when nobody."""
    users = permissions.users_named(
        [*ready.candidate_users, *([ready.assignee] if ready.assignee else [])]
    )
    if not (users or ready.candidate_groups):  # only usernames that exist nowhere
        ready = ready.with_default_group()
    return ready, users, list(ready.candidate_groups)


def _flag_unrouted(case: Case, task: HumanTask, ready: ReadyHumanTask) -> None:
    """Flag the case and audit a task whose named candidates resolved to nobody."""
    Case.objects.filter(pk=case.pk).update(needs_attention=True)
    case.needs_attention = True
    _audit(
        task,
        None,
        AuditAction.TASK_UNROUTED,
        default_group=ready.default_group,
    )


BUSINESS_VALUE_CHARS = 200  # of one column's value, shown and searched


def business_data_for(case: Case) -> dict[str, Any]:
    """Return the task fields holding the case's declared business-data columns.

    The values are copied when the task is offered (case data changes only when
    a task completes, which offers new tasks), so the inbox shows and searches
    them from the task row alone, without reading each case's data.
    """
    values = {
        name: display_value(case.data[name])[:BUSINESS_VALUE_CHARS]
        for name in case.version.columns
        if name in case.data
    }
    return {
        "business_data": values,
        "search_text": " ".join(values.values()).lower(),
    }


# (field, attribute name) of each column of a task, in order (`_new_task`).
_TASK_FIELDS = tuple((f, f.attname) for f in HumanTask._meta.concrete_fields)
_new_task_made = instance_maker(HumanTask)


def _new_task(*, case: Case, assignee: Any, **values: Any) -> HumanTask:
    """Return `HumanTask(case=case, assignee=assignee, **values)`, the other
    fields their defaults, without Model.__init__'s calls per field (~20 µs).

    As its foreign-key descriptors leave it: the ids set, the case and the
    assignee cached, the object on the case's database.
    """
    values["case_id"] = case.pk
    values["assignee_id"] = None if assignee is None else assignee.pk
    task: HumanTask = _new_task_made(
        [
            values.pop(name) if name in values else field.get_default()
            for field, name in _TASK_FIELDS
        ]
    )
    if values:
        raise TypeError(f"HumanTask has no field(s) {', '.join(values)}")
    task._state.db = router.db_for_write(HumanTask, instance=case)
    cached = task._state.fields_cache
    cached["case"], cached["assignee"] = case, assignee
    return task


def _create_task(case: Case, ready: ReadyHumanTask) -> HumanTask:
    ready, users, group_names = _principals(ready)
    assignee = next((u for u in users if u.get_username() == ready.assignee), None)
    task = _new_task(
        due_at=ready.due_at,
        follow_up_at=ready.follow_up_at,
        priority=50 if ready.priority is None else ready.priority,
        case=case,
        spiff_task_id=ready.task_id,
        bpmn_id=ready.bpmn_id,
        name=ready.name,
        documentation=ready.documentation,
        lane=ready.lane,
        candidate_groups=list(ready.candidate_groups),
        candidate_users=list(ready.candidate_users),
        assignee=assignee,
        form=ready.form,
        form_js=ready.form_js,
        separate_from=list(ready.separate_from),
        local_data=ready.local_data,
        **business_data_for(case),
    )
    barred = HumanTask.barred.through
    by_name = permissions.group_grants_statement(task, group_names)
    groups = [] if by_name else permissions.groups_named(group_names)

    def missed(granted: list[tuple[Any, ...]]) -> None:
        if not permissions.group_grants_complete(granted, group_names):
            named = permissions.groups_named(group_names)  # creates those missing
            permissions.grant_candidates(task, users=[], groups=named)

    # The task, its grants (its groups found by name) and who is barred from it
    # (nobody yet), held back to go with the command's next writes.
    write_later(
        [
            insert_statement(HumanTask, [task]),
            *permissions.grant_statements(task, users=users, groups=groups),
            *(
                [
                    insert_statement(
                        barred,
                        [barred(humantask_id=task.pk, user_id=pk) for pk in bar],
                        ignore_conflicts=True,
                    )
                ]
                if (bar := _separated_users(case, task.separate_from))
                else []
            ),
            *candidates.created_statements(task, barred=bar),
            *(
                [candidates.groups_named_statement(task, group_names)]
                if by_name
                else []
            ),
            *([by_name] if by_name else []),
        ],
        then=missed if by_name else None,
    )
    task._state.adding = False
    _audit(
        task,
        None,
        AuditAction.TASK_CREATED,
        lane=task.lane,
        candidate_groups=task.candidate_groups,
        candidate_users=task.candidate_users,
        assignee=ready.assignee or None,
    )
    for problem in ready.unreadable:
        _audit(task, None, AuditAction.TASK_VALUE_UNREADABLE, problem=problem)
    if ready.defaulted:
        _flag_unrouted(case, task, ready)
    notify_on_commit(task, Notice.OFFERED, to=task.assignee)
    if case.started is not None:  # the start's answer shows it (apis_cases)
        case.started.tasks.append(task)
    return task


_CLOSED = ("status", "completed_at", "completed_by", "assignee", "claimed_at")

# The open tasks of a case a command has locked and loaded with the task it works
# on (`_locked_task`), handed to the inbox sync of its advance: (case id, tasks).
_OPEN_LOCKED: ContextVar[tuple[Any, list[HumanTask]] | None] = ContextVar(
    "laneway_open_tasks_locked", default=None
)


def _open_tasks(advance: CaseAdvance) -> list[HumanTask]:
    """Return the case's open tasks, locked: as the command loaded them, or read."""
    if advance.new_case:
        return []
    loaded = _OPEN_LOCKED.get()
    if loaded is not None and loaded[0] == advance.case.pk:
        _OPEN_LOCKED.set(None)  # once: a later advance of the case reads them again
        return loaded[1]
    return list(
        advance.case.human_tasks.select_for_update().filter(
            status=HumanTask.Status.OPEN
        )
    )


def inbox_sync_for_case(*, advance: CaseAdvance) -> None:
    """Open inbox tasks for newly READY human tasks; close those that left READY."""
    case, actor = advance.case, advance.actor
    completed_task_id = advance.completed_task_id
    ready = dict.fromkeys(advance.ready_task_ids)
    now = timezone.now()
    open_tasks = _open_tasks(advance)
    for task in open_tasks:
        spiff_id = str(task.spiff_task_id)
        if spiff_id in ready:
            ready.pop(spiff_id)
        elif spiff_id == completed_task_id:
            task.status, task.completed_at, task.completed_by = (
                HumanTask.Status.COMPLETED,
                now,
                actor,
            )
            if task.assignee_id is None and actor is not None:
                task.assignee = actor  # completing claims (task_complete)
            if task.claimed_at is None:
                task.claimed_at = now  # the cockpit's waiting time ends here
            closed = {f: getattr(task, f) for f in _CLOSED}
            write_later(  # the row and its WORK rows, with the next writes
                [
                    update_statement(HumanTask, closed, pk=task.pk),
                    *permissions.close_work_statements(task),
                ],
                rows=[("tasks_app_humantask", task.pk)],
            )
        else:
            transition_check(user=None, task=task, action=TaskAction.CANCEL)
            task.status, task.completed_at = HumanTask.Status.CANCELLED, now
            task.save(update_fields=["status", "completed_at"])
            if task.owner_id is not None:
                permissions.revoke_personal(task, user=task.assignee)
            permissions.close_work(task)
            _audit(task, actor, AuditAction.TASK_CANCELLED)  # who caused it, or system
    if completed_task_id and actor is not None:
        _bar_decider(open_tasks, completed_task_id=completed_task_id, actor=actor)
    for task_id in ready:
        _create_task(case, advance.ready_task(task_id, now=timezone.now()))


def _bar_decider(tasks: list[HumanTask], *, completed_task_id: str, actor: Any) -> None:
    """Bar the one who decided a step from the still open tasks separated from it."""
    done = next((t for t in tasks if str(t.spiff_task_id) == completed_task_id), None)
    for task in tasks:
        if done and task.is_open and done.bpmn_id in task.separate_from:
            task.barred.add(actor)
            candidates.bar(task, actor.pk)


def _task_locking(
    wanted: UUID, case_pk: UUID, *user: int, facts: bool
) -> QuerySet[HumanTask]:
    """The task and the case's open tasks, locked, with the chain head and facts.

    The statement of `_locked_task`, compiled once (`select_compiled`); `user`
    is the user's id and the task content type's when `facts`.
    """
    return (
        HumanTask.objects.select_for_update()
        .filter(Q(pk=wanted) | Q(case_id=case_pk, status=HumanTask.Status.OPEN))
        .annotate(
            **case_chain_head("case_id"),
            **(permissions.facts_columns_of(*user) if facts else {}),
        )
    )


def _locked_task(
    *, user: Any, task_id: UUID | str, with_state: bool = False
) -> tuple[HumanTask, list[HumanTask]]:
    """Lock the task's case, then the task; check the user may see it.

    Return the task and the case's open tasks (it among them when it is open),
    all locked by one statement, which also reads the user's permissions on
    them and the head of the case's audit chain (for an open `audit_batch`).
    """
    try:
        case = case_lock(human_task_id=task_id, with_state=with_state)
    except CaseNotFound:
        raise TaskNotFound("No such task.") from None
    wanted = UUID(str(task_id))
    facts = permissions.facts_readable(user)
    rows = select_compiled(
        ("locked_task", facts),
        functools.partial(_task_locking, facts=facts),
        wanted,
        case.pk,
        *((user.pk, ContentType.objects.get_for_model(HumanTask).pk) if facts else ()),
    )
    task = next((t for t in rows if t.pk == wanted), None)
    if task is None:
        raise TaskNotFound("No such task.")
    head: Any = task  # the annotations of case_chain_head
    audit_chain_head_known(case.pk, head.audit_head_seq, head.audit_head_hash)
    for row in rows:
        row.case = case
        permissions.facts_known(user, row)
    if not permissions.can_view(user, task):
        raise TaskNotFound("No such task.")
    return task, [t for t in rows if t.status == HumanTask.Status.OPEN]


def _command(service: Callable[P, HumanTask]) -> Callable[P, HumanTask]:
    """Run a task command in one transaction whose audit events go in at its end.

    Its events follow the chain head `_locked_task` reads with the task.
    """

    @functools.wraps(service)
    def command(*args: P.args, **kwargs: P.kwargs) -> HumanTask:
        with transaction.atomic(), audit_batch():
            return service(*args, **kwargs)

    return command


def _assigned(task: HumanTask, actor: Any) -> None:
    """The task's assignee changed: its assignment listeners run now (engine)."""
    case_task_assigned(
        case=task.case,
        spiff_task_id=str(task.spiff_task_id),
        bpmn_id=task.bpmn_id,
        assignee=task.assignee.get_username() if task.assignee else "",
        actor=actor,
        task_ref=task_ref_for(bpmn_id=task.bpmn_id, task_id=task.pk),
    )


def _claim(user: Any, task: HumanTask, *, save: bool = True) -> None:
    if task.assignee_id is None:
        task.assignee = user
        if task.claimed_at is None:  # the first claim ends the waiting time
            task.claimed_at = timezone.now()
        if save:
            task.save(update_fields=["assignee", "claimed_at"])
            candidates.assigned(task)
        _audit(task, user, AuditAction.TASK_CLAIMED)


@_command
def task_claim(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Claim an open task for the user.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, CaseBusy.
    """
    task, _ = _locked_task(user=user, task_id=task_id)
    transition_check(user=user, task=task, action=TaskAction.CLAIM)
    if task.assignee_id is None:
        _claim(user, task)
        _assigned(task, user)
    return task


@_command
def task_unclaim(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Give a claimed task back to its candidates.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, CaseBusy.
    """
    task, _ = _locked_task(user=user, task_id=task_id)
    if transition_check(user=user, task=task, action=TaskAction.RELEASE):
        previous = task.assignee
        task.assignee, task.owner = None, None
        task.save(update_fields=["assignee", "owner"])
        candidates.assigned(task)
        permissions.revoke_personal(task, user=previous)
        _audit(task, user, AuditAction.TASK_UNCLAIMED)
        _assigned(task, user)
    return task


def task_complete(
    *,
    user: Any,
    task_id: UUID | str,
    data: dict[str, Any],
    files: Files | None = None,
) -> HumanTask:
    """Complete a task with form data (claiming it if unclaimed); advance the case.

    `files` are the files a Camunda Form's file pickers sent, by the viewer's
    `files::<key>` reference (form_js.py); they become attachments of the case.
    They are written to storage before the case is locked (storage may be
    remote); if the completion then fails, their files are deleted after the
    transaction (their rows roll back with it), as are those it did not use.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed,
        SeparationOfDuties, FormInvalid, CaseBusy, CaseNotRunning.
    """
    stored: dict[str, list[Attachment]] = {}
    if files:
        task = selectors.task_get_for_user(user=user, task_id=task_id)
        if task.form_js is not None:
            stored = uploads_store(user=user, task=task, data=data, files=files)
    written = [a for group in stored.values() for a in group]
    try:
        done = _complete(user, task_id, data, files or {}, stored)
    except BaseException:
        for attachment in written:  # rows rolled back: no file may stay
            attachment_discard(attachment)
        raise
    for attachment in written:
        if attachment._state.adding:  # sent, but not used by the form
            attachment_discard(attachment)
    return done


@_command
def _complete(
    user: Any,
    task_id: UUID | str,
    data: dict[str, Any],
    files: Files,
    stored: dict[str, list[Attachment]],
) -> HumanTask:
    task, open_tasks = _locked_task(user=user, task_id=task_id, with_state=True)
    transition_check(user=user, task=task, action=TaskAction.COMPLETE)
    if task.form_js is not None:
        cleaned = form_js_complete_data(
            user=user, task=task, data=data, files=files, stored=stored
        )
    else:
        cleaned = form_clean_json(task.form, data, task.variables)
    # A delegated task is held (never claimed here); an offered one is claimed and
    # its assignee written with its completion (inbox_sync_for_case), its
    # assignment listeners run first (case_complete_user_task).
    assigning = task.assignee_id is None
    _claim(user, task, save=False)
    if task.owner_id is not None and task.owner_id != user.pk:
        return _resolve(user, task, cleaned)
    handed = _OPEN_LOCKED.set((task.case.pk, open_tasks))
    try:
        case_complete_user_task(
            case=task.case,
            spiff_task_id=str(task.spiff_task_id),
            data=cleaned,
            actor=user,
            task_ref=task_ref_for(bpmn_id=task.bpmn_id, task_id=task.pk),
            assignee=user.get_username() if assigning else None,
        )
    finally:
        _OPEN_LOCKED.reset(handed)
    if task.status == HumanTask.Status.OPEN:  # closed on another object than ours
        _reload_closed(task, user)
    return task


def _reload_closed(task: HumanTask, user: Any) -> None:
    """Read back what closing the task changed; keep its case and the user loaded."""
    people = ("assignee", "owner", "completed_by")
    task.refresh_from_db(fields=["status", "completed_at", *people])
    for field in people:
        if getattr(task, f"{field}_id") == user.pk:
            setattr(task, field, user)


def _resolve(user: Any, task: HumanTask, data: dict[str, Any]) -> HumanTask:
    """A delegate's answer goes back to the owner, who completes the task."""
    owner = task.owner
    assert owner is not None  # only a delegated task (owner set) is resolved
    task.draft, task.assignee, task.owner = data, owner, None
    task.save(update_fields=["draft", "assignee", "owner"])
    candidates.assigned(task)
    permissions.revoke_personal(task, user=user)
    _assigned(task, user)
    name = owner.get_username()
    _audit(
        task, user, AuditAction.TASK_RESOLVED, on_behalf_of=name, data=data, owner=name
    )
    return task


def _candidate_named(username: str, task: HumanTask) -> Any:
    target = get_user_model().objects.filter(username=username, is_active=True).first()
    if target is None:
        raise AssigneeInvalid(
            f"There is no active user '{username}'.",
            details={"fields": {"user": ["Unknown user."]}},
        )
    return target


@_command
def task_assign(*, user: Any, task_id: UUID | str, assignee: str) -> HumanTask:
    """Assign an open task to one of its candidates.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, AssigneeInvalid, CaseBusy.
    """
    task, _ = _locked_task(user=user, task_id=task_id)
    transition_check(user=user, task=task, action=TaskAction.ASSIGN)
    target = _candidate_named(assignee, task)
    if not permissions.can_work(target, task):
        raise AssigneeInvalid(
            f"{assignee} is not a candidate for this task.",
            details={"fields": {"user": ["Not a candidate for this task."]}},
        )
    if refusal := receiver(target, task):
        raise refusal
    previous = task.assignee
    task.assignee, task.owner = target, None
    if task.claimed_at is None:  # the first assignment ends the waiting time
        task.claimed_at = timezone.now()
    task.save(update_fields=["assignee", "owner", "claimed_at"])
    candidates.assigned(task)
    if previous is not None and previous != target:
        permissions.revoke_personal(task, user=previous)
    _audit(
        task,
        user,
        AuditAction.TASK_ASSIGNED,
        assignee=assignee,
        previous=previous.get_username() if previous else None,
    )
    if previous != target:
        _assigned(task, user)
        notify_on_commit(task, Notice.ASSIGNED, to=target, actor=user)
    return task


@_command
def task_delegate(*, user: Any, task_id: UUID | str, delegate: str) -> HumanTask:
    """Hand a task to someone else for an answer; it comes back to the user to complete.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed,
        AssigneeInvalid.
    """
    task, _ = _locked_task(user=user, task_id=task_id)
    transition_check(user=user, task=task, action=TaskAction.DELEGATE)
    target = _candidate_named(delegate, task)
    if target.pk == user.pk:
        raise AssigneeInvalid(
            "Delegate to someone else.", details={"fields": {"user": ["That is you."]}}
        )
    if refusal := receiver(target, task):
        raise refusal
    previous = task.assignee if task.owner_id is not None else None
    task.owner, task.assignee = user, target
    task.save(update_fields=["owner", "assignee"])
    candidates.assigned(task)
    if previous is not None and previous != target:
        permissions.revoke_personal(task, user=previous)
    permissions.grant_candidates(task, users=[target], groups=[])
    _audit(task, user, AuditAction.TASK_DELEGATED, delegate=delegate)
    _assigned(task, user)
    notify_on_commit(task, Notice.DELEGATED, to=target, actor=user)
    return task


_PRIORITY_BOUNDS = (
    f"Between {PRIORITY_RANGE.start} and {PRIORITY_RANGE.stop - 1}; normal is 50."
)


@_command
def task_plan(
    *,
    user: Any,
    task_id: UUID | str,
    due_at: datetime | None | object = UNCHANGED,
    priority: int | object = UNCHANGED,
) -> HumanTask:
    """Set an open task's due date (None clears it) and priority, audited.

    A priority is any 32-bit integer, as Camunda 7's (and as a diagram may give);
    50 is normal, higher is more urgent.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskInputInvalid, CaseBusy.
    """
    task, _ = _locked_task(user=user, task_id=task_id)
    transition_check(user=user, task=task, action=TaskAction.PLAN)
    if priority is not UNCHANGED and priority not in PRIORITY_RANGE:
        raise TaskInputInvalid(
            "The priority is a whole number (a 32-bit integer).",
            details={"fields": {"priority": [_PRIORITY_BOUNDS]}},
        )
    wanted = {"due_at": due_at, "priority": priority}
    changes = {
        field: value
        for field, value in wanted.items()
        if value is not UNCHANGED and value != getattr(task, field)
    }
    if changes:
        before = {field: _plain(getattr(task, field)) for field in changes}
        for field, value in changes.items():
            setattr(task, field, value)
        if "due_at" in changes:  # a new due date earns a new overdue reminder
            task.overdue_notified_at = None
        task.save(update_fields=[*changes, "overdue_notified_at"])
        candidates.planned(task)
        after = {field: _plain(value) for field, value in changes.items()}
        _audit(task, user, AuditAction.TASK_UPDATED, before=before, after=after)
    return task


def inbox_case_status_changed(*, case: Case) -> None:
    """Tell the inbox that the case was suspended or resumed (its status saved):
    a suspended case's tasks leave every inbox until it is resumed."""
    candidates.case_suspended(case)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
