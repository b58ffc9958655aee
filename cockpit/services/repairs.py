"""Repairs by process admins: suspend and resume a case, edit its variables, move it.

Each runs in the case's locked transaction through engine's advance core and is
audited with who, why, and the state before and after.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction

from audit.actions import AuditAction
from engine import permissions as case_permissions
from engine.errors import CaseBusy, CaseNotFound, CaseNotRunning
from engine.models import Case, ServiceCall
from engine.selectors import case_get
from engine.services import (
    case_audit,
    case_conditions_evaluate,
    case_elements_modify,
    case_lock,
    case_timer_wake_queue,
    case_variables_set,
    service_calls_enqueue,
)
from processes.selectors import version_get
from tasks_app.services import inbox_case_status_changed

from ..errors import (
    CaseDataInvalid,
    CaseNotSuspended,
    CockpitNotAllowed,
)
from ..permissions import can_repair_case


def case_repairable(
    *, user: Any, case_id: UUID | str, allow_suspended: bool = True
) -> Case:
    """Lock the case and check the user may repair it."""
    case = case_lock(case_id=case_id, allow_suspended=allow_suspended)
    if not case_permissions.can_view_case(user, case):
        raise CaseNotFound("No such case.")
    if not can_repair_case(user):
        raise CockpitNotAllowed("Only a process admin may repair a case.")
    return case


def case_repair_check(*, user: Any, case_id: UUID | str) -> None:
    """Refuse before reading a request: 404 to who may not see the case, 403 to who
    may see it but is no process admin (the locked repair checks again).

    Raises:
        CaseNotFound, CockpitNotAllowed.
    """
    case_get(user=user, case_id=case_id)
    if not can_repair_case(user):
        raise CockpitNotAllowed("Only a process admin may repair a case.")


def version_repair_check(*, user: Any) -> None:
    """Refuse anyone but a process admin before reading the request.

    Raises:
        CockpitNotAllowed.
    """
    if not can_repair_case(user):
        raise CockpitNotAllowed("Only a process admin may repair cases.")


def _set_status(
    case: Case, status: Case.Status, *, user: Any, action: AuditAction, reason: str
) -> None:
    before = case.status
    case.status = status
    case.save(update_fields=["status"])
    inbox_case_status_changed(case=case)
    case_audit(
        case,
        user,
        action,
        reason=reason,
        before={"status": before},
        after={"status": case.status},
    )


@transaction.atomic
def case_suspend(*, user: Any, case_id: UUID | str, reason: str) -> Case:
    """Suspend a running case: it refuses every command, fires no timers and runs
    no service calls until resumed.

    Raises:
        CaseNotFound, CockpitNotAllowed, CaseSuspended, CaseNotRunning, CaseBusy.
    """
    case = case_repairable(user=user, case_id=case_id, allow_suspended=False)
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    _set_status(
        case,
        Case.Status.SUSPENDED,
        user=user,
        action=AuditAction.CASE_SUSPENDED,
        reason=reason,
    )
    return case


@transaction.atomic
def case_resume(*, user: Any, case_id: UUID | str, reason: str) -> Case:
    """Resume a suspended case; its waiting service calls are sent again, its
    waiting conditional events are evaluated (its variables may have changed),
    and the wake of its next timer is queued (one that came due meanwhile
    fires at once; the wake that came while it was suspended did nothing).

    Raises:
        CaseNotFound, CockpitNotAllowed, CaseNotSuspended, CaseBusy.
    """
    case = case_repairable(user=user, case_id=case_id)
    if case.status != Case.Status.SUSPENDED:
        raise CaseNotSuspended(
            f"The case is {case.get_status_display().lower()}, not suspended."
        )
    _set_status(
        case,
        Case.Status.RUNNING,
        user=user,
        action=AuditAction.CASE_RESUMED,
        reason=reason,
    )
    pending = list(
        ServiceCall.objects.filter(
            case=case, status=ServiceCall.Status.PENDING
        ).values_list("pk", flat=True)
    )
    if pending:
        transaction.on_commit(lambda: service_calls_enqueue(pending))
    case_timer_wake_queue(case)
    # Variables set while it was suspended may make a conditional event true.
    case_conditions_evaluate(case=case, actor=user)
    return case


def _check_change(
    data: dict[str, Any], values: dict[str, Any], remove: list[str]
) -> None:
    if not values and not remove:
        raise CaseDataInvalid(
            "Nothing to change: give 'set' or 'unset'.",
            details={"fields": {"set": ["Empty."]}},
        )
    both = sorted(set(values) & set(remove))
    if both:
        raise CaseDataInvalid(
            f"Both set and unset: {', '.join(both)}.",
            details={"fields": {"unset": [f"Also in 'set': {', '.join(both)}."]}},
        )
    unknown = sorted(name for name in remove if name not in data)
    if unknown:
        raise CaseDataInvalid(
            f"The case has no variable {', '.join(unknown)}.",
            details={
                "fields": {"unset": [f"Not a case variable: {', '.join(unknown)}."]}
            },
        )


@transaction.atomic
def case_data_change(
    *,
    user: Any,
    case_id: UUID | str,
    set: dict[str, Any],  # noqa: A002 - the API's own word
    unset: list[str],
    reason: str,
) -> Case:
    """Set and unset variables of a running or suspended case; audit before/after.

    Raises:
        CaseNotFound, CockpitNotAllowed, CaseNotRunning, CaseDataInvalid, CaseBusy.
    """
    case = case_repairable(user=user, case_id=case_id)
    if case.status not in (Case.Status.RUNNING, Case.Status.SUSPENDED):
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    before = dict(case.data)
    _check_change(before, set, unset)
    after = case_variables_set(case=case, actor=user, values=set, remove=unset)
    case_audit(
        case,
        user,
        AuditAction.CASE_DATA_CHANGED,
        reason=reason,
        set=set,
        unset=unset,
        before=before,
        after=after,
    )
    return case


@transaction.atomic
def case_modify(
    *,
    user: Any,
    case_id: UUID | str,
    instructions: list[tuple[str, str]],
    reason: str,
    skip_custom_listeners: bool = False,
) -> Case:
    """Move a running case (Camunda's process instance modification), atomically.

    `instructions` are (kind, element) pairs applied in order: "cancel" every
    active instance of an element, "start_before" or "start_after" an element.
    Custom listeners run (the cancelled elements' delete and end listeners, the
    started ones' start listeners) unless `skip_custom_listeners`, as Camunda's
    ProcessInstanceModificationBuilder.execute(skipCustomListeners, ...).
    Audited as `case.modified` with the reason and the active elements before and
    after; the open tasks are projected again.

    Raises:
        CaseNotFound, CockpitNotAllowed, CaseSuspended, CaseNotRunning, CaseBusy,
        ModificationRefused (nothing changed).
    """
    case = case_repairable(user=user, case_id=case_id, allow_suspended=False)
    if not case.is_running:
        raise CaseNotRunning(f"The case is {case.get_status_display().lower()}.")
    moved = case_elements_modify(
        case=case,
        actor=user,
        instructions=instructions,
        skip_custom_listeners=skip_custom_listeners,
    )
    case_audit(
        case,
        user,
        AuditAction.CASE_MODIFIED,
        reason=reason,
        instructions=[{kind: element} for kind, element in instructions],
        skip_custom_listeners=skip_custom_listeners,
        before={"active": moved.before},
        after={"active": moved.after, "status": case.status},
    )
    return case


@dataclass(frozen=True, slots=True)
class BulkResult:
    """The cases a version-wide repair changed, and those busy at the time."""

    changed: list[str]
    busy: list[str]


def version_cases_suspend(
    *, user: Any, key: str, number: int, reason: str, resume: bool = False
) -> BulkResult:
    """Suspend (or resume) every running (or suspended) case of a version.

    Each case changes in its own locked transaction and is audited on its own; a
    case that stays locked too long is reported as busy, not waited for.

    Raises:
        CockpitNotAllowed, DefinitionNotFound, VersionNotFound.
    """
    version_repair_check(user=user)
    version = version_get(key=key, number=number)
    status = Case.Status.SUSPENDED if resume else Case.Status.RUNNING
    change = case_resume if resume else case_suspend
    ids = Case.objects.filter(version=version, status=status).values_list(
        "pk", flat=True
    )
    changed, busy = [], []
    for case_id in list(ids):
        try:
            change(user=user, case_id=case_id, reason=reason)
        except CaseBusy:
            busy.append(str(case_id))
        else:
            changed.append(str(case_id))
    return BulkResult(changed=changed, busy=busy)
