"""Saved inbox filters: each person lists, saves, applies and deletes their own."""

import pytest

from tasks_app.models import SavedFilter
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db


def test_save_list_apply_and_delete_over_the_api(users, review):
    api = api_for(users["manager1"])
    saved = api.post(
        "/api/v1/tasks/filters/",
        {"name": "Purchases, urgent", "query": "?search=purchase&page=3&sort=due&x=1"},
        format="json",
    )
    assert saved.status_code == 201, saved.json()
    body = saved.json()
    assert body["query"] == "search=purchase&sort=due"  # no paging, no strangers
    listed = api.get("/api/v1/tasks/filters/").json()["results"]
    assert [f["name"] for f in listed] == ["Purchases, urgent"]
    applied = api.get("/api/v1/tasks/?" + body["query"]).json()
    assert [t["id"] for t in applied["results"]] == [str(review.pk)]
    again = api.post(
        "/api/v1/tasks/filters/",
        {"name": "Purchases, urgent", "query": "filter=overdue"},
        format="json",
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert SavedFilter.objects.get().query == "filter=overdue"
    other = api_for(users["manager2"])
    assert other.get("/api/v1/tasks/filters/").json()["count"] == 0
    assert other.delete(f"/api/v1/tasks/filters/{body['id']}/").status_code == 404
    assert api.delete(f"/api/v1/tasks/filters/{body['id']}/").status_code == 204
    assert not SavedFilter.objects.exists()


def test_a_filter_needs_a_name(users):
    api = api_for(users["manager1"])
    for name in ("", "   ", "x" * 101):
        response = api.post(
            "/api/v1/tasks/filters/", {"name": name, "query": "q=a"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["details"]["fields"]["name"]
    assert not SavedFilter.objects.exists()


def test_save_apply_and_delete_on_the_inbox_page(users, review):
    page = page_for(users["manager1"])
    response = page.post(
        "/filters/",
        {"name": "Mine", "query": "search=purchase&filter=all"},
        follow=True,
    )
    html = response.content.decode()
    assert "Filter “Mine” saved." in html
    assert response.redirect_chain[-1][0] == "/?search=purchase&filter=all"
    assert 'href="?search=purchase&amp;filter=all" aria-current="true">Mine</a>' in html
    assert "Manager approval" in html
    saved = SavedFilter.objects.get()
    assert (
        page_for(users["manager2"]).post(f"/filters/{saved.pk}/delete/").status_code
        == 404
    )
    response = page.post(f"/filters/{saved.pk}/delete/", follow=True)
    assert "Filter deleted." in response.content.decode()
    assert not SavedFilter.objects.exists()
    refused = page.post("/filters/", {"name": "", "query": "search=x"}, follow=True)
    assert "Give the filter a name" in refused.content.decode()
