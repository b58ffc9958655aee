"""Every conformance scenario (scenarios/*.toml), run as production does.

One test per scenario and completion order; see README.md beside this file.
"""

import pytest

from .runner import Environment, scenario_database, scenario_run
from .scenario import ScenarioError, scenario_files, scenario_load

pytestmark = pytest.mark.worker


def _params() -> list:
    """One param per scenario and completion order; a malformed file fails alone."""
    params = []
    for path in scenario_files():
        try:
            variants = scenario_load(path)
        except ScenarioError as exc:
            params.append(pytest.param(exc, id=path.stem))
            continue
        for scenario in variants:
            marks = (
                [pytest.mark.xfail(reason=scenario.xfail, strict=True)]
                if scenario.xfail
                else []
            )
            params.append(pytest.param(scenario, id=scenario.test_id, marks=marks))
    return params


@pytest.fixture(scope="module")
def environment(django_db_setup, django_db_blocker):
    """The cast, the Celery worker and the peer process, for every scenario.

    Scenarios commit (the peer and the worker must see their rows), so the
    module works outside pytest-django's per-test transactions and flushes the
    database once at the end instead of after every test: each diagram is
    deployed once for all the scenarios that use it.
    """
    with django_db_blocker.unblock(), scenario_database():
        env = Environment.open()
        try:
            yield env
        finally:
            env.close()


@pytest.mark.parametrize("scenario", _params())
def test_scenario(scenario, environment):
    if isinstance(scenario, ScenarioError):
        pytest.fail(str(scenario), pytrace=False)
    scenario_run(environment, scenario)
