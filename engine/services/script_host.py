"""What scripts learn about their case through SpiffArena's helpers (issue 9).

`case_scripts(case, actor)` wraps an engine step of a locked case: the helpers a
script calls (engine/spiff/script_helpers.py) are answered from here, lazily and
as plain data (the script worker never sees a model).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.actions import AuditAction
from audit.models import AuditEvent
from engine.models import Case
from engine.spiff import ScriptHost, script_host


def _user(user: Any) -> dict[str, Any] | None:
    if user is None or not getattr(user, "pk", None):
        return None
    username = user.get_username()
    return {
        "id": user.pk,
        "username": username,
        "email": user.email,
        "display_name": user.get_full_name() or username,
    }


def _group_members(name: str) -> list[str] | None:
    group = Group.objects.filter(name=name).first()
    if group is None:
        return None
    return sorted(
        group.user_set.filter(is_active=True).values_list("username", flat=True)
    )


def _last_completer(case: Case, bpmn_id: str) -> dict[str, Any] | None:
    event = (
        AuditEvent.objects.filter(
            case_id=case.pk,
            action=AuditAction.TASK_COMPLETED,
            task_ref__startswith=f"{bpmn_id}:",
            actor_id__isnull=False,
        )
        .order_by("-at", "-chain_seq")
        .first()
    )
    if event is None:
        return None
    return _user(get_user_model().objects.filter(pk=event.actor_id).first())


@contextlib.contextmanager
def case_scripts(case: Case, actor: Any, *, completing: str = "") -> Iterator[None]:
    """Answer the script helpers for `case`, `actor` acting (None: the system).

    `completing` is the element id of the human task `actor` is completing (its
    post-script sees `actor` as its last completer).
    """

    def last_completer(bpmn_id: str) -> dict[str, Any] | None:
        if completing and bpmn_id == completing:
            return _user(actor)
        return _last_completer(case, bpmn_id)

    host = ScriptHost(
        current_user=lambda: _user(actor),
        initiator=lambda: _user(case.started_by),
        group_members=_group_members,
        last_completer=last_completer,
        process_info=lambda: {
            "process_instance_id": str(case.pk),
            "process_model_identifier": case.version.definition.key,
        },
    )
    with script_host(host):
        yield
