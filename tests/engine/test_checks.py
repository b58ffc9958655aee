"""System checks refuse engine settings the engine cannot run with."""

import pytest
from django.core.checks import run_checks


def _engine_errors():
    return [m for m in run_checks() if m.id == "engine.E010"]


def test_default_limits_pass_the_checks():
    assert _engine_errors() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENGINE_SCRIPT_WORKERS", 0),
        ("ENGINE_MAX_TREE_DEPTH", -5),
        ("ENGINE_SCRIPT_TIME_LIMIT_MS", "1000"),
        ("ENGINE_EXPRESSION_TIME_LIMIT_MS", 0.5),
    ],
)
def test_a_limit_that_is_not_a_positive_integer_is_a_check_error(settings, name, value):
    setattr(settings, name, value)
    [error] = _engine_errors()
    assert name in error.msg and repr(value) in error.msg
