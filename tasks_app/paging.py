"""Page a list for the HTML pages in the API's shape: {count, next, previous, results}.

A small stand-in for a shared helper: the pages use DRF's page size and `?page=`
parameter, so a page of the inbox and a page of /api/v1/tasks/ hold the same rows.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpRequest


@dataclass(frozen=True, slots=True)
class PageOf:
    """One page of a list and the links to its neighbours."""

    count: int
    next: str | None
    previous: str | None
    results: list[Any]
    number: int
    num_pages: int


def page_size() -> int:
    """Return the API's page size (REST_FRAMEWORK["PAGE_SIZE"])."""
    return int(settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50)


def _link(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return f"{request.path}?{params.urlencode()}"


def page_of(request: HttpRequest, items: Any) -> PageOf:
    """Return the page `?page=` asks for (the last one when past the end, else the first)."""
    paginator = Paginator(items, page_size())
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    return PageOf(
        count=paginator.count,
        next=_link(request, page.next_page_number()) if page.has_next() else None,
        previous=(
            _link(request, page.previous_page_number()) if page.has_previous() else None
        ),
        results=list(page.object_list),
        number=page.number,
        num_pages=paginator.num_pages,
    )
