"""The inbox's candidate table (`models.InboxCandidate`): its writes.

Each function returns the statements that keep the table a projection of who
may find an open task in their inbox (its groups' and users' WORK rows, its
assignee, the users it bars) and of the task's sort keys and its case's
suspension, for the command to send with its other writes (held writes:
`common.sql.write_later`) or at once (`execute_together`). The parts of one
list touch different rows, so PostgreSQL may run them as one statement.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import Group

from common.sql import (
    Statement,
    array_text,
    db_value,
    execute_together,
    insert_statement,
)
from engine.models import Case

from .models import HumanTask, InboxCandidate, candidate_search

Kind = InboxCandidate.Kind
_TABLE = InboxCandidate._meta.db_table


def _keys(task: HumanTask) -> dict[str, Any]:
    """Return what every row of the task carries (sort keys, assignee, process)."""
    case = task.case
    return {
        "task_id": task.pk,
        "assignee_id": task.assignee_id,
        "process_id": case.version.definition_id,
        "suspended": case.status == Case.Status.SUSPENDED,
        "priority": task.priority,
        "due_at": task.due_at,
        "created_at": task.created_at,
        "search": candidate_search(task.name, case.business_key, task.search_text),
    }


def rows_statement(
    task: HumanTask, kind: InboxCandidate.Kind, principals: Iterable[int | None]
) -> list[Statement]:
    """Return the insert of the task's rows of `kind` for `principals` (ids)."""
    wanted = [p for p in dict.fromkeys(principals) if p is not None]
    if not wanted:  # (most calls: a new task has no assignee, bars nobody)
        return []
    keys = _keys(task)
    rows = [InboxCandidate(kind=kind, principal=p, **keys) for p in wanted]
    return [insert_statement(InboxCandidate, rows, ignore_conflicts=True)]


def offer_statements(
    task: HumanTask, *, users: Iterable[Any], groups: Iterable[Group]
) -> list[Statement]:
    """Return the inserts of the rows of users and groups given WORK on the task."""
    return [
        *rows_statement(task, Kind.GROUP, (g.pk for g in groups)),
        *rows_statement(task, Kind.USER, (u.pk for u in users)),
    ]


def groups_named_statement(task: HumanTask, names: Sequence[str]) -> Statement:
    """Return the insert of the task's rows of its groups, found by name
    (PostgreSQL; what `offer_statements` does for the groups that exist)."""
    keys = _keys(task)
    columns = ", ".join(keys)
    return (
        f"INSERT INTO {_TABLE} (kind, principal, {columns}) "
        f"SELECT %s, g.id, {', '.join(['%s'] * len(keys))} "
        f"FROM {Group._meta.db_table} g WHERE g.name = ANY(%s::varchar[]) "
        f"ON CONFLICT DO NOTHING",
        [Kind.GROUP.value, *_db_values(keys), array_text(list(names))],
    )


_FIELDS = {f.attname: f for f in InboxCandidate._meta.concrete_fields}


def _db_values(keys: dict[str, Any]) -> list[Any]:
    """Return the values of InboxCandidate's columns as the database takes them."""
    return [db_value(_FIELDS[name], value) for name, value in keys.items()]


def _task(pk: Any) -> Any:
    """Return a task's (or a case's: both UUIDs) id as the database takes it."""
    return _db_values({"task_id": pk})[0]


def created_statements(task: HumanTask, *, barred: Iterable[int]) -> list[Statement]:
    """Return the inserts of a new task's assignee row and barred rows."""
    return [
        *rows_statement(task, Kind.ASSIGNEE, [task.assignee_id]),
        *rows_statement(task, Kind.BARRED, barred),
    ]


def assigned_statements(task: HumanTask) -> list[Statement]:
    """Return the writes for the task's new assignee (or none): every row carries
    it, and the assignee row is theirs."""
    new = task.assignee_id
    keep = " AND principal <> %s" if new is not None else ""
    return [
        (
            f"UPDATE {_TABLE} SET assignee_id = %s WHERE task_id = %s AND kind <> %s",
            [new, _task(task.pk), Kind.ASSIGNEE.value],
        ),
        (
            f"DELETE FROM {_TABLE} WHERE task_id = %s AND kind = %s{keep}",
            [_task(task.pk), Kind.ASSIGNEE.value, *([new] if new is not None else [])],
        ),
        *rows_statement(task, Kind.ASSIGNEE, [new]),
    ]


def assigned(task: HumanTask) -> None:
    """Write `assigned_statements` now."""
    execute_together(assigned_statements(task))


def revoked_statement(
    task_pk: Any, kind: InboxCandidate.Kind, principal: int
) -> Statement:
    """Return the delete of a row whose WORK row on the task went."""
    return (
        f"DELETE FROM {_TABLE} WHERE task_id = %s AND kind = %s AND principal = %s",
        [_task(task_pk), kind.value, principal],
    )


def closed_statement(task: Any) -> Statement:
    """Return the delete of every row of a task that closed."""
    return (f"DELETE FROM {_TABLE} WHERE task_id = %s", [_task(task.pk)])


def planned(task: HumanTask) -> None:
    """Write the task's new sort keys (due date, priority) on its rows."""
    execute_together(
        [
            (
                f"UPDATE {_TABLE} SET priority = %s, due_at = %s WHERE task_id = %s",
                [task.priority, _db_values({"due_at": task.due_at})[0], _task(task.pk)],
            )
        ]
    )


def bar(task: HumanTask, user_pk: int) -> None:
    """Write the row of a user the task now bars."""
    execute_together(rows_statement(task, Kind.BARRED, [user_pk]))


def case_suspended(case: Case) -> None:
    """Write the case's suspension (case.status) on the rows of its open tasks."""
    tasks = HumanTask._meta.db_table
    execute_together(
        [
            (
                f"UPDATE {_TABLE} SET suspended = %s WHERE task_id IN "
                f"(SELECT id FROM {tasks} WHERE case_id = %s AND status = %s)",
                [
                    case.status == Case.Status.SUSPENDED,
                    _task(case.pk),
                    HumanTask.Status.OPEN.value,
                ],
            )
        ]
    )


def candidates_backfill(apps: Any) -> int:
    """Write the candidate rows of every open task from what it holds now (its
    WORK rows, assignee, barred users and case); return how many.

    Takes a model registry (`apps`): the data migration's, or django.apps.apps
    (a bench that inserted tasks in bulk). The table must hold none of them.
    """
    tasks_model = apps.get_model("tasks_app", "HumanTask")
    row = apps.get_model("tasks_app", "InboxCandidate")
    work = (
        apps.get_model("auth", "Permission")
        .objects.filter(
            codename="work_on_humantask", content_type__app_label="tasks_app"
        )
        .first()
    )
    tasks = {
        str(t["id"]): t
        for t in tasks_model.objects.filter(status="open").values(
            "id",
            "assignee_id",
            "priority",
            "due_at",
            "created_at",
            "name",
            "search_text",
            "case__business_key",
            "case__status",
            "case__version__definition_id",
        )
    }
    owners: list[tuple[str, int, int | None]] = [
        (str(t["id"]), Kind.ASSIGNEE, t["assignee_id"]) for t in tasks.values()
    ]
    barred = tasks_model.barred.through.objects.filter(humantask__status="open")
    owners += [
        (str(task), Kind.BARRED, user)
        for task, user in barred.values_list("humantask_id", "user_id")
    ]
    if work is not None:
        for model, owner, kind in (
            ("GroupObjectPermission", "group_id", Kind.GROUP),
            ("UserObjectPermission", "user_id", Kind.USER),
        ):
            held = apps.get_model("guardian", model).objects.filter(permission=work)
            owners += [
                (pk, kind, principal)
                for pk, principal in held.values_list("object_pk", owner)
                if pk in tasks
            ]
    rows = [
        row(
            task_id=tasks[pk]["id"],
            kind=kind,
            principal=principal,
            assignee_id=tasks[pk]["assignee_id"],
            process_id=tasks[pk]["case__version__definition_id"],
            suspended=tasks[pk]["case__status"] == Case.Status.SUSPENDED,
            priority=tasks[pk]["priority"],
            due_at=tasks[pk]["due_at"],
            created_at=tasks[pk]["created_at"],
            search=candidate_search(
                tasks[pk]["name"],
                tasks[pk]["case__business_key"],
                tasks[pk]["search_text"],
            ),
        )
        for pk, kind, principal in owners
        if principal is not None
    ]
    row.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)
