"""Who may see and act on human tasks; grants follow the task's candidates."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

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


def grant_candidates(task, *, users, groups) -> None:
    """Give the task's candidates view+work on the task and view on its case."""
    principals = [*users, *groups]
    for principal in principals:
        for perm, obj in ((VIEW, task), (WORK, task), (VIEW_CASE, task.case)):
            assign_perm(perm, principal, obj)


def principals_for(*, usernames, group_names):
    """Return (users, groups) for names; missing groups are created, missing users skipped."""
    users = list(get_user_model().objects.filter(username__in=list(usernames)))
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    return users, groups


def can_reassign(user, task) -> bool:
    """Return whether the user may assign the task to someone (admins, the assignee)."""
    return task.assignee_id == user.pk or user.has_perm(REASSIGN)
