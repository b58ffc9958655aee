"""Write docs/bpmn-coverage.md from the upload checker's own tables (support.py).

The page lists every BPMN 2.0 element and event definition, every
Camunda 7 / Operaton attribute and extension element, and every SpiffArena
extension the upload knows, each marked `runs` or `refused at upload` with the
reason the upload gives. Anything else in the Camunda, Operaton or SpiffArena
namespaces is refused, since the engine would ignore it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import ref_checks, support
from .support import REFUSED, Row

HEADER = """# BPMN coverage

<!-- Generated from engine/spiff/support.py by `python manage.py bpmn_coverage`;
     do not edit: tests/processes/test_upload_support.py fails when it differs. -->

What Laneway runs and what the upload refuses. Every row comes from the table the
upload checker itself uses (`engine/spiff/support.py`), so this page cannot drift
from the checks. **runs** means the construct deploys and runs as BPMN 2.0 and
Camunda 7 say (the note says where Laneway's reading is its own); **refused at
upload** means the upload answers with the element id, the line and this reason.
A Camunda, Operaton or SpiffArena attribute or extension element that is not
listed here is refused too: the engine would ignore it.
"""


def _status(row: Row) -> str:
    return "refused at upload" if row.status == REFUSED else "runs"


def _note(row: Row) -> str:
    parts = [row.note] if row.note else []
    if row.on:
        parts.append(f"only on {', '.join(row.on)}")
    if row.values:
        parts.append(f"values: {', '.join(row.values)}")
    return "; ".join(parts).replace("|", "\\|")


def _table(title: str, label: str, rows: Iterable[tuple[str, Row]]) -> str:
    lines = [f"## {title}", "", f"| {label} | status | notes |", "|---|---|---|"]
    lines += [f"| {name} | {_status(row)} | {_note(row)} |" for name, row in rows]
    return "\n".join(lines) + "\n"


def _sorted(table: Mapping[str, Row], prefix: str = "") -> list[tuple[str, Row]]:
    return [(f"`{prefix}{name}`", table[name]) for name in sorted(table)]


def coverage_markdown() -> str:
    """Return docs/bpmn-coverage.md as generated from the support tables."""
    contextual = [
        (f"`camunda:{name}` on {kind}", row)
        for (kind, name), row in sorted(support.VENDOR_ATTRIBUTES_ON.items())
    ]
    sections = [
        HEADER,
        _table("BPMN 2.0 elements", "element", _sorted(support.ELEMENTS, "bpmn:")),
        _table(
            "Event definitions",
            "event definition",
            _sorted(support.EVENT_DEFINITIONS, "bpmn:"),
        ),
        _table(
            "BPMN attributes",
            "attribute",
            _sorted(support.BPMN_ATTRIBUTES, ""),
        ),
        _table(
            "Constructs",
            "construct",
            [*support.CONSTRUCTS.items(), *ref_checks.CONSTRUCTS.items()],
        ),
        _table(
            "Camunda 7 / Operaton attributes (camunda:* and operaton:*)",
            "attribute",
            [*_sorted(support.VENDOR_ATTRIBUTES, "camunda:"), *contextual],
        ),
        _table(
            "Camunda 7 / Operaton extension elements",
            "element",
            _sorted(support.VENDOR_ELEMENTS, "camunda:"),
        ),
        _table(
            "SpiffArena extensions (spiffworkflow:*)",
            "element or attribute",
            [
                *_sorted(support.SPIFF_ELEMENTS, "spiffworkflow:"),
                *_sorted(support.SPIFF_ATTRIBUTES, "spiffworkflow:"),
            ],
        ),
        _table(
            "Camunda 8 extensions (zeebe:*)",
            "element",
            _sorted(support.ZEEBE_ELEMENTS, "zeebe:"),
        ),
    ]
    return "\n".join(sections)
