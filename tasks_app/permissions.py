"""Who may see and act on human tasks; grants follow the task's candidates."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from engine.permissions import CANCEL_ANY_CASE, VIEW_CASE

from .models import HumanTask

VIEW = "tasks_app.view_humantask"
WORK = "tasks_app.work_on_humantask"
REASSIGN = "tasks_app.reassign_humantask"


def can_view(user: Any, task: HumanTask) -> bool:
    """Return whether the user may see the task.

    Its candidates and assignee, auditors and admins, and the managers of its
    candidate groups.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return (
        task.assignee_id == user.pk
        or user.has_perm(VIEW)
        or user.has_perm(VIEW, task)
        or manages(user, task)
    )


def manager_group_name(group: str) -> str:
    """Return the name of the group whose members manage `group` ("<group>-managers").

    Camunda has flat groups; Laneway reads a naming convention on top of them, so
    managers are set where groups are (the admin, an identity provider's sync):
    the members of "Manager-managers" manage the group "Manager".
    """
    return f"{group}{settings.TASKS_MANAGER_GROUP_SUFFIX}"


def managed_groups(user: Any) -> list[str]:
    """Return the names of the groups the user manages."""
    suffix = settings.TASKS_MANAGER_GROUP_SUFFIX
    names = user.groups.filter(name__endswith=suffix).values_list("name", flat=True)
    return sorted(name[: -len(suffix)] for name in names if name != suffix)


def manages(user: Any, task: Any) -> bool:
    """Return whether the user manages one of the task's candidate groups."""
    wanted = [manager_group_name(g) for g in task.candidate_groups]
    return bool(wanted) and user.groups.filter(name__in=wanted).exists()


def can_work(user: Any, task: HumanTask) -> bool:
    """Return whether the user may claim/complete the task (candidate or assignee)."""
    return task.assignee_id == user.pk or user.has_perm(WORK, task)


def is_barred(user: Any, task: Any) -> bool:
    """Return whether separation of duties bars the user from the task."""
    return task.barred.filter(pk=user.pk).exists()


def _grants(task: HumanTask) -> list[tuple[Permission, ContentType, str]]:
    wanted = ((VIEW, task), (WORK, task), (VIEW_CASE, task.case))
    perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(
            content_type__app_label__in={w.split(".")[0] for w, _ in wanted},
            codename__in={w.split(".")[1] for w, _ in wanted},
        )
    }
    return [
        (perms[name], ContentType.objects.get_for_model(obj), str(obj.pk))
        for name, obj in wanted
    ]


def grant_candidates(
    task: HumanTask, *, users: Iterable[Any], groups: Iterable[Group]
) -> None:
    """Give the task's candidates view+work on the task and view on its case.

    The rows are guardian's own (GroupObjectPermission / UserObjectPermission),
    written in one insert each instead of guardian's per-permission round trips.
    """
    grants = _grants(task)
    GroupObjectPermission.objects.bulk_create(
        [
            GroupObjectPermission(
                group=group, permission=perm, content_type=ctype, object_pk=pk
            )
            for group in groups
            for perm, ctype, pk in grants
        ],
        ignore_conflicts=True,
    )
    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(
                user=user, permission=perm, content_type=ctype, object_pk=pk
            )
            for user in users
            for perm, ctype, pk in grants
        ],
        ignore_conflicts=True,
    )


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
    ).delete()
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


def close_work(task: Any) -> None:
    """Delete every WORK row of a task that closed; VIEW rows stay (its history).

    Keeps the rows the inbox reads proportional to the open tasks, not to all
    tasks ever offered.
    """
    _, (work, ctype, pk), _ = _grants(task)
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(permission=work, content_type=ctype, object_pk=pk).delete()


def was_offered(user: Any, task: Any) -> bool:
    """Return whether the task was the user's or offered to them (its VIEW rows)."""
    return task.assignee_id == user.pk or user.has_perm(VIEW, task)


def principals_for(
    *, usernames: Iterable[str], group_names: Iterable[str]
) -> tuple[list[Any], list[Group]]:
    """Return (users, groups) for names; create missing groups, skip missing users."""
    users = list(get_user_model().objects.filter(username__in=list(usernames)))
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    return users, groups


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
