"""The scenario format refuses what it does not know, multi-case keys included."""

import pytest

from .scenario import MAIN, ScenarioError, clock_seconds, scenario_load

VALID = """
title = "two cases"
bpmn = "xcase_message.bpmn"

[[cases]]
name = "A"
process = "xm_sender"

[[cases]]
name = "B"
process = "xm_receiver"
started_by = "step"

[[steps]]
case = "A"
complete = "XmS_Write"

[[steps]]
start_case = "B"

[[steps]]
await = "A"
incident = "no case waits"

[[steps]]
fire_timer_starts = 2

[[steps]]
advance_clock = "P1DT2H"

[end]
cases_of = { xm_receiver = 1 }
"""


def _load(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return scenario_load(path)


def test_a_multi_case_scenario_reads_its_cases_and_steps(tmp_path):
    [scenario] = _load(tmp_path, VALID)
    assert [(c.name, c.started_by) for c in scenario.cases] == [
        ("A", None),
        ("B", "step"),
    ]
    kinds = [(s.actions[0].kind, s.actions[0].case) for s in scenario.steps]
    assert kinds == [
        ("complete", "A"),
        ("start_case", "B"),
        ("await", "A"),
        ("fire_timer_starts", None),
        ("advance_clock", None),
    ]
    assert clock_seconds("P1DT2H") == 26 * 3600


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (('process = "xm_sender"', 'process = "xm_sender"\ncolour = 1'), "colour"),
        (('case = "A"', 'case = "Z"'), "names no case"),
        (('started_by = "step"', 'started_by = "later"'), "started_by"),
        (("fire_timer_starts = 2", "fire_timer_starts = 3"), "fire_timer_starts"),
        (('advance_clock = "P1DT2H"', 'advance_clock = "2 hours"'), "advance_clock"),
        (
            ('title = "two cases"', 'title = "two cases"\nprocess = "xm_sender"'),
            "each case",
        ),
        (('start_case = "B"', 'start_case = "B"\nincident = "x"'), "incident"),
        (
            ("cases_of = { xm_receiver = 1 }", 'cases_of = { xm_receiver = "one" }'),
            "cases_of",
        ),
    ],
)
def test_a_malformed_multi_case_scenario_is_an_error_naming_why(tmp_path, change, why):
    old, new = change
    assert old in VALID
    with pytest.raises(ScenarioError, match=why):
        _load(tmp_path, VALID.replace(old, new, 1))


def test_a_one_case_scenario_names_its_case_main(tmp_path):
    text = """
title = "one case"
bpmn = "xcase_message.bpmn"
process = "xm_receiver"

[[steps]]
retry_incident = "main"
"""
    [scenario] = _load(tmp_path, text)
    assert scenario.steps[0].actions[0].case == MAIN
