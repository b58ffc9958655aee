import pytest

from engine.services import case_start
from tasks_app.models import HumanTask


@pytest.fixture
def review(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    return HumanTask.objects.get(case=case, status="open")
