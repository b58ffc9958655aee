"""Audit group membership changes: they decide who may approve."""

from django.db import transaction

from .actions import AuditAction
from .middleware import request_actor
from .services import audit_record

_VERBS = {
    "post_add": AuditAction.GROUP_MEMBER_ADDED,
    "post_remove": AuditAction.GROUP_MEMBER_REMOVED,
    "pre_clear": AuditAction.GROUP_MEMBER_REMOVED,  # after it, nobody knows who was in
}


def _pairs(instance, reverse: bool, model, pk_set, action: str):
    if action == "pre_clear":
        related = instance.user_set.all() if reverse else instance.groups.all()
    else:
        related = model.objects.filter(pk__in=pk_set)
    if reverse:  # group.user_set.add(user...)
        return [(instance.name, user) for user in related]
    return [(group.name, instance) for group in related]  # user.groups.add(group...)


def on_user_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record each membership added or removed, by the request's user (or system)."""
    if action not in _VERBS or (action != "pre_clear" and not pk_set):
        return
    actor = request_actor()
    with transaction.atomic():
        for group_name, user in _pairs(instance, reverse, model, pk_set, action):
            audit_record(
                actor=actor,
                action=_VERBS[action],
                payload={"group": group_name, "user": user.get_username()},
            )
