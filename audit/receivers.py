"""Audit group membership changes: they decide who may approve."""

from django.db import transaction

from .actions import AuditAction
from .services import audit_record


def on_user_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or (
        not pk_set and action != "post_clear"
    ):
        return
    verb = {
        "post_add": AuditAction.GROUP_MEMBER_ADDED,
        "post_remove": AuditAction.GROUP_MEMBER_REMOVED,
        "post_clear": AuditAction.GROUP_MEMBERS_CLEARED,
    }[action]
    if reverse:  # group.user_set.add(user...)
        pairs = [
            (instance.name, user) for user in model.objects.filter(pk__in=pk_set or [])
        ]
    else:  # user.groups.add(group...)
        pairs = [
            (group.name, instance)
            for group in model.objects.filter(pk__in=pk_set or [])
        ]
    with transaction.atomic():
        for group_name, user in pairs:
            audit_record(
                actor=None,
                action=verb,
                payload={"group": group_name, "user": user.get_username()},
            )
