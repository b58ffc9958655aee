"""Start cases by their conditional start events: Camunda 7's condition evaluation.

`condition_evaluate` is RuntimeService.createConditionEvaluation()
.evaluateStartConditions() (REST POST /condition), as EvaluateStartConditionCmd
and DefaultConditionHandler run it:

* the conditional start events evaluated are those of the latest version of
  every process, or of the one process named (`key`, or the version given);
  none at all is an error (Camunda 7: "No subscriptions were found during
  evaluation of the conditional start events"), while none holding starts
  nothing (an empty list);
* each is evaluated on the given variables only; one whose
  camunda:variableName is not among them is not evaluated; a name the
  condition does not know is false (engine.spiff.conditional_starts);
* every one that holds starts one case there, with those variables and the
  business key;
* the sender must be allowed to start every process that would start, else
  the whole evaluation is refused and nothing starts (the command checks
  CREATE_INSTANCE on each before it starts any): the process's declared
  starters decide, as for a message or signal (`case_start_by_event_check`).

Every case starts in one transaction, each audited as `case.started` with the
start event (`condition`) that started it.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from engine.errors import ActionNotAllowed, FormInvalid, NoConditionalStart
from engine.idempotency import body_fingerprint, request_replayed
from engine.models import Case, CaseStarted, ConditionEvaluation
from engine.selectors import version_list_conditional_starts
from engine.spec_cache import spec_for
from engine.spiff import (
    ConditionNotEvaluable,
    conditional_start_ids,
    workflow_conditions_holding,
    workflow_start_by_condition,
)
from processes.models import ProcessVersion

from .cases import case_start_at_event, case_start_by_event_check
from .script_host import case_scripts

EVALUATE_CONDITIONS = "engine.evaluate_conditions"


def _holding(
    *, user: Any, versions: list[ProcessVersion], variables: Mapping[str, Any]
) -> list[tuple[ProcessVersion, str]]:
    """Return (version, start event id) of every conditional start that holds."""
    found = []
    for version in versions:
        process = spec_for(version)
        try:
            with case_scripts(Case(version=version, started_by=user), user):
                held = workflow_conditions_holding(process, data=variables)
        except ConditionNotEvaluable as exc:
            raise FormInvalid(
                f"The condition of the start event '{exc.bpmn_id}' of "
                f"'{process.meta.name}' cannot be evaluated on these variables: "
                f"{exc.reason}. Nothing was started.",
                details={
                    "fields": {"variables": [exc.reason]},
                    "process": version.definition.key,
                    "element": exc.bpmn_id,
                },
            ) from None
        found += [(version, bpmn_id) for bpmn_id in held]
    return found


def _start_one(
    *,
    user: Any,
    version: ProcessVersion,
    bpmn_id: str,
    variables: Mapping[str, Any],
    business_key: str,
) -> Case:
    case = Case(version=version, started_by=user, business_key=business_key)
    case.started = CaseStarted()  # what the answer shows
    return case_start_at_event(
        case,
        user,
        lambda: workflow_start_by_condition(
            spec_for(version), bpmn_id=bpmn_id, data=variables
        ),
        data=dict(variables),
        audit={
            "condition": bpmn_id,
            **({"business_key": business_key} if business_key else {}),
        },
    )


def _replayed(record: ConditionEvaluation) -> list[Case]:
    ids = [UUID(pk) for pk in record.started]
    cases = Case.objects.select_related("version__definition", "started_by").in_bulk(
        ids
    )
    return [cases[pk] for pk in ids if pk in cases]


def condition_evaluate(
    *,
    user: Any,
    variables: Mapping[str, Any],
    business_key: str = "",
    key: str = "",
    version: ProcessVersion | None = None,
    idempotency_key: str | None = None,
) -> list[Case]:
    """Evaluate the conditional start events on `variables`; return the cases started.

    `key` (or `version`) evaluates only that process's (that version's)
    conditional start events. A repeated `idempotency_key` (per user) returns
    the cases the first request started and starts nothing.

    Raises:
        ActionNotAllowed: the user lacks `engine.evaluate_conditions`.
        DefinitionNotFound: no process has the key.
        NoConditionalStart: no conditional start event to evaluate.
        FormInvalid: a condition failed on the variables (nothing started).
        StartNotAllowed: a case would start that the user may not start.
        IdempotencyKeyReused: the key was used for a different request.
    """
    if not user.has_perm(EVALUATE_CONDITIONS):
        raise ActionNotAllowed("You may not start cases by their conditions.")
    fingerprint = body_fingerprint(
        {
            "variables": variables,
            "business_key": business_key,
            "process": key,
            "version": str(version.pk) if version is not None else "",
        }
    )
    if idempotency_key:
        earlier = request_replayed(
            ConditionEvaluation,
            sender=user,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        if earlier is not None:
            return _replayed(earlier)
    if version is not None:
        versions = [version] if conditional_start_ids(spec_for(version)) else []
        key = version.definition.key
    else:
        versions = version_list_conditional_starts(key=key)
    if not versions:
        # Camunda 7: "No subscriptions were found during evaluation of the
        # conditional start events" (or the definition "does not declare" one).
        owner = f"'{key}' has" if key else "No deployed process has"
        raise NoConditionalStart(
            f"{owner} no conditional start event to evaluate. Nothing was started.",
            details={"process": key} if key else {},
        )
    holding = _holding(user=user, versions=versions, variables=variables)
    case_start_by_event_check(
        user=user,
        versions=[v for v, _ in holding],
        event="the condition evaluation",
    )
    try:
        with transaction.atomic():
            record = None
            if idempotency_key:
                record = ConditionEvaluation.objects.create(
                    sender=user,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                )
            cases = [
                _start_one(
                    user=user,
                    version=v,
                    bpmn_id=bpmn_id,
                    variables=variables,
                    business_key=business_key,
                )
                for v, bpmn_id in holding
            ]
            if record is not None:
                record.started = [str(case.pk) for case in cases]
                record.save(update_fields=["started"])
    except IntegrityError:
        earlier = (
            request_replayed(
                ConditionEvaluation,
                sender=user,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
            if idempotency_key
            else None
        )
        if earlier is None:  # the conflict was not this key's
            raise
        return _replayed(earlier)
    return cases
