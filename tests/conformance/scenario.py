"""Read the conformance scenarios (scenarios/*.toml) into checked dataclasses.

The format is SCENARIO_FORMAT.md (see README.md beside this file); anything else
in a file (an unknown key, a step doing two things) is an error naming the file,
so a typo never turns a check off.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
DIAGRAMS = HERE / "bpmn"

_TOP = {
    "title",
    "bpmn",
    "process",
    "start",
    "also_deploy",
    "dmn",
    "refused",
    "steps",
    "end",
    "xfail",
    "cases",
}
_ACTIONS = (
    "complete",
    "claim",
    "complete_each",
    "message",
    "signal_receive",
    "timers",
    "services",
    "send_signal",
    "fire_timer_starts",
    "advance_clock",
    "await",
    "retry_incident",
    "start_case",
    "external",
    "cancel",
)
# What a step may hold: one action, and what goes with it.
_STEP = {
    *_ACTIONS,
    "data",
    "open",
    "open_names",
    "open_documentation",
    "correlation",
    "expect_error",
    "as",
    "case",
    "incident",
    "local",
    "bpmn_error",
    "skip_custom_listeners",
}
_END = {"status", "data", "absent", "incident", "cases_of"}
_CASE = {"name", "process", "start", "started_by", "end"}
MAIN = "main"  # the name of the one case of a scenario without [[cases]]
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)
_REFUSED = {"element", "message"}
_STATUSES = {"running", "completed", "failed", "cancelled"}


class ScenarioError(ValueError):
    """A scenario file that does not follow the format."""


@dataclass(frozen=True)
class Action:
    """One thing a step does: complete, send a message, fire timers, await calls."""

    kind: str  # complete | claim | message | timers | services | ...
    target: str = ""  # task BPMN id or message name
    data: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    expect_error: str | None = None
    case: str | None = None  # the [[cases]] name it acts on (None: the first)
    local: dict[str, Any] = field(default_factory=dict)  # external: localVariables
    bpmn_error: str | None = None  # external: handleBpmnError with this code


@dataclass(frozen=True)
class CaseSpec:
    """One case of a multi-case scenario: started by the runner, or by an event."""

    name: str
    process: str
    start: dict[str, Any]
    # None: started before the steps; "step": by a start_case step; "event": by a
    # signal, message or timer (the first such case of its process is bound to it).
    started_by: str | None
    end: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """A step: its actions (several for complete_each) and the open tasks after them."""

    actions: tuple[Action, ...]
    open: tuple[str, ...] | None
    open_names: tuple[str, ...] | None = None
    open_documentation: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file, for one completion order of its complete_each steps."""

    name: str
    title: str
    bpmn: str
    process: str | None
    start: dict[str, Any]
    also_deploy: tuple[str, ...]
    dmn: tuple[str, ...]
    refused: dict[str, str] | None
    steps: tuple[Step, ...]
    end: dict[str, Any]
    xfail: str | None
    order: str = ""  # the permutation label, "" when there is none
    cases: tuple[CaseSpec, ...] = ()  # empty: one case, `process` and `start`

    @property
    def test_id(self) -> str:
        return f"{self.name}[{self.order}]" if self.order else self.name


def _fail(path: Path, why: str) -> ScenarioError:
    return ScenarioError(f"{path.name}: {why}")


def _unknown(path: Path, where: str, got: dict, allowed: set[str]) -> None:
    extra = sorted(set(got) - allowed)
    if extra:
        raise _fail(
            path, f"unknown key(s) {extra} in {where}; allowed: {sorted(allowed)}"
        )


def _table(path: Path, raw: dict, key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"'{key}' must be a table")
    return value


def _step(
    path: Path, index: int, raw: dict, names: tuple[str, ...]
) -> tuple[str, dict]:
    where = f"step {index + 1}"
    _unknown(path, where, raw, _STEP)
    kinds = [k for k in _ACTIONS if k in raw]
    if len(kinds) != 1:
        raise _fail(
            path, f"{where} must do exactly one of {list(_ACTIONS)}, got {kinds}"
        )
    kind = kinds[0]
    _event_step(path, where, kind, raw, names)
    if "open" in raw and not isinstance(raw["open"], list):
        raise _fail(path, f"{where}: 'open' must be a list of task ids")
    for key in ("open_names", "open_documentation"):
        texts = raw.get(key, [])
        if not isinstance(texts, list) or not all(isinstance(n, str) for n in texts):
            raise _fail(path, f"{where}: '{key}' must be a list of texts")
    if "expect_error" in raw and kind not in (
        "message",
        "complete",
        "claim",
        "external",
        "cancel",
        "signal_receive",
    ):
        raise _fail(
            path,
            f"{where}: expect_error goes with message, complete, claim, external "
            "cancel or signal_receive",
        )
    for key in ("data", "correlation"):
        _table(path, raw, key)
    return kind, raw


def _event_step(
    path: Path, where: str, kind: str, raw: dict, names: tuple[str, ...]
) -> None:
    """Check the values of timers/services and of the multi-case step keys."""
    if kind in ("timers", "services", "cancel") and raw[kind] is not True:
        raise _fail(path, f"{where}: '{kind}' must be true")
    if kind == "fire_timer_starts" and raw[kind] not in (True, 1, 2):
        raise _fail(
            path, f"{where}: 'fire_timer_starts' is true, 1 or 2 (sweeps at once)"
        )
    if kind == "advance_clock" and not (
        isinstance(raw[kind], str) and _DURATION.match(raw[kind]) and raw[kind] != "P"
    ):
        raise _fail(path, f"{where}: 'advance_clock' is a duration like PT1H or P1D")
    for key in ("case", "await", "retry_incident", "start_case"):
        if key in raw and raw[key] not in names:
            raise _fail(path, f"{where}: '{key}' names no case; cases: {list(names)}")
    if "case" in raw and kind in ("await", "retry_incident", "start_case"):
        raise _fail(path, f"{where}: '{kind}' names its case itself")
    _step_keys(path, where, kind, raw)


def _step_keys(path: Path, where: str, kind: str, raw: dict) -> None:
    """Check that the keys qualifying a step go with its kind."""
    if "incident" in raw and kind != "await":
        raise _fail(path, f"{where}: 'incident' goes with await")
    for key in ("local", "bpmn_error"):
        if key in raw and kind != "external":
            raise _fail(path, f"{where}: '{key}' goes with external")
    if "skip_custom_listeners" in raw and (
        kind != "cancel" or not isinstance(raw["skip_custom_listeners"], bool)
    ):
        raise _fail(
            path, f"{where}: 'skip_custom_listeners' (true/false) goes with cancel"
        )


def _actions(kind: str, raw: dict, order: tuple[str, ...] | None) -> tuple[Action, ...]:
    case = (
        raw.get("case")
        or raw.get("await")
        or raw.get("retry_incident")
        or raw.get("start_case")
    )
    common = {
        "user": raw.get("as"),
        "expect_error": raw.get("expect_error"),
        "case": case,
    }
    data = dict(raw.get("data", {}))
    if kind == "complete_each":
        return tuple(
            Action("complete", task, data, {}, raw.get("as"), case=case)
            for task in order or ()
        )
    if kind in ("complete", "claim", "send_signal", "signal_receive"):
        return (Action(kind, raw[kind], data, **common),)
    if kind == "message":
        return (
            Action(
                "message",
                raw["message"],
                data,
                dict(raw.get("correlation", {})),
                **common,
            ),
        )
    if kind == "cancel":
        skip = "skip_custom_listeners" if raw.get("skip_custom_listeners") else ""
        return (Action(kind, skip, **common),)
    if kind == "external":
        local = dict(raw.get("local", {}))
        error = raw.get("bpmn_error")
        return (Action(kind, raw[kind], data, local=local, bpmn_error=error, **common),)
    if kind in ("fire_timer_starts", "advance_clock"):
        return (Action(kind, str(raw[kind])),)
    return (Action(kind, str(raw.get("incident", "")), case=case),)


def clock_seconds(text: str) -> int:
    """Return the seconds an `advance_clock` duration (PnDTnHnMnS) stands for."""
    match = _DURATION.match(text)
    assert match is not None, text
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    return ((parts["d"] * 24 + parts["h"]) * 60 + parts["m"]) * 60 + parts["s"]


ALL_ORDERS_UP_TO = 3  # tasks in one complete_each step run in every order


def _step_orders(tasks: list[str]) -> list[tuple[str, ...]]:
    """Return the completion orders run for one complete_each step.

    Up to ALL_ORDERS_UP_TO tasks: every order. More (24 orders for four): a
    deterministic sample, the rotations of the list and of its reverse (8 for
    four), so each task is completed first and last, in either direction.
    Orders that differ only by swapping equal task ids are the same order.
    """
    if len(tasks) <= ALL_ORDERS_UP_TO:
        return list(dict.fromkeys(itertools.permutations(tasks)))
    rotations = [
        tuple(seq[i:] + seq[:i])
        for seq in (tasks, tasks[::-1])
        for i in range(len(seq))
    ]
    return list(dict.fromkeys(rotations))


def _orders(steps: list[tuple[str, dict]]) -> list[tuple[tuple[str, ...], ...]]:
    """Return the combinations of orders to run, one tuple per complete_each step.

    With one such step, each of its orders. With several, every order of each
    step runs, paired in turn (the i-th order of each step, cycling the shorter
    lists), not their product: each step's open tasks are checked after it, so
    the product (36 runs for two three-task steps) adds little but time.
    """
    choices = [
        _step_orders(list(raw["complete_each"]))
        for kind, raw in steps
        if kind == "complete_each"
    ]
    if not choices:
        return [()]
    runs = max(len(c) for c in choices)
    return [tuple(c[i % len(c)] for c in choices) for i in range(runs)]


def _order_label(orders: tuple[tuple[str, ...], ...]) -> str:
    return "|".join(",".join(order) for order in orders)


def _check_end(path: Path, end: dict, where: str = "[end]") -> dict:
    _unknown(path, where, end, _END)
    if "status" in end and end["status"] not in _STATUSES:
        raise _fail(path, f"{where} status must be one of {sorted(_STATUSES)}")
    counts = end.get("cases_of", {})
    if not isinstance(counts, dict) or not all(
        isinstance(n, int) for n in counts.values()
    ):
        raise _fail(path, f"{where} cases_of maps process ids to numbers of cases")
    return end


def _cases(path: Path, raw: dict) -> tuple[CaseSpec, ...]:
    """Return the [[cases]] of a multi-case scenario, checked."""
    entries = raw.get("cases", [])
    if not isinstance(entries, list):
        raise _fail(path, "'cases' must be an array of tables ([[cases]])")
    if entries and ("process" in raw or "start" in raw):
        raise _fail(path, "with [[cases]], each case names its process and start")
    specs = []
    for number, entry in enumerate(entries, start=1):
        where = f"case {number}"
        _unknown(path, where, entry, _CASE)
        for key in ("name", "process"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise _fail(path, f"{where}: '{key}' is required")
        if entry.get("started_by", "event") not in ("event", "step"):
            raise _fail(path, f'{where}: \'started_by\' is "event" or "step"')
        if entry.get("started_by") == "event" and "start" in entry:
            raise _fail(path, f"{where}: a case an event starts has no start data")
        specs.append(
            CaseSpec(
                name=entry["name"],
                process=entry["process"],
                start=_table(path, entry, "start"),
                started_by=entry.get("started_by"),
                end=_check_end(path, _table(path, entry, "end"), f"{where} end"),
            )
        )
    names = [c.name for c in specs]
    if len(set(names)) != len(names):
        raise _fail(path, f"case names must differ: {names}")
    if names == [MAIN] or MAIN in names and len(names) > 1:
        raise _fail(path, f"'{MAIN}' is the name of the case of a one-case scenario")
    return tuple(specs)


def _base(path: Path, raw: dict) -> dict[str, Any]:
    _unknown(path, "the top level", raw, _TOP)
    for key in ("title", "bpmn"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise _fail(path, f"'{key}' is required")
    if not (DIAGRAMS / raw["bpmn"]).is_file():
        raise _fail(path, f"the diagram {raw['bpmn']} is not in {DIAGRAMS}")
    for extra in [*raw.get("also_deploy", []), *raw.get("dmn", [])]:
        if not (DIAGRAMS / extra).is_file():
            raise _fail(path, f"{extra} is not in {DIAGRAMS}")
    refused = raw.get("refused")
    if refused is not None:
        _unknown(path, "[refused]", refused, _REFUSED)
        if raw.get("steps") or raw.get("end") or raw.get("cases"):
            raise _fail(path, "a [refused] scenario has no cases, steps and no [end]")
    return {
        "name": path.stem,
        "title": raw["title"],
        "bpmn": raw["bpmn"],
        "process": raw.get("process"),
        "start": _table(path, raw, "start"),
        "also_deploy": tuple(raw.get("also_deploy", ())),
        "dmn": tuple(raw.get("dmn", ())),
        "refused": refused,
        "end": _check_end(path, _table(path, raw, "end")),
        "xfail": raw.get("xfail"),
        "cases": _cases(path, raw),
    }


def scenario_load(path: Path) -> list[Scenario]:
    """Return the scenario in `path` once per order of its complete_each steps.

    Raises:
        ScenarioError: the file breaks the format (named in the message).
    """
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML: {exc}") from None
    base = _base(path, raw)
    names = tuple(c.name for c in base["cases"]) or (MAIN,)
    steps = [_step(path, i, s, names) for i, s in enumerate(raw.get("steps", []))]
    variants = []
    for orders in _orders(steps):
        queue = iter(orders)
        built = tuple(
            Step(
                _actions(kind, s, next(queue) if kind == "complete_each" else None),
                tuple(s["open"]) if "open" in s else None,
                tuple(s["open_names"]) if "open_names" in s else None,
                tuple(s["open_documentation"]) if "open_documentation" in s else None,
            )
            for kind, s in steps
        )
        variants.append(Scenario(**base, steps=built, order=_order_label(orders)))
    return variants


def scenario_files() -> list[Path]:
    """Return every scenario file of the suite, by name."""
    return sorted(SCENARIOS.glob("*.toml"))
