"""Migrating cases from the cockpit's version page, in headless Chromium."""

import os

import pytest
from celery.contrib.testing.worker import start_worker

from cockpit.tasks import migration_run_task  # noqa: F401 - registers the task
from config.celery import app
from engine.models import Case
from tests.cockpit.test_migration import _deploy, _start
from tests.web.test_browser import CHROMIUM
from tests.web.test_csp_browser import Watched
from tests.web.test_diagram_browser import browser  # noqa: F401 - the fixture

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
SHOTS = os.environ.get("COCKPIT_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


def test_a_process_admin_checks_then_migrates_from_the_version_page(
    live_server,
    users,
    tmp_path,
    browser,  # noqa: F811 - the fixture
):
    _deploy(tmp_path, users, ["A", "B"])
    case = _start(users)
    _deploy(tmp_path, users, ["A2", "B"])
    admin = Watched(browser, live_server.url, "padmin")
    page = admin.page
    admin.visit("/cockpit/processes/mig/versions/1/", "#migrate")
    page.select_option("select[name=to_version]", "2")
    page.click("button[value=check]")
    check = page.locator("#migration-check")
    assert "0 can move, 1 cannot" in check.inner_text()
    assert "no element “A”" in check.inner_text()
    assert Case.objects.get(pk=case.pk).version.number == 1

    page.fill("textarea[name=mapping]", "A = A2")
    page.fill("input[name=reason]", "renamed the first step")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "migrate-form.png"), full_page=True)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        page.click("button[value=migrate]")
        page.wait_for_url("**/migrations/**")
        assert "this page shows the progress" in page.inner_text("body")
        page.locator("#migration-status", has_text="Finished").wait_for(timeout=20_000)
    assert str(case.pk) in page.inner_text("#migrated-cases")
    assert Case.objects.get(pk=case.pk).version.number == 2
    if SHOTS:
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(SHOTS, "migration-phone.png"), full_page=True)
    assert admin.problems == []
