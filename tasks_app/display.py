"""How case values read on the pages: Yes/No, JSON for containers, short summaries."""

import json
from collections.abc import Mapping
from typing import Any

SUMMARY_LENGTH = 160


def display_value(value: Any) -> str:
    """Return a case variable as text: Yes/No for booleans, JSON for containers."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def data_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return (name, text) rows of case variables."""
    return [(key, display_value(value)) for key, value in data.items()]


def payload_summary(details: Mapping[str, Any]) -> str:
    """Return an event's details as one line of "name: value", shortened."""
    shown = {k: v for k, v in details.items() if v not in ("", None, [])}
    text = ", ".join(f"{k}: {display_value(v)}" for k, v in shown.items())
    if len(text) <= SUMMARY_LENGTH:
        return text
    return text[: SUMMARY_LENGTH - 1] + "…"
