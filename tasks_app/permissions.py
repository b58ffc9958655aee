"""Who may see and act on human tasks; grants follow the task's candidates."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from engine.permissions import VIEW_CASE

VIEW = "tasks_app.view_humantask"
WORK = "tasks_app.work_on_humantask"
REASSIGN = "tasks_app.reassign_humantask"


def can_view(user, task) -> bool:
    """Return whether the user may see the task (candidates, assignee, auditors)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return (
        task.assignee_id == user.pk or user.has_perm(VIEW) or user.has_perm(VIEW, task)
    )


def can_work(user, task) -> bool:
    """Return whether the user may claim/complete the task (a candidate or the assignee)."""
    return task.assignee_id == user.pk or user.has_perm(WORK, task)


def is_barred(user, task) -> bool:
    """Return whether separation of duties bars the user from the task."""
    return task.barred.filter(pk=user.pk).exists()


def _grants(task) -> list[tuple[Permission, ContentType, str]]:
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


def grant_candidates(task, *, users, groups) -> None:
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


def principals_for(*, usernames, group_names):
    """Return (users, groups) for names; missing groups are created, missing users skipped."""
    users = list(get_user_model().objects.filter(username__in=list(usernames)))
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    return users, groups


def can_reassign(user, task) -> bool:
    """Return whether the user may assign the task to someone (admins, the assignee)."""
    return task.assignee_id == user.pk or user.has_perm(REASSIGN)
