"""Read what a user may start: startable processes and their start forms."""

from dataclasses import dataclass
from typing import Any

from engine.form_validation import form_to_json, start_form_js
from engine.spiff import (
    CompiledProcess,
    event_starts_only,
)
from processes.models import ProcessVersion
from processes.selectors import version_get, version_list_current

from ..errors import (
    EngineError,
    MessageStartOnly,
    NotStartableInTasklist,
    StartNotAllowed,
    StartOnlyByEvent,
)
from ..permissions import can_start
from ..spec_cache import spec_for


@dataclass(frozen=True, slots=True)
class StartableProcess:
    """A process the user may start, as the start page lists it."""

    key: str
    name: str
    version: int
    documentation: str
    lane: str


def process_list_startable_for_user(*, user: Any) -> list[StartableProcess]:
    """Return the processes whose current version the user may start, by name.

    A process that starts only by its message is not listed: a message starts it.
    Nor is one whose current version is not startable in the tasklist
    (camunda:isStartableInTasklist="false"): Camunda 7's Tasklist lists only the
    definitions that are (ProcessDefinitionQuery.startableInTasklist()).
    """
    startable = []
    for version in version_list_current().filter(startable_in_tasklist=True):
        process = spec_for(version)
        if not can_start(user, process) or process_hand_start_refusal(process):
            continue
        start = process.meta.start
        startable.append(
            StartableProcess(
                key=version.definition.key,
                name=version.definition.name or version.definition.key,
                version=version.number,
                documentation=start.documentation if start else "",
                lane=(start.lane or "") if start else "",
            )
        )
    return startable


def process_start_form_for_user(
    *, user: Any, key: str, number: int | None = None, tasklist: bool = False
) -> tuple[ProcessVersion, Any]:
    """Return a version of `key` (the current one when number is None) and its
    start event, if the user may start it (from the start page: `tasklist`).

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process or version.
        StartNotAllowed: the user may not start it.
        NotStartableInTasklist: `tasklist`, and the version is not startable there.
        MessageStartOnly, StartOnlyByEvent: no one starts it by hand.
    """
    version = version_get(key=key, number=number)
    process = spec_for(version)
    if not can_start(user, process):
        raise StartNotAllowed(f"You may not start '{process.meta.name}'.")
    if tasklist:
        process_tasklist_start_check(version)
    refusal = process_hand_start_refusal(process)
    if refusal is not None:
        raise refusal
    return version, process.meta.start


@dataclass(frozen=True, slots=True)
class StartForm:
    """What a person fills to start a case of a process version."""

    key: str
    name: str
    version: int
    documentation: str
    form: list[dict[str, Any]]  # the start event's formData fields (form_to_json)
    form_js: dict[str, Any] | None  # its Camunda Form, shown instead of `form`


def process_start_form_get(
    *, user: Any, key: str, number: int | None = None
) -> StartForm:
    """Return the start form of a version of `key` (the current one by default),
    as Camunda 7's deployed-start-form, to a user who may start it.

    Raises:
        DefinitionNotFound, VersionNotFound: unknown process or version.
        StartNotAllowed: the user may not start it.
        MessageStartOnly, StartOnlyByEvent: no one starts it by hand.
    """
    version, start = process_start_form_for_user(user=user, key=key, number=number)
    return StartForm(
        key=version.definition.key,
        name=version.definition.name or version.definition.key,
        version=version.number,
        documentation=start.documentation if start is not None else "",
        form=form_to_json(start.form) if start is not None else [],
        form_js=start_form_js(version, start),
    )


def process_tasklist_start_check(version: ProcessVersion) -> None:
    """Refuse to start `version` from the start page when its process is not
    startable in the tasklist (camunda:isStartableInTasklist other than "true",
    as Camunda 7's BpmnParse.isStartable reads it).

    Camunda 7 starts such a definition through its REST API and by its events,
    never from Tasklist: so POST /api/v1/cases/ still starts it.

    Raises:
        NotStartableInTasklist: naming the process and how it is started.
    """
    if version.startable_in_tasklist:
        return
    name = version.definition.name or version.definition.key
    raise NotStartableInTasklist(
        f"'{name}' is not started from the start page: its diagram marks it not "
        'startable in the tasklist (camunda:isStartableInTasklist="false"). '
        "Its cases are started by another system, through the API "
        "(POST /api/v1/cases/).",
        details={"key": version.definition.key, "version": version.number},
    )


def process_hand_start_refusal(process: CompiledProcess) -> EngineError | None:
    """Return why nobody may start the process by hand, or None when one may.

    A process whose every start event waits for a message, a signal or a timer
    starts only by that event (its case would idle at the start event).
    """
    kinds = event_starts_only(process)
    name = process.meta.name
    if kinds == ("message",):
        return MessageStartOnly(
            f"'{name}' starts only when its message arrives; send the message "
            "(POST /api/v1/messages/) to start a case.",
            details={"key": process.key},
        )
    if kinds:
        how = (
            " (a conditional one: POST /api/v1/conditions/ with the variables)"
            if "conditional" in kinds
            else ""
        )
        return StartOnlyByEvent(
            f"'{name}' starts only by its {' or '.join(kinds)} start event{how}; "
            "it cannot be started by hand.",
            details={"key": process.key, "starts": list(kinds)},
        )
    return None
