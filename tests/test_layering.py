"""Only engine/spiff imports SpiffWorkflow; the adapter imports no Django."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "processes", "engine", "tasks_app", "audit"]
IMPORT = re.compile(r"^\s*(from|import)\s+SpiffWorkflow\b", re.MULTILINE)


def _sources():
    for app in APPS:
        yield from (ROOT / app).rglob("*.py")


def test_only_the_adapter_imports_spiffworkflow():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _sources()
        if IMPORT.search(p.read_text()) and "engine/spiff/" not in p.as_posix()
    ]
    assert offenders == []


def test_the_adapter_imports_no_django_and_no_app():
    forbidden = re.compile(
        r"^\s*(from|import)\s+(django|processes|tasks_app|audit|config|engine\.(models|services))\b",
        re.MULTILINE,
    )
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "engine" / "spiff").rglob("*.py")
        if forbidden.search(p.read_text())
    ]
    assert offenders == []


def test_tasks_app_takes_engine_types_not_the_adapters():
    adapter = re.compile(r"^\s*(from|import)\s+engine\.spiff\b", re.MULTILINE)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "tasks_app").rglob("*.py")
        if adapter.search(p.read_text())
    ]
    assert offenders == []
