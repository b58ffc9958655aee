"""The inbox is paginated alike in the pages and the API, and its query uses indexes."""

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission, UserObjectPermission

from common.pagination import page_size
from engine.services import case_start
from tasks_app.permissions import grant_candidates
from tasks_app.selectors import InboxQuery, inbox_counts_for_user, inbox_list_for_user
from tasks_app.services import task_complete
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<a class="cell-title" href="/tasks/([0-9a-f-]{36})/">')


@pytest.fixture
def many_reviews(users, purchase):
    """One more manager approval than a page holds."""
    for n in range(page_size() + 3):
        case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": n + 1, "justification": f"Item {n}"},
            business_key=f"PO-{n:03}",
        )
    return page_size() + 3


def test_the_inbox_page_and_the_api_page_alike(users, many_reviews):
    api, pages = api_for(users["manager1"]), page_for(users["manager1"])
    first = api.get("/api/v1/tasks/").json()
    assert first["count"] == many_reviews and first["previous"] is None
    assert len(first["results"]) == page_size() and "page=2" in first["next"]
    html = pages.get("/").content.decode()
    assert ROW.findall(html) == [t["id"] for t in first["results"]]
    assert f"{page_size()} of {many_reviews} tasks" in html
    assert 'rel="next" href="/?page=2"' in html and 'rel="prev"' not in html
    second_api = api.get("/api/v1/tasks/?page=2").json()
    second = pages.get("/?page=2")
    assert ROW.findall(second.content.decode()) == [
        t["id"] for t in second_api["results"]
    ]
    assert len(second_api["results"]) == 3 and second_api["next"] is None
    assert second_api["count"] == many_reviews
    assert second_api["previous"] == "http://testserver/api/v1/tasks/"
    assert api.get("/api/v1/tasks/?page=last").json() == second_api
    assert second.context["page"].previous == "/?page=1"
    # A page past the end shows the last one; the API says 404, as DRF does.
    assert pages.get("/?page=99").context["page"].number == 2
    assert api.get("/api/v1/tasks/?page=99").status_code == 404


def test_a_closed_task_leaves_no_work_rows_for_the_inbox_to_read(users, review):
    def rows(codename):
        return set(
            GroupObjectPermission.objects.filter(
                object_pk=str(review.pk), permission__codename=codename
            ).values_list("group__name", flat=True)
        )

    assert rows("work_on_humantask") == {"Manager"}
    task_complete(user=users["manager1"], task_id=review.pk, data={"approved": True})
    assert rows("work_on_humantask") == set()
    assert rows("view_humantask") == {"Manager"}  # the history stays visible
    assert page_for(users["manager2"]).get(f"/tasks/{review.pk}/").status_code == 200
    done = api_for(users["manager2"]).post(
        f"/api/v1/tasks/{review.pk}/complete/", {"data": {}}, format="json"
    )
    assert done.status_code == 409 and done.json()["code"] == "task_not_open"


def _plan(user, case_id=None) -> str:
    qs = inbox_list_for_user(user=user, case_id=case_id)
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny test tables would be read whole anyway; forbid that to see
        # whether an index serves each table the inbox reads.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql} LIMIT 50", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_inbox_query_reads_its_first_rows_from_the_candidate_index(users, review):
    """The first page reads each principal's range of the candidate index in
    order (no guardian row, no case row for the suspended filter; issue #16)."""
    plan = _plan(users["manager1"])
    for table in ("tasks_app_humantask", "tasks_app_inboxcandidate"):
        assert f"Seq Scan on {table}" not in plan, plan
    assert "guardian" not in plan and "engine_case_suspended" not in plan, plan
    assert re.search(
        r"Index (Only )?Scan using inboxcandidate_urgent on tasks_app_inboxcandidate",
        plan,
    ), plan


def test_the_inbox_counts_read_the_candidate_index_only(users, review):
    """The counts read no task, case or guardian row: the candidate index alone
    (issue #16)."""
    with CaptureQueriesContext(connection) as captured:
        inbox_counts_for_user(user=users["manager1"], query=InboxQuery())
    (statement,) = [q["sql"] for q in captured]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using inboxcandidate_urgent" in plan, plan
    for table in ("tasks_app_humantask ", "engine_case", "guardian"):
        assert table not in plan, plan


def test_the_task_of_a_case_is_found_through_the_open_tasks_of_the_case(users, review):
    """`?case=` reads the case's open tasks and asks the candidate table about
    each (its unique index), not all the open tasks the user may work on (issue
    #16). (On these one-row tables PostgreSQL may take either index of the
    open tasks; the candidate table is what must not be read by range.)"""
    plan = _plan(users["manager1"], case_id=review.case_id)
    assert re.search(r"Scan (using|on) inboxcandidate_unique", plan), plan
    assert "Index Cond: (task_id = tasks_app_humantask.id)" in plan, plan
    assert "Seq Scan on tasks_app_humantask" not in plan, plan


def test_the_migration_deletes_work_rows_left_by_tasks_closed_earlier(users, review):
    """Tasks closed before WORK rows went on close lose them on migrate."""
    migration = import_module("tasks_app.migrations.0004_close_work_rows")
    task_complete(user=users["manager1"], task_id=review.pk, data={"approved": True})
    grant_candidates(review, users=[users["manager2"]], groups=[])  # as before
    finance = review.case.human_tasks.get(status="open")
    migration.delete_closed_work_rows(apps, None)
    left = GroupObjectPermission.objects.filter(
        permission__codename="work_on_humantask"
    )
    assert set(left.values_list("object_pk", flat=True)) == {str(finance.pk)}
    assert not UserObjectPermission.objects.filter(
        object_pk=str(review.pk), permission__codename="work_on_humantask"
    ).exists()


def test_the_count_is_right_when_the_last_page_is_exactly_full(users, many_reviews):
    """The paginator counts without COUNT when a page has room: at the boundary too."""
    api = api_for(users["manager1"])
    for task in api.get("/api/v1/tasks/?page=2").json()["results"]:
        task_complete(
            user=users["manager1"], task_id=task["id"], data={"approved": True}
        )

    full = api.get("/api/v1/tasks/").json()
    assert full["count"] == page_size() and len(full["results"]) == page_size()
    assert full["next"] is None and full["previous"] is None
    assert api.get("/api/v1/tasks/?page=2").status_code == 404
    assert api.get("/api/v1/tasks/?page=x").status_code == 404
    assert page_for(users["manager1"]).get("/?page=2").context["page"].number == 1
    none = api_for(users["outsider"]).get("/api/v1/tasks/").json()
    assert none == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_full_first_page_is_counted_without_a_count_statement(users, many_reviews):
    """The page takes its count from the tabs' counts, the API from COUNT(*) OVER
    () of its list; the tabs' counts and the process choices are one statement
    (issue #16)."""
    pages, api = page_for(users["manager1"]), api_for(users["manager1"])
    with CaptureQueriesContext(connection) as page_statements:
        page = pages.get("/")
    with CaptureQueriesContext(connection) as api_statements:
        first = api.get("/api/v1/tasks/").json()
    for captured in (page_statements, api_statements):
        assert not [q for q in captured if "COUNT(*)" in q["sql"].split("FROM")[0]]
    reads = [
        q
        for q in page_statements
        if "tasks_app_humantask" in q["sql"] or "tasks_app_inboxcandidate" in q["sql"]
    ]
    assert len(reads) == 2, [q["sql"][:80] for q in reads]  # the rows, the summary
    assert first["count"] == page.context["page"].count == many_reviews
    tabs = {value: count for value, _, count in page.context["tabs"]}
    assert tabs == {
        "all": many_reviews,
        "mine": 0,
        "groups": many_reviews,
        "overdue": 0,
        "today": 0,
    }
    assert page.context["processes"] == [("purchase_request", "Purchase request")]
    # A search that keeps nothing counts nothing, and still offers every process.
    none = pages.get("/?search=nothing-like-this")
    assert {count for _, _, count in none.context["tabs"]} == {0}
    assert none.context["page"].count == 0
    assert none.context["processes"] == page.context["processes"]
