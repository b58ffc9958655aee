"""The BPMN diagram drawn by bpmn-js on version and case pages (headless Chromium)."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.web.test_browser import ARGS, CHROMIUM, Session

# Playwright's sync API runs an event loop in this thread (see test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

VIEWER = Path(settings.BASE_DIR) / "node_modules" / "bpmn-js" / "dist"
BPMN = Path(__file__).resolve().parents[1] / "bpmn"

# A layout (BPMN DI) for tests/bpmn/hostile_gateway.bpmn, which has none.
SHAPES = {
    "start": (100, 122, 36, 36),
    "prepare": (190, 100, 100, 80),
    "gw": (345, 115, 50, 50),
    "approve": (450, 100, 100, 80),
    "end": (610, 122, 36, 36),
}
EDGES = {
    "f1": [(136, 140), (190, 140)],
    "f2": [(290, 140), (345, 140)],
    "f_big": [(370, 115), (370, 80), (500, 80), (500, 100)],
    "f_small": [(395, 140), (450, 140)],
    "f_end": [(550, 140), (610, 140)],
}


def _layout() -> str:
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}">'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        for e, (x, y, w, h) in SHAPES.items()
    )
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}">'
        + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
        + "</bpmndi:BPMNEdge>"
        for f, points in EDGES.items()
    )
    return (
        '<bpmndi:BPMNDiagram id="layout"'
        ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
        f'<bpmndi:BPMNPlane id="plane" bpmnElement="hostile_gateway">{shapes}{edges}'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )


def _hostile(users, *, layout: bool):
    """Start a case whose script task never ends: an open incident at 'prepare'."""
    xml = (BPMN / "hostile_gateway.bpmn").read_text()
    xml = xml.replace("SCRIPT", "while True:\n    pass").replace(
        "CONDITION", "amount &gt; 1"
    )
    if layout:
        xml = xml.replace("</bpmn:definitions>", _layout() + "</bpmn:definitions>")
    version_upload(user=users["analyst"], bpmn=xml.encode(), filename="h.bpmn")
    case, _ = case_start(
        user=users["requester"], key="hostile_gateway", data={"amount": 5}
    )
    return case


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


@pytest.fixture
def browser(transactional_db):
    """Headless Chromium; request it after the fixtures that write to the database."""
    if not (VIEWER / "bpmn-navigated-viewer.production.min.js").is_file():
        pytest.fail(
            f"The diagram viewer is missing ({VIEWER}): run `npm ci` in the project "
            "directory (scripts/test does it; it needs Node.js and npm)."
        )
    playwright = pytest.importorskip("playwright.sync_api")
    connections.close_all()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
        connections.close_all()


def _open(case, bpmn_id):
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def _rejected_and_resubmitted(users):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 450, "justification": "Second monitor"},
    )
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": False, "comment": "Cheaper, please"},
    )
    task_complete(
        user=users["requester"],
        task_id=_open(case, "revise_request").pk,
        data={"amount": 320, "justification": "Second monitor"},
    )
    return case


def _element(page, bpmn_id):
    return page.locator(f'#diagram .djs-element[data-element-id="{bpmn_id}"]')


def _classes(page, bpmn_id) -> set[str]:
    return set((_element(page, bpmn_id).get_attribute("class") or "").split())


def _scale(page) -> float:
    return page.evaluate(
        "() => document.querySelector('#diagram .viewport')"
        ".transform.baseVal[0].matrix.a"
    )


def _watch_requests(page, base: str) -> list[str]:
    """Collect every URL the page asks for that is not on our own server."""
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith((base, "data:", "blob:"))
            else None
        ),
    )
    return outside


def test_case_page_draws_the_diagram_and_marks_completed_active_elements(
    live_server, users, purchase, browser
):
    case = _rejected_and_resubmitted(users)
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    outside = _watch_requests(page, live_server.url)
    page.goto(f"/cases/{case.pk}/")

    page.locator("#diagram.is-ready svg").first.wait_for()
    assert _element(page, "manager_review").count() == 1
    assert "active" in _classes(page, "manager_review")
    assert "completed" not in _classes(
        page, "manager_review"
    )  # active wins over a past visit
    for done in ("start", "gw_manager", "revise_request"):
        assert "completed" in _classes(page, done), done
    for untouched in ("finance_review", "end_approved", "end_rejected"):
        assert not {"completed", "active", "failed"} & _classes(page, untouched), (
            untouched
        )
    # Lanes are drawn; the marker colours really apply (not just the classes).
    assert (
        page.locator('#diagram .djs-element[data-element-id="Lane_manager"]').count()
        == 1
    )
    stroke = (
        _element(page, "manager_review")
        .locator(".djs-visual > :nth-child(1)")
        .evaluate("el => getComputedStyle(el).stroke")
    )
    assert stroke == "rgb(29, 111, 209)"  # --blue
    page.get_by_text("Completed", exact=True).wait_for()  # the legend
    marked = json.loads(page.locator("#diagram").get_attribute("data-marked"))
    assert marked["manager_review"] == "active" and marked["start"] == "completed"
    assert outside == []  # bpmn-js and its fonts come from this server, no CDN
    requester.close()


def test_completed_case_has_its_end_event_completed_and_nothing_active(
    live_server, users, purchase, browser
):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 80, "justification": "Keyboard"},
    )
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": True},
    )
    task_complete(
        user=users["finance"],
        task_id=_open(case, "finance_review").pk,
        data={"finance_approved": True},
    )
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    page.goto(f"/cases/{case.pk}/")
    page.locator("#diagram.is-ready svg").first.wait_for()
    assert "completed" in _classes(page, "end_approved")
    assert page.locator("#diagram .djs-element.active").count() == 0
    requester.close()


def test_element_with_an_open_incident_is_marked_failed(live_server, users, browser):
    case = _hostile(users, layout=True)
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    page.goto(f"/cases/{case.pk}/")
    page.locator("#diagram.is-ready svg").first.wait_for()
    assert "failed" in _classes(page, "prepare")
    assert "completed" in _classes(page, "start")
    assert page.locator("#diagram .djs-element.active").count() == 0
    stroke = (
        _element(page, "prepare")
        .locator(".djs-visual > :nth-child(1)")
        .evaluate("el => getComputedStyle(el).stroke")
    )
    assert stroke == "rgb(201, 55, 44)"  # --red
    requester.close()


def test_a_diagram_without_layout_says_so_instead_of_drawing_nothing(
    live_server, users, browser
):
    case = _hostile(users, layout=False)
    requester = Session(browser, live_server.url, "requester")
    page = requester.page
    page.goto(f"/cases/{case.pk}/")
    page.locator(
        "#diagram .diagram-message-error", has_text="no diagram layout"
    ).wait_for()
    requester.close()


def test_version_page_draws_the_diagram_without_markers(
    live_server, users, purchase, browser
):
    analyst = Session(browser, live_server.url, "analyst")
    page = analyst.page
    outside = _watch_requests(page, live_server.url)
    page.goto(f"/processes/{purchase.definition.key}/v{purchase.number}/")
    page.locator("#diagram.is-ready svg").first.wait_for()
    for bpmn_id in ("start", "manager_review", "finance_review", "end_approved"):
        assert _element(page, bpmn_id).count() == 1, bpmn_id
    assert (
        page.locator(
            "#diagram .djs-element.completed, #diagram .djs-element.active"
        ).count()
        == 0
    )
    # Zoom buttons: "+" enlarges, "Fit" brings the whole diagram back.
    scale = _scale(page)
    page.get_by_role("button", name="Zoom in").click()
    zoomed = _scale(page)
    assert zoomed > scale
    page.get_by_role("button", name="Fit").click()
    fitted = _scale(page)
    assert abs(fitted - scale) < 0.01
    assert outside == []
    analyst.close()


def test_a_diagram_that_cannot_be_loaded_says_so_on_the_page(
    live_server, users, purchase, browser
):
    analyst = Session(browser, live_server.url, "analyst")
    page = analyst.page
    page.route(
        "**/bpmn/",
        lambda route: route.fulfill(
            status=200, body="<not-bpmn/>", content_type="application/xml"
        ),
    )
    page.goto(f"/processes/{purchase.definition.key}/v{purchase.number}/")
    alert = page.locator("#diagram .diagram-message-error")
    alert.wait_for()
    assert alert.inner_text().startswith("The diagram cannot be shown:")
    assert alert.get_attribute("role") == "alert"

    page.unroute("**/bpmn/")
    page.route("**/bpmn/", lambda route: route.fulfill(status=500, body="boom"))
    page.reload()
    page.locator("#diagram .diagram-message-error", has_text="500").wait_for()
    analyst.close()
