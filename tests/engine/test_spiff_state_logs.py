"""SpiffWorkflow's task state-change log: emitted as before when its logger is
at INFO, and not even built when it is at WARNING (config/settings.py)."""

import json
import logging

import pytest
from SpiffWorkflow.task import Task

from engine.spiff import processes_compile, workflow_complete_user_task, workflow_start
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def process():
    xml = (EXAMPLES / "purchase_request.bpmn").read_bytes()
    return processes_compile(xml, filename="purchase_request.bpmn")[0]


def _approve(process):
    outcome = workflow_start(process, data={"amount": 1, "justification": "x"})
    return workflow_complete_user_task(
        process,
        json.loads(json.dumps(outcome.state)),
        task_id=outcome.ready_user_tasks[0].task_id,
        data={"approved": True},
    )


def test_state_changes_are_logged_with_their_task_at_info(process, caplog):
    with caplog.at_level(logging.INFO, logger="spiff.task"):
        _approve(process)
    completed = [
        r
        for r in caplog.records
        if r.name == "spiff.task" and r.getMessage() == "State changed to COMPLETED"
    ]
    assert "manager_review" in {r.task_spec for r in completed}
    assert all(r.state == "COMPLETED" and r.elapsed >= 0 for r in completed)


def test_no_log_record_is_built_when_spiff_logs_warnings_only(process, monkeypatch):
    def refuse(self, dct=None):
        raise AssertionError("log extras built for a record nobody emits")

    monkeypatch.setattr(Task, "collect_log_extras", refuse)
    logger = logging.getLogger("spiff")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        assert _approve(process).ready_user_tasks[0].bpmn_id == "finance_review"
    finally:
        logger.setLevel(level)
