"""Say in one plain sentence what stopped a case (the technical text is the detail)."""

import re

from engine.models import Incident

_NAME = re.compile(r"name '([^']+)' is not defined")
_KEY = re.compile(r"KeyError: '([^']+)'")
_HINT = re.compile(r"\s*Did you mean .*$")
_EXCEPTION = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Exceeded): ?")


def _script_reason(error_type: str, message: str) -> str:
    if name := _NAME.search(message):
        return f"it uses “{name.group(1)}”, which is not a variable of the case"
    if key := _KEY.search(message):
        return f"it looks up “{key.group(1)}”, which is missing"
    if "ZeroDivisionError" in f"{error_type} {message}":
        return "it divides by zero"
    # Keep the last reason, without Python exception names or quoted code.
    reason = _HINT.sub("", _EXCEPTION.split(message)[-1]).strip()
    return reason.rstrip(".") or "an error in the script"


def _is_condition(incident: Incident) -> bool:
    return "expression" in incident.message.lower()


def incident_skippable(incident: Incident) -> bool:
    """Return whether the failed step can be completed with data (service or script).

    A message incident can be skipped too: the message is dropped.
    """
    if incident.kind in (Incident.Kind.SERVICE, Incident.Kind.MESSAGE):
        return True
    return incident.kind == Incident.Kind.SCRIPT and not _is_condition(incident)


def incident_sentence(incident: Incident) -> str:
    """Return what went wrong, for a person who does not read Python tracebacks."""
    step = f"“{incident.element_name or incident.bpmn_id or 'unnamed'}”"
    if incident.kind == Incident.Kind.SERVICE:
        tries = len(incident.attempts)
        after = f" after {tries} attempt{'s' if tries != 1 else ''}" if tries else ""
        reason = _EXCEPTION.split(incident.message)[-1].strip().rstrip(".")
        return f"The service call of step {step} failed{after}: {reason}."
    if incident.kind == Incident.Kind.MESSAGE:
        name = incident.detail.get("name", "")
        reason = incident.detail.get("reason") or "no single case takes it"
        return (
            f"The message “{name}” sent by step {step} reached no case: {reason}; "
            "a message goes to exactly one case."
        )
    if incident.kind == Incident.Kind.ENGINE:
        return f"Step {step} went past a safety limit of the engine: {incident.message}"
    what = "condition" if _is_condition(incident) else "script"
    reason = _script_reason(incident.error_type, incident.message)
    return f"The {what} of step {step} failed: {reason}."
