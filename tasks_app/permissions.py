"""Who may see and act on human tasks; grants follow the task's candidates."""

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermission, UserObjectPermission

from common.sql import (
    Statement,
    array_text,
    default_connection,
    execute_together,
    insert_statement,
)
from engine.permissions import (
    CANCEL_ANY_CASE,
    VIEW_CASE,
    manager_group_name,
)

from . import candidates
from .models import HumanTask

VIEW = "tasks_app.view_humantask"
WORK = "tasks_app.work_on_humantask"
REASSIGN = "tasks_app.reassign_humantask"


_BARRED = "barred"
_FACTS = "_laneway_user_facts"


def _facts(user: Any, task: HumanTask) -> frozenset[str]:
    """Return the user's object permissions on the task, and "barred" if barred.

    One query (the user's rows, their groups' rows and the barred row), kept on
    the task object for the command; `_forget` drops it when grants change.
    Guardian's `has_perm` would ask twice per permission.
    """
    known = task.__dict__.setdefault(_FACTS, {})
    if user.pk not in known:
        ctype, pk = ContentType.objects.get_for_model(HumanTask), str(task.pk)
        held = UserObjectPermission.objects.filter(
            user=user, content_type=ctype, object_pk=pk
        )
        via_groups = GroupObjectPermission.objects.filter(
            group__user=user, content_type=ctype, object_pk=pk
        )
        barred = HumanTask.barred.through.objects.filter(
            humantask_id=task.pk, user_id=user.pk
        )
        known[user.pk] = frozenset(
            held.values_list("permission__codename", flat=True).union(
                via_groups.values_list("permission__codename", flat=True),
                barred.values_list(Value(_BARRED, output_field=CharField()), flat=True),
                all=True,
            )
        )
    return known[user.pk]


def facts_columns(user: Any) -> dict[str, Any]:
    """Return annotations reading `_facts` of the user with the task rows (PostgreSQL).

    For the statement that locks the task: `facts_known` then keeps them on each
    task object, and the command's permission checks need no query of their own.
    """
    if not facts_readable(user):
        return {}
    return facts_columns_of(user.pk, ContentType.objects.get_for_model(HumanTask).pk)


def facts_readable(user: Any) -> bool:
    """Return whether `facts_columns` reads the user's facts (else: empty)."""
    return default_connection().vendor == "postgresql" and user.pk is not None


def facts_columns_of(user_pk: int, ctype_pk: int) -> dict[str, Any]:
    """`facts_columns` of a user by id, the task content type by id (compiled once)."""
    pk = Cast(OuterRef("pk"), output_field=CharField())
    held = UserObjectPermission.objects.filter(
        user_id=user_pk, content_type_id=ctype_pk, object_pk=pk
    )
    via_groups = GroupObjectPermission.objects.filter(
        group__user=user_pk, content_type_id=ctype_pk, object_pk=pk
    )
    barred = HumanTask.barred.through.objects.filter(
        humantask_id=OuterRef("pk"), user_id=user_pk
    )
    return {
        "facts_held": ArraySubquery(held.values("permission__codename")),
        "facts_via_groups": ArraySubquery(via_groups.values("permission__codename")),
        "facts_barred": Exists(barred),
    }


def facts_known(user: Any, task: HumanTask) -> None:
    """Keep the facts `facts_columns` read with the task on the task object."""
    if not hasattr(task, "facts_barred"):
        return
    row: Any = task  # the annotations of facts_columns
    facts = {*row.facts_held, *row.facts_via_groups}
    if row.facts_barred:
        facts.add(_BARRED)
    task.__dict__.setdefault(_FACTS, {})[user.pk] = frozenset(facts)


def _forget(task: Any) -> None:
    task.__dict__.pop(_FACTS, None)


def _has_object_perm(user: Any, perm: str, task: HumanTask) -> bool:
    if not (user and user.is_active):
        return False
    if user.is_superuser:  # as guardian's backend
        return True
    return perm.split(".", 1)[1] in _facts(user, task)


def can_view(user: Any, task: HumanTask) -> bool:
    """Return whether the user may see the task.

    Its candidates and assignee, auditors and admins, and the managers of its
    candidate groups.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return (
        task.assignee_id == user.pk
        or _has_object_perm(user, VIEW, task)
        or user.has_perm(VIEW)
        or manages(user, task)
    )


def manages(user: Any, task: Any) -> bool:
    """Return whether the user manages one of the task's candidate groups."""
    wanted = [manager_group_name(g) for g in task.candidate_groups]
    return bool(wanted) and user.groups.filter(name__in=wanted).exists()


def can_work(user: Any, task: HumanTask) -> bool:
    """Return whether the user may claim/complete the task (candidate or assignee)."""
    return task.assignee_id == user.pk or _has_object_perm(user, WORK, task)


def is_barred(user: Any, task: Any) -> bool:
    """Return whether separation of duties bars the user from the task."""
    if isinstance(task, HumanTask) and user is not None and user.pk is not None:
        return _BARRED in _facts(user, task)
    return task.barred.filter(pk=user.pk).exists()


_PERMISSIONS: dict[str, Permission] = {}


def _permissions() -> dict[str, Permission]:
    """Return the three permissions candidates get, read once per process."""
    if not _PERMISSIONS:
        names = (VIEW, WORK, VIEW_CASE)
        _PERMISSIONS.update(
            (f"{p.content_type.app_label}.{p.codename}", p)
            for p in Permission.objects.select_related("content_type").filter(
                content_type__app_label__in={n.split(".")[0] for n in names},
                codename__in={n.split(".")[1] for n in names},
            )
        )
    return _PERMISSIONS


def permission_for(name: str) -> Permission:
    """Return VIEW, WORK or VIEW_CASE's Permission row (read once per process)."""
    return _permissions()[name]


def permissions_forget(**_: Any) -> None:
    """Drop the cached permissions (post_migrate: a flush or migrate recreates them)."""
    _PERMISSIONS.clear()


def _grants(task: HumanTask) -> list[tuple[Permission, ContentType, str]]:
    """Return (permission, its content type, object id) of the task's grants.

    Each permission's own content type is its model's (read with it, once per
    process): ContentType's cache looks it up through the router at every call.
    """
    wanted = ((VIEW, task.pk), (WORK, task.pk), (VIEW_CASE, task.case_id))
    perms = _permissions()
    _forget(task)
    return [(perms[name], perms[name].content_type, str(pk)) for name, pk in wanted]


def grant_candidates(
    task: HumanTask, *, users: Iterable[Any], groups: Iterable[Group]
) -> None:
    """Give the task's candidates view+work on the task and view on its case.

    The rows are guardian's own (GroupObjectPermission / UserObjectPermission),
    written in one insert each instead of guardian's per-permission round trips.
    """
    execute_together(grant_statements(task, users=users, groups=groups))


def grant_statements(
    task: HumanTask, *, users: Iterable[Any], groups: Iterable[Group]
) -> list[Statement]:
    """Return the inserts of `grant_candidates` (one per table that gets rows),
    the inbox's candidate rows with them."""
    groups, users = list(groups), list(users)
    if not (groups or users):  # (a new task's groups found by name: none here)
        _forget(task)
        return []
    grants = _grants(task)
    rows: list[tuple[Any, list[Any]]] = [
        (
            GroupObjectPermission,
            [
                GroupObjectPermission(
                    group=group, permission=perm, content_type=ctype, object_pk=pk
                )
                for group in groups
                for perm, ctype, pk in grants
            ],
        ),
        (
            UserObjectPermission,
            [
                UserObjectPermission(
                    user=user, permission=perm, content_type=ctype, object_pk=pk
                )
                for user in users
                for perm, ctype, pk in grants
            ],
        ),
    ]
    return [
        *(
            insert_statement(model, objs, ignore_conflicts=True)
            for model, objs in rows
            if objs
        ),
        *candidates.offer_statements(task, users=users, groups=groups),
    ]


def revoke_personal(task: Any, *, user: Any) -> None:
    """Take back what a delegation or an assignment gave the user, when it ends.

    Deletes the user's own rows on the task, and on its case unless another task
    of the case still grants them; a named candidate (candidateUsers) keeps theirs,
    and rows given to the user's groups are not touched.
    """
    if user is None or user.get_username() in task.candidate_users:
        return
    grants = _grants(task)
    (task_view, _, _), (task_work, _, _), (case_view, case_type, case_pk) = grants
    UserObjectPermission.objects.filter(
        user=user, permission__in=[task_view, task_work], object_pk=str(task.pk)
    ).delete()  # and the user's candidate row (`work_row_deleted`)
    others = UserObjectPermission.objects.filter(
        user=user,
        permission=task_view,
        object_pk__in=[
            str(pk) for pk in task.case.human_tasks.values_list("pk", flat=True)
        ],
    )
    if not others.exists():
        UserObjectPermission.objects.filter(
            user=user, permission=case_view, content_type=case_type, object_pk=case_pk
        ).delete()


def close_work_statements(task: Any) -> list[Statement]:
    """Return the deletes of every WORK row of a task that closed (`close_work`),
    and of its rows of the inbox's candidate table."""
    _, (work, ctype, pk), _ = _grants(task)
    where = "permission_id = %s AND content_type_id = %s AND object_pk = %s"
    return [
        *(
            (
                f"DELETE FROM {model._meta.db_table} WHERE {where}",
                (work.pk, ctype.pk, pk),
            )
            for model in (UserObjectPermission, GroupObjectPermission)
        ),
        candidates.closed_statement(task),
    ]


def close_work(task: Any) -> None:
    """Delete every WORK row of a task that closed; VIEW rows stay (its history).

    Keeps the rows the inbox reads proportional to the open tasks, not to all
    tasks ever offered. Both tables in one statement.
    """
    execute_together(close_work_statements(task))


def work_row_saved(row: Any, *, created: bool) -> None:
    """Write the candidate row of a WORK row written one by one (guardian's
    assign_perm, the admin); Laneway's own grants write theirs with them."""
    if not created or row.permission_id != permission_for(WORK).pk:
        return
    try:
        task = (
            HumanTask.objects.select_related("case__version")
            .filter(pk=row.object_pk, status=HumanTask.Status.OPEN)
            .first()
        )
    except (ValueError, ValidationError):
        return
    if task is not None:
        kind, principal = _work_owner(row)
        execute_together(candidates.rows_statement(task, kind, [principal]))


def work_row_deleted(row: Any) -> None:
    """Delete the candidate row of a WORK row deleted through the ORM
    (`revoke_personal`, guardian's remove_perm)."""
    if row.permission_id == permission_for(WORK).pk:
        try:
            task_pk = UUID(row.object_pk)
        except ValueError:
            return
        execute_together([candidates.revoked_statement(task_pk, *_work_owner(row))])


def _work_owner(row: Any) -> tuple[Any, int]:
    if isinstance(row, GroupObjectPermission):
        return candidates.Kind.GROUP, row.group_id
    return candidates.Kind.USER, row.user_id


def was_offered(user: Any, task: Any) -> bool:
    """Return whether the task was the user's or offered to them (its VIEW rows)."""
    return task.assignee_id == user.pk or user.has_perm(VIEW, task)


def users_named(usernames: Iterable[str]) -> list[Any]:
    """Return the users of these usernames (those that exist)."""
    names = list(usernames)
    return list(get_user_model().objects.filter(username__in=names)) if names else []


def groups_named(names: Iterable[str]) -> list[Group]:
    """Return the groups of these names, creating those missing."""
    return [Group.objects.get_or_create(name=name)[0] for name in names]


def group_grants_statement(task: HumanTask, names: Sequence[str]) -> Statement | None:
    """Return the insert of the grants of the task's candidate groups, by name.

    What `grant_candidates` does for `groups_named(names)`, with the groups
    found inside the statement (PostgreSQL; None elsewhere or without names).
    It returns the ids of the groups that got the rows: a group that does not
    exist yet (or that another transaction creates meanwhile) gets none, which
    `group_grants_complete` tells; the caller then creates and grants it.
    """
    if default_connection().vendor != "postgresql" or not names:
        return None
    grants = _grants(task)
    sql = (
        f"INSERT INTO {GroupObjectPermission._meta.db_table} "
        f"(permission_id, content_type_id, object_pk, group_id) "
        f"SELECT p.perm, p.ctype, p.pk, g.id "
        f"FROM unnest(%s::integer[], %s::integer[], %s::varchar[]) "
        f"AS p(perm, ctype, pk) "
        f"CROSS JOIN {Group._meta.db_table} g WHERE g.name = ANY(%s::varchar[]) "
        f"ON CONFLICT DO NOTHING RETURNING group_id"
    )
    return sql, (
        _ids_text(tuple(perm.pk for perm, _, _ in grants)),
        _ids_text(tuple(ctype.pk for _, ctype, _ in grants)),
        array_text([pk for _, _, pk in grants]),
        array_text(list(names)),
    )


@lru_cache(maxsize=64)
def _ids_text(ids: tuple[int, ...]) -> Any:
    """`array_text` of the grants' permission and content type ids (the same
    few at every task)."""
    return array_text(list(ids))


def group_grants_complete(
    rows: Sequence[tuple[Any, ...]], names: Sequence[str]
) -> bool:
    """Return whether every named group got the task's rows (`group_grants_statement`).

    The task's own rows are new, so every group that got any returned one.
    """
    return len({row[0] for row in rows}) == len(set(names))


def can_reassign_any(user: Any) -> bool:
    """Return whether the user may assign any open task (process admins)."""
    return user.has_perm(REASSIGN)


def can_reassign(user: Any, task: HumanTask) -> bool:
    """Return whether the user may assign the task to one of its candidates.

    Process admins, the task's assignee and the managers of its candidate groups.
    """
    return task.assignee_id == user.pk or can_reassign_any(user) or manages(user, task)


def can_contribute_to_case(user: Any, case: Any) -> bool:
    """Return whether the user may add comments and files to a case they can see.

    Its starter, its participants (object rows: candidates, assignees, delegates)
    and process admins; not those who see every case only to read it (auditors).
    """
    return (
        case.started_by_id == user.pk
        or user.has_perm(VIEW_CASE, case)
        or user.has_perm(CANCEL_ANY_CASE)
    )


def can_contribute_to_task(user: Any, task: HumanTask) -> bool:
    """Return whether the user may comment on a task they can see (not auditors)."""
    return (
        task.assignee_id == user.pk
        or user.has_perm(VIEW, task)
        or manages(user, task)
        or can_reassign_any(user)
    )
