"""Audit group membership changes: they decide who may approve."""

from django.db import transaction

from .services import audit_record


def on_user_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or (
        not pk_set and action != "post_clear"
    ):
        return
    verb = {
        "post_add": "group.member_added",
        "post_remove": "group.member_removed",
        "post_clear": "group.members_cleared",
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
