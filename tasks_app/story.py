"""A case in words for people: its outcome, and each audit event as a sentence.

"manager1 rejected “Manager approval”: Comment “too expensive”": field labels
instead of variable names (from the process's forms), the end event a finished
case reached as its outcome. Built from the case's audit timeline
(engine.selectors.case_timeline), so it says what the audit log holds.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine import selectors as case_selectors
from engine.form_validation import form_js_labels
from engine.models import Case
from engine.selectors import TimelineEntry
from engine.spec_cache import spec_for

from .display import display_value
from .models import HumanTask

QUOTE_CHARS = 300  # of a comment or a text value quoted in a sentence
_APPROVAL = re.compile(r"approv", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a finished case ended."""

    status: str  # completed | cancelled
    text: str  # "Purchase approved", "Cancelled by requester: duplicate"


def _quote(value: Any) -> str:
    text = display_value(value)
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    return f"“{text}”"


def _labels(case: Case) -> dict[str, str]:
    process = spec_for(case.version)
    labels: dict[str, str] = {}
    for meta in (process.meta.start, *process.task_meta.values()):
        for field in meta.form if meta is not None else ():
            labels.setdefault(field.id, field.label or field.id)
    # Each task's own fields and Camunda Form, as the version it ran gave them
    # (a child's task: the called version its child ran, not in `process`).
    forms = HumanTask.objects.filter(case=case).values_list("form", "form_js")
    for fields, schema in forms:
        for field in fields or ():
            labels.setdefault(field["id"], field.get("label") or field["id"])
        for key, label in form_js_labels(schema or {}).items():
            labels.setdefault(key, label)  # a nested key shows under its top key
    return labels


def _answers(data: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, str]:
    """Return (verb, details) for a completed task's data."""
    verb, parts = "completed", []
    for key, value in data.items():
        if isinstance(value, bool) and _APPROVAL.search(key) and verb == "completed":
            verb = "approved" if value else "rejected"
            continue
        if value in ("", None, [], {}):
            continue
        shown = _quote(value) if isinstance(value, str) else display_value(value)
        parts.append(f"{labels.get(key, key)} {shown}")
    return verb, "; ".join(parts)


def _names(values: Any) -> str:
    return ", ".join(str(v) for v in values or ()) or "nobody"


Sentence = Callable[[TimelineEntry, str, Mapping[str, str]], str]


def _completed(entry: TimelineEntry, step: str, labels: Mapping[str, str]) -> str:
    verb, details = _answers(entry.details.get("data") or {}, labels)
    return f"{entry.actor} {verb} {step}" + (f": {details}" if details else "")


def _offered(entry: TimelineEntry, step: str, labels: Mapping[str, str]) -> str:
    details = entry.details
    if details.get("assignee"):
        return f"{step} waits for {details['assignee']}"
    people = [
        *(details.get("candidate_groups") or ()),
        *(details.get("candidate_users") or ()),
    ]
    return f"{step} waits for {_names(people)}"


_SENTENCES: dict[str, Sentence] = {
    "case.started": lambda e, s, _: f"{e.actor} started the case",
    "case.completed": lambda e, s, _: "The case finished",
    "case.cancelled": lambda e, s, _: (
        f"{e.actor} cancelled the case"
        + (f": {_quote(e.details['reason'])}" if e.details.get("reason") else "")
    ),
    "task.created": _offered,
    "task.claimed": lambda e, s, _: f"{e.actor} took {s}",
    "task.unclaimed": lambda e, s, _: f"{e.actor} gave {s} back to the group",
    "task.assigned": lambda e, s, _: (
        f"{e.actor} assigned {s} to {e.details.get('assignee')}"
    ),
    "task.delegated": lambda e, s, _: (
        f"{e.actor} asked {e.details.get('delegate')} to answer {s}"
    ),
    "task.resolved": lambda e, s, _: (
        f"{e.actor} answered {s} for {e.details.get('owner')}"
    ),
    "task.completed": _completed,
    "task.cancelled": lambda e, s, _: f"{s} was withdrawn",
    "comment.added": lambda e, s, _: (
        f"{e.actor} commented"
        + (f" on {s}" if s else "")
        + f": {_quote(e.details.get('text', ''))}"
    ),
    "attachment.added": lambda e, s, _: (
        f"{e.actor} added the file {_quote(e.details.get('file', ''))}"
    ),
    "incident.opened": lambda e, s, _: f"A problem stopped {s}",
    "error.uncaught": lambda e, s, _: (
        f"Nothing caught the error {_quote(e.details.get('code', ''))} at {s}: "
        "that path ended there"
    ),
    "incident.resolved": lambda e, s, _: f"The problem at {s} was resolved",
    "timer.fired": lambda e, s, _: f"The timer {s} fired",
    "call.started": lambda e, s, _: f"{s} started {e.details.get('called')}",
    "message.delivered": lambda e, s, _: "A message arrived",
    "receive.signalled": lambda e, s, _: f"{e.actor} continued {s}",
    "message.sent_outside": lambda e, s, _: (
        f"The message {s} went to {e.details.get('to')}"
    ),
}


def _is_end(entry: TimelineEntry) -> bool:
    # The adapter's spec class names: EndEvent, ScopedEndEvent, ...
    return str(entry.details.get("kind") or "").endswith("EndEvent")


def _sentence(entry: TimelineEntry, labels: Mapping[str, str]) -> str:
    step = f"“{entry.element}”" if entry.element else ""
    if entry.action == "element.completed":
        if _is_end(entry):
            return f"The case reached {step}"
        return ""
    write = _SENTENCES.get(entry.action)
    return write(entry, step, labels) if write else ""


def case_story(*, case: Case) -> tuple[Outcome | None, list[dict[str, Any]]]:
    """Return the case's outcome (when finished) and its timeline with sentences.

    Each timeline item is the audit entry's fields plus `words` (the sentence, or
    "" for an engine step people need not read).
    """
    labels = _labels(case)
    timeline = case_selectors.case_timeline(case=case)
    items = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "element": e.element,
            "details": e.details,
            "words": _sentence(e, labels),
        }
        for e in timeline
    ]
    return _outcome(case, timeline), items


def _outcome(case: Case, timeline: list[TimelineEntry]) -> Outcome | None:
    if case.status == Case.Status.CANCELLED:
        cancel = next(
            (e for e in reversed(timeline) if e.action == "case.cancelled"), None
        )
        reason = cancel.details.get("reason") if cancel else ""
        who = f" by {cancel.actor}" if cancel else ""
        return Outcome(
            "cancelled", f"Cancelled{who}" + (f": {reason}" if reason else "")
        )
    if case.status != Case.Status.COMPLETED:
        return None
    end = next(
        (
            e
            for e in reversed(timeline)
            if e.action == "element.completed" and _is_end(e)
        ),
        None,
    )
    return Outcome("completed", end.element if end and end.element else "Completed")
