"""Data larger than ENGINE_MAX_DATA_BYTES is refused with 400 naming the field.

At start, at task completion and at message delivery (issue 14, item 1), before
anything changes.
"""

import pytest

from engine.models import Case
from tests.api.test_hostile_input import (  # noqa: F401 - a fixture
    assert_400_naming,
    open_payment_task,
    token_client,
)

pytestmark = pytest.mark.django_db

LIMIT = 10_000


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.ENGINE_MAX_DATA_BYTES = LIMIT


def test_start_data_past_the_limit_is_refused(open_payment_task):  # noqa: F811
    client = token_client("requester")
    before = Case.objects.count()
    big = {"process": "payment_wait", "data": {"order_id": "x" * LIMIT}}
    assert_400_naming(client.post("/api/v1/cases/", big, format="json"), "data")
    assert Case.objects.count() == before
    fits = {"process": "payment_wait", "data": {"order_id": "x" * (LIMIT // 2)}}
    response = client.post("/api/v1/cases/", fits, format="json")
    assert response.status_code == 201, response.content


def test_completion_and_message_data_past_the_limit_are_refused(
    open_payment_task,  # noqa: F811
):
    finance = token_client("finance")
    task = open_payment_task
    response = finance.post(
        f"/api/v1/tasks/{task.id}/complete/",
        {"data": {"note": "é" * (LIMIT // 2 + 1)}},  # two bytes each in UTF-8
        format="json",
    )
    assert_400_naming(response, "data")
    task.refresh_from_db()
    assert task.is_open
    response = token_client("requester").post(
        "/api/v1/messages/",
        {"name": "payment_received", "correlation": {"order": "y" * LIMIT}},
        format="json",
    )
    assert_400_naming(response, "correlation")
