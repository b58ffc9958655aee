"""Read which deployed versions a message or signal starts or reaches, and
buffered messages."""

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.selectors import audit_called_version_id_query, audit_called_version_ids
from engine.spiff import (
    CompiledProcess,
    conditional_start_ids,
    message_catches,
    message_start_names,
    signal_start_names,
)
from processes.models import ProcessVersion
from processes.selectors import definition_list, version_get, version_list_current

from ..errors import ActionNotAllowed
from ..models import BufferedMessage, Case
from ..spec_cache import spec_for

_START_EVENTS = {
    "message": (b"messageEventDefinition", message_start_names),
    "signal": (b"signalEventDefinition", signal_start_names),
}


def version_list_started_by(*, event: str, name: str) -> list[ProcessVersion]:
    """Return the latest versions whose start event waits for `event` `name`.

    `event` is "message" or "signal". Only diagrams that mention such an event
    definition at all are parsed (the spec cache holds the rest).
    """
    marker, start_names = _START_EVENTS[event]
    latest = (
        version_get(key=definition.key)
        for definition in definition_list()
        if definition.latest_number
    )
    return _naming(latest, (marker,), lambda p: name in start_names(p))


def version_list_conditional_starts(*, key: str = "") -> list[ProcessVersion]:
    """Return the latest versions with a conditional start event (of `key` only).

    Raises:
        DefinitionNotFound: no process has the key `key`.
    """
    if key:
        latest: Iterable[ProcessVersion] = [version_get(key=key)]
    else:
        latest = (
            version_get(key=definition.key)
            for definition in definition_list()
            if definition.latest_number
        )
    return _naming(
        latest,
        (b"conditionalEventDefinition",),
        lambda p: bool(conditional_start_ids(p)),
    )


def _naming(
    versions: Iterable[ProcessVersion],
    markers: tuple[bytes, ...],
    names: Callable[[CompiledProcess], bool],
) -> list[ProcessVersion]:
    """Return the versions whose compiled process `names` holds for.

    Only diagrams whose XML has one of `markers` are parsed (the spec cache
    holds the rest).
    """
    found = []
    for version in versions:
        xml = bytes(version.normalized_xml)
        if any(marker in xml for marker in markers):
            if names(spec_for(version)):
                found.append(version)
    return found


_CATCHES = (b"messageEventDefinition", b"receiveTask")


def version_list_called(*, case: Case) -> QuerySet[ProcessVersion]:
    """Return the versions of other files' processes the case's calls started
    (one query)."""
    return ProcessVersion.objects.filter(
        pk__in=audit_called_version_id_query(case_ids=[case.pk])
    ).select_related("definition")


def case_processes(*, case: Case) -> list[CompiledProcess]:
    """Return the case's own process and every called version its calls started,
    whose human tasks the case's children ran (one query)."""
    called = version_list_called(case=case)
    return [spec_for(case.version), *(spec_for(version) for version in called)]


def version_list_catching(*, name: str) -> list[ProcessVersion]:
    """Return the versions in use that can catch or start with the message `name`.

    In use: the latest deployed version of each definition (new cases start
    there), every version with a running or suspended case, and every version
    of another file's process such a case's call activities started (a child
    may still run an older version of its process; one that has ended is
    counted too, erring towards an incident rather than a lost message). A
    catch whose name is one whole expression, `${kind}`, claims no name here:
    it subscribes to the name it resolves to when reached (Camunda 7's
    EventSubscriptionDeclaration), which a waiting case offers to correlation
    already. Only diagrams that mention a message catch at all are parsed
    (the spec cache holds them).
    """
    open_statuses = (Case.Status.RUNNING, Case.Status.SUSPENDED)
    open_cases = Case.objects.filter(version=OuterRef("pk"), status__in=open_statuses)
    called = audit_called_version_ids(
        case_ids=Case.objects.filter(status__in=open_statuses).values("pk")
    )
    versions = (
        ProcessVersion.objects.filter(
            Q(pk__in=version_list_current().values("pk"))
            | Exists(open_cases)
            | Q(pk__in=called)
        )
        .select_related("definition")
        .defer("original_xml")
        .order_by("definition__key", "number")
    )
    return _naming(
        versions,
        _CATCHES,
        lambda p: message_catches(p, name),
    )


def buffered_message_list(*, user: Any) -> QuerySet[BufferedMessage]:
    """Return the messages kept for a case to wait for them (ttl_s), oldest first.

    Raises:
        ActionNotAllowed: the user may not send messages (so may not see them).
    """
    if not user.has_perm("engine.send_message"):
        raise ActionNotAllowed("You may not see the messages kept for cases.")
    return BufferedMessage.objects.filter(expires_at__gt=timezone.now()).order_by(
        "created_at", "pk"
    )
