"""Template tags and filters of the inbox pages.

`inbox_rows` writes the rows of an inbox page. A page shows up to 50 rows and
each row about forty values, four of them dates; written by the template
language, with a filter and a URL per value, a row cost ~0.25 ms of CPU, as much
as the rest of the page for 50 rows (issue #16, `inbox_100k_vs_1k`). Here what
is the same for every row (the URLs' shape, the CSRF field, the time now, the
translated time words) is made once per page, and each row is one string. The
markup is the one the template wrote, character for character
(tests/tasks_app/test_inbox_rows.py renders the template's rows beside it).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.template.base import render_value_in_context
from django.template.context import Context
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.html import avoid_wrapping, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import (
    MONTHS_DAYS,
    TIME_CHUNKS,
    TIME_STRINGS,
    TIME_STRINGS_KEYS,
)
from django.utils.translation import gettext

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """Return mapping[key], or None (a business-data column a task lacks)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


def _timesince(d: datetime, now: datetime, words: dict, comma: str) -> str:
    """django.utils.timesince.timesince(d, now, time_strings=words) of aware
    datetimes (depth 2), its ", " translated once per page (`comma`): Django's
    algorithm, line for line (tests/tasks_app/test_inbox_rows.py compares the
    two over thousands of pairs)."""
    now = now.astimezone(d.tzinfo)
    delta = now - d
    if delta.days * 24 * 60 * 60 + delta.seconds <= 0:
        return avoid_wrapping(words["minute"] % {"num": 0})
    total_months = (now.year - d.year) * 12 + (now.month - d.month)
    if d.day > now.day or (d.day == now.day and d.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    remaining = (now - _pivot(d, years, months)).total_seconds()
    partials = [years, months]
    for chunk in TIME_CHUNKS:
        count = int(remaining // chunk)
        partials.append(count)
        remaining -= chunk * count
    shown = []
    for name, value in zip(TIME_STRINGS_KEYS, partials, strict=True):
        if value:
            shown.append(avoid_wrapping(words[name] % {"num": value}))
        elif shown:
            break
        if len(shown) == 2:
            break
    if not shown:
        return avoid_wrapping(words["minute"] % {"num": 0})
    return comma.join(shown)


def _pivot(d: datetime, years: int, months: int) -> datetime:
    """`d` shifted by whole years and months (timesince's pivot)."""
    if not (years or months):
        return d
    year, month = d.year + years, d.month + months
    if month > 12:
        month -= 12
        year += 1
    day = min(MONTHS_DAYS[month - 1], d.day)
    return datetime(year, month, day, d.hour, d.minute, d.second, tzinfo=d.tzinfo)


class _Counted:
    """One of Django's time words ("%(num)d days", translated), each number's
    text made once: `_timesince` writes `word % {"num": n}`."""

    __slots__ = ("cache", "word")

    def __init__(self, word: Any) -> None:
        self.word = word
        self.cache: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        number = values["num"]
        text = self.cache.get(number)
        if text is None:
            text = self.cache[number] = str(self.word % values)
        return text


# DateFormat's format characters that read only the date, or only the hour
# and minute, of the datetime they format.
_OF_DATE = frozenset("bdDEFjlLmMnNoStwWyYz")
_OF_MINUTE = frozenset("aAfgGhHiP")


class _Dates:
    """`{{ value }}` of aware datetimes (localize(), the DATETIME_FORMAT of the
    active language, in the current time zone), each format character's text
    made once per page for the date or the hour and minute it reads: the rows'
    due dates fall on a few days and times."""

    def __init__(self) -> None:
        pieces = re_formatchars.split(str(get_format("DATETIME_FORMAT")))
        self.pieces = [
            (bool(i % 2), piece if i % 2 else re_escaped.sub(r"\1", piece))
            for i, piece in enumerate(pieces)
            if piece
        ]
        self.cache: dict[tuple, str] = {}

    def __call__(self, value: datetime) -> str:
        local, made = timezone.localtime(value), None
        texts = []
        for special, piece in self.pieces:
            if not special:
                texts.append(piece)
                continue
            if piece in _OF_DATE:
                key: tuple = (piece, local.year, local.month, local.day)
            elif piece in _OF_MINUTE:
                key = (piece, local.hour, local.minute)
            else:
                key = (piece, local)
            text = self.cache.get(key)
            if text is None:
                made = made or DateFormat(local)
                text = self.cache[key] = str(getattr(made, piece)())
            texts.append(text)
        return escape("".join(texts))


_MARK = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class _Page:
    """What every row of one page shares."""

    context: Context
    now: datetime
    words: dict[str, _Counted]
    comma: str  # ", " translated
    detail: str  # URLs with _MARK for the task's or the case's id
    claim: str
    case: str
    me: Any  # the user's pk
    csrf: str  # the claim form's hidden CSRF field
    next_url: str  # escaped
    columns: list[str]  # the chosen process's business-data columns, or none
    dates: _Dates
    numbers: dict[int, str]

    def text(self, value: Any) -> str:
        """`{{ value }}`: localized and escaped as the template language does."""
        if type(value) is str:
            return escape(value)
        if type(value) is int:
            text = self.numbers.get(value)
            if text is None:
                text = self.numbers[value] = render_value_in_context(
                    value, self.context
                )
            return text
        return render_value_in_context(value, self.context)

    def since(self, value: datetime) -> str:
        """`value|timesince`, escaped."""
        return escape(_timesince(value, self.now, self.words, self.comma))

    def until(self, value: datetime) -> str:
        """`value|timeuntil`, escaped."""
        now = self.now.astimezone(value.tzinfo)
        return escape(_timesince(now, value, self.words, self.comma))


@register.simple_tag(takes_context=True)
def inbox_rows(context: Context, tasks: list[Any], columns: list[str]) -> SafeString:
    """Return the `<tr>` of each task of an inbox page (selectors' rows: a
    HumanTask with `_shown`'s values), as the template's loop wrote them."""
    page = _page_of(context, columns)
    return mark_safe("".join([_row(page, task) for task in tasks]))


def _page_of(context: Context, columns: list[str]) -> _Page:
    request = context["request"]
    detail, claim, case = (
        reverse(name, args=[_MARK])
        for name in ("task-detail", "task-claim", "case-detail")
    )
    return _Page(
        context=context,
        now=timezone.now(),
        words={name: _Counted(word) for name, word in TIME_STRINGS.items()},
        comma=gettext(", "),
        detail=detail,
        claim=claim,
        case=case,
        me=context["user"].pk,
        csrf=CsrfTokenNode().render(context),
        next_url=escape(request.get_full_path()),
        columns=columns,
        dates=_Dates(),
        numbers={},
    )


def _row(page: _Page, task: Any) -> str:
    text, pk, case_pk = page.text, str(task.pk), str(task.case_id)
    detail = page.detail.replace(_MARK, pk)
    name = text(task.name)
    lane = f'<span class="cell-sub">{text(task.lane)}</span>' if task.lane else ""
    key = task.business_key
    business_key = (
        f'<span class="cell-sub clamp-2" title="{text(key)}">{text(key)}</span>'
        if key
        else ""
    )
    mine = task.assignee_id == page.me
    return (
        "\n        <tr>\n"
        "          <td>\n"
        f'            <a class="cell-title" href="{detail}">{name}</a>\n'
        f"            {lane}\n"
        "          </td>\n"
        f"          <td>{text(task.process_name)}</td>\n"
        '          <td class="cell-case">\n'
        f'            <a class="mono" href="{page.case.replace(_MARK, case_pk)}">'
        f"{case_pk[-8:]}</a>\n"
        f'            <span class="cell-sub">by {text(task.starter_username)}</span>'
        f"{business_key}\n"
        "          </td>\n"
        f"          {_data_cells(page, task.business_data)}\n"
        '          <td class="nowrap">\n'
        f"            {_due(page, task.due_at)}\n"
        f'            <span class="cell-sub">created {page.since(task.created_at)}'
        " ago</span>\n"
        "          </td>\n"
        f'          <td class="num">{_priority(text(task.priority), task.priority)}'
        "</td>\n"
        "          <td>\n"
        f"            {_assignee(text, mine, task.assignee_username)}\n"
        "          </td>\n"
        '          <td class="actions">\n'
        f"            {'' if task.assignee_id else _claim(page, pk, name)}\n"
        f'            <a class="button small primary" href="{detail}">Open</a>\n'
        "          </td>\n"
        "        </tr>\n"
        "        "
    )


def _data_cells(page: _Page, data: Any) -> str:
    """The business-data cells: one per chosen column, else one of them all."""
    text = page.text
    if page.columns:
        cells = []
        for column in page.columns:
            value = get_item(data, column)
            cells.append(
                '<td class="data-col"><span class="clamp-2" '
                f'title="{text(value or "")}">{text(value or "—")}</span></td>'
            )
        return "".join(cells)
    items = data.items() if isinstance(data, dict) else ()
    values = "".join(
        f'<span class="cell-sub clamp-2" title="{text(value)}">'
        f'<span class="subtle">{text(name)}</span> {text(value)}</span>'
        for name, value in items
    )
    return f'\n          <td class="data-col">{values or _NONE}</td>'


_NONE = '<span class="subtle">—</span>'


def _due(page: _Page, due: datetime | None) -> str:
    if due is None:
        return '<span class="subtle">No due date</span>'
    local = timezone.localtime(due)
    if due < page.now:
        shown = f' class="overdue">Overdue by {page.since(due)}'
    else:
        shown = f">in {page.until(due)}"
    return (
        f'\n            <time datetime="{escape(local.isoformat())}" '
        f'title="Due {page.dates(due)}"{shown}</time>\n            '
    )


def _priority(shown: str, priority: int) -> str:
    if priority > 50:
        return (
            f'<span class="badge badge-warn" title="Priority {shown} '
            f'(normal is 50)">{shown}</span>'
        )
    if priority < 50:
        return (
            f'<span class="subtle" title="Priority {shown} (normal is 50)">'
            f"{shown}</span>"
        )
    return f'<span title="Normal priority">{shown}</span>'


def _assignee(text: Any, mine: bool, username: str | None) -> str:
    if mine:
        return '<span class="badge badge-mine">You</span>\n            '
    if username is not None:
        return f"{text(username)}\n            "
    return '<span class="subtle">Unclaimed</span>'


def _claim(page: _Page, pk: str, name: str) -> str:
    return (
        "\n"
        f'            <form method="post" action="{page.claim.replace(_MARK, pk)}">\n'
        f'              {page.csrf}<input type="hidden" name="next" '
        f'value="{page.next_url}">\n'
        '              <button type="submit" class="button small" '
        f'aria-label="Claim {name}">Claim</button>\n'
        "            </form>\n"
        "            "
    )
