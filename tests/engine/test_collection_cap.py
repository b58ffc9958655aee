"""A multi-instance collection is capped at run time (issue 14, item 1).

The 1,000-instance cap on a fixed cardinality is checked at upload; a collection's
size is known only when the activity starts, so there it fails the case (an incident
to fix and retry) before a single instance exists.
"""

from pathlib import Path

import pytest

from engine.spiff import processes_compile, workflow_start
from engine.spiff.limits import MAX_INSTANCES
from tests.timing import measured

BPMN = Path(__file__).resolve().parents[1] / "bpmn"


def _process(sequential: bool):
    xml = (BPMN / "mi_collection.bpmn").read_text()
    xml = xml.replace("SEQUENTIAL", "true" if sequential else "false")
    return processes_compile(xml.encode())[0]


@pytest.mark.parametrize("sequential", [False, True])
def test_a_collection_up_to_the_cap_makes_one_instance_per_item(sequential):
    outcome = workflow_start(
        _process(sequential), data={"voters": list(range(MAX_INSTANCES))}
    )
    assert outcome.failure is None
    assert len(outcome.ready_user_tasks) == (1 if sequential else MAX_INSTANCES)


@pytest.mark.parametrize("sequential", [False, True])
def test_a_collection_past_the_cap_fails_the_case_before_any_instance(sequential):
    with measured() as elapsed:
        outcome = workflow_start(
            _process(sequential), data={"voters": list(range(100_000))}
        )
    elapsed.assert_within(2)
    assert outcome.failure is not None
    assert outcome.failure.error_type == "InstanceCountOutOfBounds"
    assert outcome.failure.bpmn_id == "vote"
    assert "100000 items" in outcome.failure.message
    assert outcome.ready_user_tasks == ()
    assert outcome.completed is False


def test_instances_that_would_copy_too_much_case_data_fail_the_case():
    # 600 items of ~900 bytes: ~0.5 MB of case data copied into 600 instances.
    voters = ["x" * 900 for _ in range(600)]
    with measured() as elapsed:
        outcome = workflow_start(_process(False), data={"voters": voters})
    elapsed.assert_within(2)
    assert outcome.failure is not None
    assert outcome.failure.error_type == "InstanceCountOutOfBounds"
    assert "MB of case data" in outcome.failure.message
    assert outcome.ready_user_tasks == ()
