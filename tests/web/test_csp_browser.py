"""The Content-Security-Policy (issue 14, item 4): every main page lives with it.

Headless Chromium opens the pages with their forms and the bpmn-js diagram, and
listens to the console: the browser reports every blocked script, style, font or
image there ("Refused to ... because it violates the following Content Security
Policy directive").
"""

import os

import pytest
from django.contrib.auth import get_user_model

from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import PASSWORD
from tests.web.test_browser import CHROMIUM, Session
from tests.web.test_diagram_browser import browser  # noqa: F401 - the fixture

# Playwright's sync API runs an event loop in this thread (see test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


class Watched(Session):
    """A signed-in session that records console errors and page errors."""

    def __init__(self, chromium, base_url: str, username: str) -> None:
        self.problems: list[str] = []
        super().__init__(chromium, base_url, username)

    def visit(self, path: str, ready: str = "main") -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"{path}: {exc}"))
        response = self.page.goto(path)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, (path, policy)
        self.page.locator(ready).first.wait_for()
        self.page.wait_for_load_state("networkidle")
        self.page.remove_listener("console", self._console)

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{self.page.url}: {message.text}")


@pytest.fixture
def root(users):
    return get_user_model().objects.create_superuser(
        "root", "root@example.com", PASSWORD
    )


def test_main_pages_run_under_the_csp_without_violations(
    live_server,
    users,
    purchase,
    root,
    browser,  # noqa: F811 - the fixture imported above
):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 450, "justification": "Second monitor"},
    )
    task = HumanTask.objects.get(case=case, status="open")
    admin = Watched(browser, live_server.url, "root")  # signed in through the form
    for path in [
        "/",
        "/dashboard/",
        "/start/",
        "/processes/purchase_request/start/",
        "/cases/",
        "/processes/",
        "/processes/purchase_request/",
        "/processes/upload/",
        "/incidents/",
        "/audit/",
    ]:
        admin.visit(path)
    admin.visit(f"/cases/{case.pk}/", ready="#diagram.is-ready svg")
    admin.visit("/processes/purchase_request/v1/", ready="#diagram.is-ready svg")
    # Swagger UI is served from this server (no CDN: the machine has no network).
    outside: list[str] = []
    admin.page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url),
    )
    admin.visit("/api/docs/", ready=".swagger-ui .opblock")
    assert outside == []
    manager = Watched(browser, live_server.url, "manager1")
    manager.visit(f"/tasks/{task.pk}/", ready="form")
    assert admin.problems + manager.problems == []
    admin.close()
    manager.close()


def test_an_inline_script_is_refused(live_server, users, browser):  # noqa: F811
    """The policy really blocks: a script injected into a page does not run."""
    session = Watched(browser, live_server.url, "requester")
    session.visit("/")
    session.page.on("console", session._console)
    ran = session.page.evaluate(
        """() => {
            window.injected = false;
            const s = document.createElement("script");
            s.textContent = "window.injected = true";
            document.body.appendChild(s);
            return window.injected;
        }"""
    )
    session.page.wait_for_timeout(200)
    assert ran is False
    assert any("Content Security Policy" in p for p in session.problems)
    session.close()
