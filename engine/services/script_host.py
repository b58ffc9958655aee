"""What scripts learn about their case through SpiffArena's helpers (issue 9).

`case_scripts(case, actor)` wraps every engine step that can run scripts: the
helpers a script calls (engine/spiff/script_helpers.py) are answered from here,
lazily and as plain data (the script worker never sees a model).

Who acts (`get_current_user()`): the person whose action runs the step (who
completes the task, starts the case, sends the message or signal, retries the
incident, the external worker's account that reports a result); where no person
acts (a timer, a Python service result, a signal or message thrown by a case)
the system actor, the inactive account `laneway-system` (`system_user`). Who
started the case (`get_process_initiator_user()`) is `Case.started_by`: the
person who started it by hand or with a message or signal over the API, else the
system actor (cases started by a timer, or by a signal or message a case threw).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.actions import AuditAction, task_ref_element
from audit.models import AuditEvent
from engine.models import Case
from engine.spiff import ScriptHost, script_host

SYSTEM_USERNAME = "laneway-system"


def system_user() -> Any:
    """Return the inactive account that acts where no person does (module doc)."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


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


def _group_members(names: Collection[str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {
        name: []
        for name in Group.objects.filter(name__in=names).values_list("name", flat=True)
    }
    rows = (
        get_user_model()
        .objects.filter(groups__name__in=list(members), is_active=True)
        .values_list("groups__name", "username")
    )
    for group, username in rows:
        if group in members:
            members[group].append(username)
    return {name: sorted(users) for name, users in members.items()}


def _last_completers(case: Case, bpmn_ids: Collection[str]) -> dict[str, Any]:
    """Of `bpmn_ids`, the human tasks completed in the case: id -> last completer."""
    wanted = set(bpmn_ids)
    last: dict[str, int] = {}
    events = AuditEvent.objects.filter(
        case_id=case.pk, action=AuditAction.TASK_COMPLETED, actor_id__isnull=False
    ).order_by("at", "chain_seq")
    for task_ref, actor_id in events.values_list("task_ref", "actor_id"):
        element = task_ref_element(task_ref)
        if element in wanted:
            last[element] = actor_id
    users = get_user_model().objects.in_bulk(set(last.values()))
    return {k: _user(users.get(pk)) for k, pk in last.items() if pk in users}


@contextlib.contextmanager
def case_scripts(case: Case, actor: Any, *, completing: str = "") -> Iterator[None]:
    """Answer the script helpers for `case`, `actor` acting (None: the system
    actor). `case` may be a case being started (not saved yet).

    `completing` is the element id of the human task `actor` is completing (its
    post-script sees `actor` as its last completer).
    """

    def last_completers(bpmn_ids: Collection[str]) -> dict[str, Any]:
        found = _last_completers(case, bpmn_ids)
        if completing and completing in bpmn_ids and _user(actor) is not None:
            found[completing] = _user(actor)
        return found

    host = ScriptHost(
        current_user=lambda: _user(actor if actor is not None else system_user()),
        initiator=lambda: _user(case.started_by),
        group_members=_group_members,
        last_completers=last_completers,
        process_info=lambda: {
            "process_instance_id": str(case.pk),
            "process_model_identifier": case.version.definition.key,
        },
        case_facts=lambda: {
            "id": str(case.pk),
            "business_key": case.business_key or "",
            "definition_id": (
                f"{case.version.definition.key}:{case.version.number}:{case.version.pk}"
            ),
        },
        authenticated_user=lambda: (
            actor.get_username()
            if actor is not None
            and getattr(actor, "pk", None)
            and actor.get_username() != SYSTEM_USERNAME
            else None
        ),
    )
    with script_host(host):
        yield
