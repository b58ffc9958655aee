"""Migrating running cases to another version of their process (Camunda 7 semantics).

A dry run answers at once; a real run is a `CaseMigration` the worker carries out
case by case, each in its own locked transaction that also records its outcome
(progress, and no case moved twice when the task is redelivered).
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from engine.errors import CaseBusy, CaseNotFound
from engine.models import Case
from engine.services import case_audit, case_migrate
from processes.selectors import version_get
from tasks_app.models import HumanTask

from ..errors import CockpitNotAllowed, MigrationInvalid, MigrationNotFound
from ..models import CaseMigration
from ..permissions import can_repair_case
from .repairs import case_repairable

MIGRATION_TASK = "cockpit.migration_run"  # by name: cockpit.tasks imports this module


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """Which cases moved (or would move, in a dry run), which cannot and why."""

    migrated: list[str]
    refused: list[dict[str, Any]]
    busy: list[str]
    dry_run: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    source: Any
    target: Any
    mapping: dict[str, str]
    case_ids: list[str]


def _mapping_check(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v
        for k, v in mapping.items()
    ):
        raise MigrationInvalid(
            'The mapping must be an object of element ids: {"old": "new"}.',
            details={"fields": {"mapping": ["Give old element id: new element id."]}},
        )
    return mapping


def migration_allowed_check(user: Any) -> None:
    """Refuse anyone but a process admin (before reading the plan).

    Raises:
        CockpitNotAllowed.
    """
    if not can_repair_case(user):
        raise CockpitNotAllowed("Only a process admin may migrate cases.")


def _plan(
    *,
    user: Any,
    key: str,
    from_version: int,
    to_version: int,
    mapping: Any,
    case_ids: list[str] | None,
) -> _Plan:
    migration_allowed_check(user)
    mapping = _mapping_check(mapping)
    source = version_get(key=key, number=from_version)
    target = version_get(key=key, number=to_version)
    if source.pk == target.pk:
        raise MigrationInvalid(
            "The case is already on that version: choose another to_version.",
            details={"fields": {"to_version": ["Same as from_version."]}},
        )
    if case_ids is None:
        running = (Case.Status.RUNNING, Case.Status.SUSPENDED)
        case_ids = [
            str(pk)
            for pk in Case.objects.filter(
                version=source, status__in=running
            ).values_list("pk", flat=True)
        ]
    return _Plan(source, target, mapping, [str(c) for c in case_ids])


def _refusal(case_id: str, message: str, element_id: str = "") -> dict[str, Any]:
    return {
        "case": case_id,
        "problems": [{"element_id": element_id, "message": message}],
    }


def _outcomes(row: CaseMigration) -> set[str]:
    return {*row.migrated, *row.busy, *(r["case"] for r in row.refused)}


def _record(row: CaseMigration, case_id: str, refusal: Any) -> None:
    """List the case's outcome on the migration row the caller locked."""
    if refusal == "busy":
        row.busy.append(case_id)
    elif refusal is None:
        row.migrated.append(case_id)
    else:
        row.refused.append(refusal)
    row.save(update_fields=["migrated", "refused", "busy"])


@transaction.atomic
def _migrate_one(
    *,
    user: Any,
    case_id: str,
    plan: _Plan,
    dry_run: bool,
    reason: str,
    migration: CaseMigration | None = None,
) -> dict[str, Any] | None:
    """Move one case in its own locked transaction; return its refusal or None.

    With `migration`, its row is locked first (before the case: one order for
    every run) and a case it already lists is left alone, so two runs of one
    migration (a re-sent task while the first still works) move no case twice.
    """
    row = None
    if migration is not None:
        row = CaseMigration.objects.select_for_update().get(pk=migration.pk)
        if case_id in _outcomes(row):
            return None
    refusal = _move(
        user=user, case_id=case_id, plan=plan, dry_run=dry_run, reason=reason
    )
    if row is not None:
        _record(row, case_id, refusal)
    return refusal


def _move(
    *, user: Any, case_id: str, plan: _Plan, dry_run: bool, reason: str
) -> dict[str, Any] | None:
    try:
        case = case_repairable(user=user, case_id=case_id)
    except CaseNotFound:
        return _refusal(case_id, "No such case.")
    source, target = plan.source, plan.target
    if case.version_id != source.pk:
        return _refusal(case_id, f"The case runs on version {case.version.number}.")
    if case.status not in (Case.Status.RUNNING, Case.Status.SUSPENDED):
        return _refusal(case_id, f"The case is {case.get_status_display().lower()}.")
    problems = case_migrate(
        case=case, actor=user, target=target, mapping=plan.mapping, dry_run=dry_run
    )
    if problems:
        return {
            "case": case_id,
            "problems": [
                {"element_id": p.element_id, "message": p.message} for p in problems
            ],
        }
    if dry_run:
        return None
    for (
        old,
        new,
    ) in plan.mapping.items():  # Camunda: the task keeps its id, its key moves
        HumanTask.objects.filter(
            case=case, status=HumanTask.Status.OPEN, bpmn_id=old
        ).update(bpmn_id=new)
    case_audit(
        case,
        user,
        AuditAction.CASE_MIGRATED,
        reason=reason,
        mapping=plan.mapping,
        before={"version": source.number},
        after={"version": target.number},
    )
    return None


def cases_migrate_check(
    *,
    user: Any,
    key: str,
    from_version: int,
    to_version: int,
    mapping: Any,
    case_ids: list[str] | None = None,
) -> MigrationResult:
    """Dry run: say which cases can move and why the others cannot; change nothing.

    Raises:
        CockpitNotAllowed, DefinitionNotFound, VersionNotFound, MigrationInvalid.
    """
    plan = _plan(
        user=user,
        key=key,
        from_version=from_version,
        to_version=to_version,
        mapping=mapping,
        case_ids=case_ids,
    )
    result = MigrationResult([], [], [], dry_run=True)
    for case_id in plan.case_ids:
        try:
            refusal = _migrate_one(
                user=user, case_id=case_id, plan=plan, dry_run=True, reason=""
            )
        except CaseBusy:
            result.busy.append(case_id)
        else:
            if refusal is None:
                result.migrated.append(case_id)
            else:
                result.refused.append(refusal)
    return result


def migration_request(
    *,
    user: Any,
    key: str,
    from_version: int,
    to_version: int,
    mapping: Any,
    reason: str,
    case_ids: list[str] | None = None,
) -> CaseMigration:
    """Ask the worker to move cases of `from_version` onto `to_version`.

    Without `case_ids`, every running or suspended case of `from_version` now.
    Each case then moves, or is refused with its located problems, in its own
    locked transaction, audited as `case.migrated` (who, why, versions before
    and after); a refused case stays on its version untouched.

    Raises:
        CockpitNotAllowed, DefinitionNotFound, VersionNotFound, MigrationInvalid.
    """
    plan = _plan(
        user=user,
        key=key,
        from_version=from_version,
        to_version=to_version,
        mapping=mapping,
        case_ids=case_ids,
    )
    migration = CaseMigration.objects.create(
        process_key=key,
        from_version=from_version,
        to_version=to_version,
        mapping=plan.mapping,
        reason=reason,
        requested_by=user,
        case_ids=plan.case_ids,
    )
    transaction.on_commit(
        lambda: current_app.send_task(MIGRATION_TASK, args=[str(migration.pk)])
    )
    return migration


def migration_run(*, migration_id: UUID) -> None:
    """Move every case of the migration not moved yet (the worker's side)."""
    migration = CaseMigration.objects.select_related("requested_by").get(
        pk=migration_id
    )
    if migration.status == CaseMigration.Status.FINISHED:
        return
    CaseMigration.objects.filter(pk=migration.pk).update(
        status=CaseMigration.Status.RUNNING
    )
    plan = _plan(
        user=migration.requested_by,
        key=migration.process_key,
        from_version=migration.from_version,
        to_version=migration.to_version,
        mapping=migration.mapping,
        case_ids=migration.case_ids,
    )
    done = _outcomes(migration)
    for case_id in plan.case_ids:
        if case_id in done:
            continue  # a redelivered run: this case already has its outcome
        try:
            _migrate_one(
                user=migration.requested_by,
                case_id=case_id,
                plan=plan,
                dry_run=False,
                reason=migration.reason,
                migration=migration,
            )
        except CaseBusy:
            with transaction.atomic():
                row = CaseMigration.objects.select_for_update().get(pk=migration.pk)
                if case_id not in _outcomes(row):
                    _record(row, case_id, "busy")
    CaseMigration.objects.filter(pk=migration.pk).update(
        status=CaseMigration.Status.FINISHED, finished_at=timezone.now()
    )


def migration_get(*, user: Any, key: str, migration_id: UUID | str) -> CaseMigration:
    """Return one migration of the process with its progress (process admins).

    Raises:
        CockpitNotAllowed, MigrationNotFound.
    """
    if not can_repair_case(user):
        raise CockpitNotAllowed("Only a process admin may see case migrations.")
    try:
        return CaseMigration.objects.get(pk=migration_id, process_key=key)
    except (CaseMigration.DoesNotExist, ValueError, ValidationError):
        raise MigrationNotFound("No such migration.") from None


def migrations_sweep(*, older_than: timedelta) -> list[str]:
    """Send again the migrations still queued or running after `older_than`.

    A lost broker message (or a worker that died mid-run) leaves its row
    behind; running it again moves only the cases without an outcome yet.
    """
    stale = timezone.now() - older_than
    waiting = CaseMigration.objects.filter(
        status__in=(CaseMigration.Status.QUEUED, CaseMigration.Status.RUNNING),
        requested_at__lt=stale,
    )
    ids = [str(pk) for pk in waiting.values_list("pk", flat=True)]
    for migration_id in ids:
        current_app.send_task(MIGRATION_TASK, args=[migration_id])
    return ids
