"""Every main page fits a phone's width (390 px), as the people with the most links
in the top bar see them: nothing wider than the screen, nothing to scroll sideways,
and every link of the top bar and every button of a page's head in sight (not cut
off at the screen's edge, not behind a sideways scroll)."""

import pytest

from engine.models import Incident
from engine.services import case_start
from tests.conftest import BPMN_DIR, deploy
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from tests.web.test_inbox_browser import WIDTHS, _fits

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("who", ["padmin", "auditor", "manager1"])
def test_main_pages_fit_a_phone(
    live_server,
    users,
    purchase,
    who,
    browser,  # noqa: F811
):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 1500, "justification": "A long reason " * 30},
        business_key="PO-" + "9" * 60,
    )
    deploy(BPMN_DIR / "script_fails.bpmn", users["analyst"])
    failed, _ = case_start(
        user=users["requester"], key="script_fails", data={"amount": 3}
    )
    incident = Incident.objects.get(case=failed)
    pages = ["/", "/cases/", f"/cases/{case.pk}/", "/dashboard/", "/start/"]
    if who == "padmin":
        pages += [
            "/incidents/",
            f"/incidents/{incident.pk}/",
            "/processes/",
            "/processes/purchase_request/",
            "/cockpit/",
            f"/cockpit/cases/{case.pk}/",
            "/cockpit/processes/purchase_request/versions/1/",
        ]
    if who == "auditor":
        pages += ["/audit/"]
    session = Session(browser, live_server.url, who)
    page = session.page
    page.set_viewport_size(WIDTHS["phone"])
    too_wide = []
    for path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        try:
            _fits(page)
        except AssertionError as exc:
            culprits = page.evaluate(
                """[...document.querySelectorAll("body *")]
                .filter(e => e.getBoundingClientRect().width > innerWidth)
                .map(e => e.tagName + "." + e.className + " "
                     + Math.round(e.getBoundingClientRect().width))
                .slice(0, 8)"""
            )
            too_wide.append(f"{path}: {exc} {culprits}")
        too_wide += [f"{path}: {cut} is cut off" for cut in _out_of_sight(page)]
    assert too_wide == []


def _out_of_sight(page) -> list[str]:
    """The top bar's links and the page head's buttons not wholly on the screen."""
    return page.evaluate(
        """[...document.querySelectorAll(
              "header .nav a, header .user-menu a, header .user-menu button, "
              + ".page-head .actions .button")]
           .filter(e => {
              const r = e.getBoundingClientRect();
              return r.left < 0 || r.right > innerWidth || r.width === 0;
           })
           .map(e => JSON.stringify(e.textContent.trim()))"""
    )
