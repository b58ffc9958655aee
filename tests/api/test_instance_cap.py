"""One advance may create only so many multi-instance tasks, all activities together.

Issue 14, item 1: each collection is capped at MAX_INSTANCES, but three parallel
branches, each a multi-instance activity under that cap, together create their
instances in one request. Past ENGINE_MAX_INSTANCES_PER_ADVANCE the activity that
would go over fails before creating any instance: an incident on the case, which
the API still answers 201 for, never a server error or a memory blow-up.
"""

import pytest

from engine.models import Incident
from engine.spiff.limits import MAX_INSTANCES
from tasks_app.models import HumanTask
from tests.api.test_hostile_input import token_client
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

CAP = 50
PER_BRANCH = 20  # 3 x 20 = 60 > CAP, each far under MAX_INSTANCES


@pytest.fixture
def three_votes(users, settings):
    settings.ENGINE_MAX_INSTANCES_PER_ADVANCE = CAP
    deploy(BPMN_DIR / "mi_three_branches.bpmn", users["analyst"])


def _start(per_branch: int) -> dict:
    voters = {
        f"voters_{branch}": [f"{branch}{i}" for i in range(per_branch)]
        for branch in "abc"
    }
    response = token_client("requester").post(
        "/api/v1/cases/",
        {"process": "mi_three_branches", "data": voters},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_branches_together_over_the_cap_open_an_incident(three_votes):
    assert PER_BRANCH < MAX_INSTANCES
    case = _start(PER_BRANCH)
    incident = Incident.objects.get(case_id=case["id"])
    assert incident.error_type == "InstanceCountOutOfBounds"
    assert incident.bpmn_id in {"vote_a", "vote_b", "vote_c"}
    assert f"would make {3 * PER_BRANCH} instances" in incident.message
    assert f"at most {CAP}" in incident.message
    # The two activities within the cap have their instances; the third has none.
    open_tasks = HumanTask.objects.filter(
        case_id=case["id"], status=HumanTask.Status.OPEN
    )
    assert open_tasks.count() == 2 * PER_BRANCH
    assert not open_tasks.filter(bpmn_id=incident.bpmn_id).exists()
    assert case["status"] == "running"


def test_branches_together_within_the_cap_run(three_votes):
    case = _start(CAP // 3)
    assert not Incident.objects.filter(case_id=case["id"]).exists()
    open_tasks = HumanTask.objects.filter(
        case_id=case["id"], status=HumanTask.Status.OPEN
    )
    assert open_tasks.count() == 3 * (CAP // 3)
