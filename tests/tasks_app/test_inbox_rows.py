"""The inbox page's rows are the markup its row template wrote, character for
character (templatetags/inbox.py `inbox_rows` writes them since issue #16's
`inbox_100k_vs_1k`: the template cost ~0.25 ms of CPU a row).

REFERENCE is that template's loop as it was (inbox_rows_reference.html),
rendered here with the tasks read as it read them (select_related model
objects, Django's own filters); the page must hold the same `<tbody>` for rows
of every kind: due dates overdue, due and none, ages of minutes to over a year,
priorities above, at and below normal, claimed by the user, unclaimed,
delegated, of a suspended case (not shown) and resumed, long names and keys,
text to escape, with the chosen process's data columns and without, and the
one-case page (read without the candidate table).
"""

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, engines
from django.template.base import render_value_in_context
from django.template.defaultfilters import timesince_filter, timeuntil_filter
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from cockpit.services.repairs import case_resume, case_suspend
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_delegate, task_plan
from tasks_app.templatetags.inbox import _page_of
from tests.clients import page_for
from tests.tasks_app.test_business_columns import _diagram

pytestmark = pytest.mark.django_db

# The row loop of templates/tasks_app/inbox.html before `inbox_rows`.
REFERENCE = "{% load inbox %}" + (
    Path(__file__).with_name("inbox_rows_reference.html").read_text()
)


_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _tbody(html: str) -> str:
    start = html.index("<tbody>\n") + len("<tbody>\n")
    return html[start : html.index("      </tbody>", start)]


def _reference(response, ids: list[str], columns: list[str]) -> str:
    """REFERENCE rendered for the page's rows, as the template did."""
    tasks = HumanTask.objects.select_related(
        "case__version__definition", "case__started_by", "assignee"
    ).in_bulk(ids)
    now = timezone.now()
    rows = []
    for pk in ids:
        task = tasks[pk]
        task.links = SimpleNamespace(
            detail=reverse("task-detail", args=[task.pk]),
            claim=reverse("task-claim", args=[task.pk]),
            case=reverse("case-detail", args=[task.case_id]),
            case_short=str(task.case_id)[-8:],
            overdue=task.due_at is not None and task.due_at < now,
        )
        rows.append(task)
    template = engines["django"].from_string(REFERENCE)
    context = {"tasks": rows, "data_columns": columns}
    return template.render(context, request=response.wsgi_request)


def _same_rows(client, url: str, *, shown: int) -> str:
    """Assert the page's rows are REFERENCE's; return them."""
    response = client.get(url)
    assert response.status_code == 200
    page = response.context["page"]
    ids = [task.pk for task in page.results]
    assert len(ids) == shown, url
    rows = _tbody(response.content.decode())
    expected = _reference(response, ids, response.context["data_columns"])
    assert _TOKEN.sub("token", rows) == _TOKEN.sub("token", expected), url
    return rows


def _review(users, amount, justification, key="") -> HumanTask:
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": amount, "justification": justification},
        business_key=key,
    )
    return HumanTask.objects.get(case=case, status="open")


@pytest.fixture
def desk(users):
    """Reviews of every kind a row shows, offered to the managers."""
    version_upload(user=users["analyst"], bpmn=_diagram(), filename="purchase.bpmn")
    now, padmin = timezone.now(), users["padmin"]
    long = "A very long justification that wraps " * 5
    tasks = {
        "overdue": _review(users, 1250, "Colour printer", "PO-1 <b>&amp;</b>"),
        "soon": _review(users, 30, 'Ink "black" & <red>', "PO-" + "9" * 120),
        "none": _review(users, 1, long),
        "later": _review(users, 99999, "Desk"),
        "mine": _review(users, 5, "Chair", "PO-MINE"),
        "delegated": _review(users, 6, "Lamp"),
        "suspended": _review(users, 7, "Paused"),
    }
    plans = {
        "overdue": (now - timedelta(days=2, hours=3, minutes=30), 80),
        "soon": (now + timedelta(hours=5, minutes=30), 20),
        "none": (None, 50),
        "later": (now + timedelta(days=45, minutes=30), 100),
        "mine": (now + timedelta(minutes=90), 0),
    }
    for name, (due, priority) in plans.items():
        task_plan(user=padmin, task_id=tasks[name].pk, due_at=due, priority=priority)
    # Their ages: minutes, days, weeks, over a year.
    for name, age in (
        ("overdue", timedelta(minutes=7, seconds=30)),
        ("soon", timedelta(days=3, hours=4, minutes=30)),
        ("later", timedelta(days=400, minutes=30)),
        ("none", timedelta(weeks=2, days=1, minutes=30)),
    ):
        HumanTask.objects.filter(pk=tasks[name].pk).update(created_at=now - age)
    HumanTask.objects.filter(pk=tasks["none"].pk).update(name="Approve " + long)
    task_claim(user=users["manager1"], task_id=tasks["mine"].pk)
    task_claim(user=users["manager1"], task_id=tasks["delegated"].pk)
    task_delegate(
        user=users["manager1"], task_id=tasks["delegated"].pk, delegate="manager2"
    )
    case_suspend(user=padmin, case_id=tasks["suspended"].case_id, reason="audit")
    return tasks


def test_the_rows_are_the_templates(users, desk):
    manager1, manager2 = page_for(users["manager1"]), page_for(users["manager2"])
    rows = _same_rows(manager1, "/", shown=5)
    assert "badge badge-mine" in rows and "Unclaimed" not in rows.split("Chair")[1]
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in rows and 'class="overdue"' in rows
    assert "No due date" in rows and "Normal priority" in rows
    _same_rows(manager1, "/?process=purchase_request", shown=5)
    _same_rows(manager1, "/?process=purchase_request&sort=due&search=po", shown=3)
    _same_rows(manager1, "/?filter=mine", shown=1)
    _same_rows(manager1, f"/?case={desk['soon'].case_id}", shown=1)
    delegated = _same_rows(manager2, "/?sort=-created", shown=5)
    assert delegated.count("badge badge-mine") == 1
    case_resume(user=users["padmin"], case_id=desk["suspended"].case_id, reason="done")
    _same_rows(manager2, "/?sort=process", shown=6)


def test_the_rows_of_another_users_task_name_its_assignee(users, desk):
    """A task assigned to someone else shows their name (the inbox lists only
    the user's and unclaimed tasks: the tag is asked directly)."""
    response = page_for(users["manager2"]).get("/?filter=mine")
    ids = [task.pk for task in response.context["page"].results]
    template = engines["django"].from_string(
        "{% load inbox %}        {% inbox_rows tasks data_columns %}\n"
    )
    from tasks_app.selectors import InboxQuery, inbox_list_for_user

    tasks = list(inbox_list_for_user(user=users["manager2"], query=InboxQuery()))
    request = response.wsgi_request
    request.user = users["manager1"]
    ours = template.render({"tasks": tasks, "data_columns": []}, request=request)
    expected = _reference(response, [t.pk for t in tasks], [])
    assert "manager2" in ours and ids
    assert _TOKEN.sub("token", ours) == _TOKEN.sub("token", expected)


_MONTH_ENDS = (
    (2024, 2, 29),
    (2025, 2, 28),
    (2025, 12, 31),
    (2026, 1, 31),
    (2026, 3, 1),
)


def test_the_rows_time_words_are_djangos():
    """`inbox_rows` writes timesince/timeuntil and the due date's title with
    its own per-page copies of Django's (cheaper); over thousands of pairs of
    times (minutes to years apart, both ways, month ends, leap days) they write
    what Django's filters write."""
    rng = random.Random(16)
    context = Context({"request": RequestFactory().get("/"), "user": AnonymousUser()})
    made = _page_of(context, [])
    ends = [datetime(*day, 13, 5, 30, tzinfo=UTC) for day in _MONTH_ENDS]
    for _ in range(4000):
        now = rng.choice([timezone.now(), *ends])
        scale = rng.choice((90, 3_600, 86_400, 40 * 86_400, 800 * 86_400))
        then = now + timedelta(seconds=rng.uniform(-scale, scale))
        page = replace(made, now=now)
        if rng.random() < 0.2:  # a month's end, a leap day
            then = rng.choice(ends) + timedelta(minutes=rng.randint(-900, 900))
        assert page.since(then) == timesince_filter(then, now), (then, now)
        assert page.until(then) == timeuntil_filter(then, now), (then, now)
        assert page.dates(then) == render_value_in_context(then, context)
    now = timezone.now()
    page = replace(made, now=now)
    for minutes in (0, 1, 59, 60, 61, 24 * 60):
        then = now - timedelta(minutes=minutes)
        assert page.since(then) == timesince_filter(then, now)
