"""The cockpit in headless Chromium: heatmap badges, a click, a chart, no CSP error."""

import os

import pytest

from tests.web.test_browser import CHROMIUM
from tests.web.test_csp_browser import Watched
from tests.web.test_diagram_browser import browser  # noqa: F401 - the fixture

# Playwright's sync API runs an event loop in this thread (see test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
SHOTS = os.environ.get("COCKPIT_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_heatmap_badges_and_a_click_list_the_waiting_cases(
    live_server,
    reviewed,
    browser,  # noqa: F811 - the fixture
):
    _, waiting = reviewed
    admin = Watched(browser, live_server.url, "padmin")
    page = admin.page
    admin.visit("/cockpit/processes/purchase_request/versions/1/", ".heat")
    badge = page.locator('.heat[data-element="manager_review"]')
    assert badge.inner_text() == "1 waiting · ✓ 4 · ⌀ 25 s"
    assert "median 25 s, p90 1.3 min" in badge.get_attribute("title")
    finance = page.locator('#diagram .djs-element[data-element-id="finance_review"]')
    assert "active" in finance.get_attribute("class").split()
    _shot(page, "heatmap.png")
    page.locator(
        '#diagram .djs-element[data-element-id="manager_review"] .djs-hit'
    ).click()
    page.wait_for_url("**element=manager_review*")
    links = page.locator("#waiting-cases a")
    assert links.count() == 1
    assert str(waiting.pk) in links.first.get_attribute("href")
    assert admin.problems == []


def test_the_dashboard_chart_draws_under_the_csp(
    live_server,
    reviewed,
    browser,  # noqa: F811 - the fixture
):
    admin = Watched(browser, live_server.url, "padmin")
    query = "?since=2026-03-01T00:00&until=2026-03-04T00:00"
    admin.visit("/cockpit/" + query, "#cases-per-day[data-ready='true']")
    drawn = admin.page.evaluate(
        "() => document.getElementById('cases-per-day').chart.data.datasets"
        ".map(d => d.data.reduce((a, b) => a + b, 0))"
    )
    assert drawn == [5, 0]  # five started in the range, none completed
    _shot(admin.page, "dashboard.png")
    assert admin.problems == []


def test_a_case_is_moved_from_its_repair_page(
    live_server,
    users,
    purchase,
    browser,  # noqa: F811 - the fixture
):
    from engine.services import case_start
    from tasks_app.models import HumanTask

    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    first = HumanTask.objects.get(case=case, bpmn_id="manager_review")
    admin = Watched(browser, live_server.url, "padmin")
    page = admin.page
    for width, name in ((1280, "move.png"), (390, "move-phone.png")):
        page.set_viewport_size({"width": width, "height": 900})
        admin.visit(f"/cockpit/cases/{case.pk}/", "#move-form")
        _shot(page, name)
    form = page.locator("#move-form")
    form.locator('input[name="cancel"][value="manager_review"]').check()
    form.locator('select[name="start_before"]').select_option("manager_review")
    form.locator('input[name="reason"]').fill("offer the review again")
    form.locator('button[type="submit"]').click()
    page.get_by_text("The case was moved.").wait_for()
    _shot(page, "moved-phone.png")
    first.refresh_from_db()
    assert first.status == "cancelled"
    again = HumanTask.objects.get(case=case, bpmn_id="manager_review", status="open")
    assert again.pk != first.pk
    assert admin.problems == []
