"""Cases and human tasks get time-ordered ids (UUID version 7, RFC 9562 §5.7).

A new case's and task's rows (and guardian's grants and the inbox candidates
that name them) go to the newest pages of the indexes keyed by them, not to a
random page of each (issue #16). The ids keep their URL and API shape, and the
pages name a case by the random end of its id, not by its first digits (a
version 7 id's first 8 hex digits are its creation time, the same for a
minute's cases).
"""

import re
import uuid

import pytest
from django.db import connection, transaction

from common.uuids import uuid4_text, uuid7
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def _start(users, n: int) -> Case:
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 10 + n, "justification": f"Item {n}"},
    )
    return case


def test_cases_and_tasks_made_one_after_another_have_increasing_v7_ids(users, purchase):
    cases = [_start(users, n) for n in range(5)]
    reviews = [HumanTask.objects.get(case=c, status="open") for c in cases]
    for review in reviews[:2]:
        task_complete(
            user=users["manager1"], task_id=review.pk, data={"approved": True}
        )
    finance = list(
        HumanTask.objects.filter(case__in=cases[:2], bpmn_id="finance_review")
    )
    made = [c.pk for c in cases] + [t.pk for t in reviews]
    assert {(i.version, i.variant) for i in made} == {(7, uuid.RFC_4122)}
    assert {(t.pk.version, t.pk.variant) for t in finance} == {(7, uuid.RFC_4122)}
    # In the order they were made, to the id (within a millisecond too).
    assert [c.pk for c in cases] == sorted(c.pk for c in cases)
    assert [t.pk for t in reviews] == sorted(t.pk for t in reviews)
    assert max(t.pk for t in reviews) < min(t.pk for t in finance)
    for row in cases + reviews:
        made_at = row.started_at if isinstance(row, Case) else row.created_at
        assert abs(_millis(row.pk) - made_at.timestamp() * 1000) < 1000


def test_ids_keep_their_url_and_api_shape(users, purchase):
    case = _start(users, 1)
    review = HumanTask.objects.get(case=case, status="open")
    api = api_for(users["manager1"])
    found = api.get(f"/api/v1/tasks/?case={case.pk}").json()["results"]
    assert [t["id"] for t in found] == [str(review.pk)]
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", found[0]["id"])
    assert api.get(f"/api/v1/tasks/{review.pk}/").json()["id"] == str(review.pk)
    assert page_for(users["manager1"]).get(f"/tasks/{review.pk}/").status_code == 200


def test_the_case_list_names_each_case_by_the_random_end_of_its_id(users, purchase):
    """Cases started within a minute share their ids' first 8 hex digits (the
    time): the page shows the last 8, which are random."""
    cases = [_start(users, n) for n in range(3)]
    page = page_for(users["requester"]).get("/cases/?status=running")
    shown = re.findall(
        r'class="cell-title mono" href="/cases/[^"]+/">([^<]+)<',
        page.content.decode(),
    )
    assert sorted(shown) == sorted(str(c.pk)[-8:] for c in cases)
    assert len(set(shown)) == 3


def test_uuid7_increases_strictly_within_a_millisecond():
    made = [uuid7() for _ in range(2000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert {(i.version, i.variant) for i in made} == {(7, uuid.RFC_4122)}
    # Not guessable from the last one: the steps between neighbours differ.
    steps = {(b.int - a.int) for a, b in zip(made, made[1:], strict=False)}
    assert len(steps) > len(made) // 2


def _plan(statement: str, params) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny test tables would be read whole anyway: forbid that, to see
        # which index serves the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_tasks_of_a_case_are_read_through_the_case_and_spiff_id_index(
    users, purchase
):
    """HumanTask.case has no index of its own: the unique (case, spiff task)
    index leads with it (the case page's task list, the PROTECT check of a
    case's deletion)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans")
    case = _start(users, 1)
    review = HumanTask.objects.get(case=case, status="open")
    task_complete(user=users["manager1"], task_id=review.pk, data={"approved": True})
    for qs in (
        case.human_tasks.order_by("status", "-created_at"),  # the case page
        HumanTask.objects.filter(case_id__in=[case.pk]),  # Case deletion's check
        HumanTask.objects.filter(case=case, form_js__isnull=False),  # its story
    ):
        plan = _plan(*qs.query.sql_with_params())
        assert "humantask_spiff_unique" in plan, plan
        assert "Seq Scan on tasks_app_humantask" not in plan, plan
    indexes = connection.introspection.get_constraints(
        connection.cursor(), HumanTask._meta.db_table
    )
    assert [
        name
        for name, i in indexes.items()
        if i["index"] and i["columns"] == ["case_id"]
    ] == ["humantask_open_of_case"]


def test_ids_made_without_the_uuid_constructor_are_what_it_makes():
    for _ in range(2000):
        made = uuid7()
        assert made == uuid.UUID(str(made)) and made.version == 7
        assert made.is_safe is uuid.SafeUUID.unknown and hash(made) == hash(made.int)
        text = uuid4_text()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len({uuid4_text() for _ in range(1000)}) == 1000
