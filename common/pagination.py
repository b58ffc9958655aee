"""One way to page a list, for the JSON API and the HTML pages alike.

Both use DRF's page size and `?page=` parameter, so a page of the inbox and a page
of /api/v1/tasks/ hold the same rows, in the API's shape {count, next, previous,
results}.
"""

import functools
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView


@functools.cache
def paginated(item: type[BaseSerializer]) -> type[serializers.Serializer]:
    """Return the serializer of one page of `item`s, for the OpenAPI schema."""
    name = getattr(getattr(item, "Meta", None), "ref_name", None) or item.__name__
    fields = {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True),
        "Meta": type("Meta", (), {"ref_name": f"Paginated{name}"}),
    }
    return type(f"Paginated{name}", (serializers.Serializer,), fields)


# The annotation a list may carry with the number of rows of the whole list
# (COUNT(*) OVER (), computed while the page's rows are sorted): the paginator
# reads it instead of counting them again.
PAGE_TOTAL = "page_total"


class CountingPaginator(Paginator):
    """Django's Paginator that counts the rows only when it cannot tell otherwise.

    It reads one row more than the page holds: a page with room to spare is the
    last, so the count is the rows before it plus its own, with no COUNT query
    (the inbox of one case, a short list: one statement instead of two). Rows
    that carry `PAGE_TOTAL` tell the count of a full page too. A full page
    without it, an empty one past the first, or `orphans` count as Django does.
    """

    def page(self, number: Any) -> Page:
        if self.orphans or "count" in self.__dict__:
            return super().page(number)
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return super().page(number)
        if wanted < 1:
            return super().page(number)
        bottom = (wanted - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if len(rows) > self.per_page and hasattr(rows[0], PAGE_TOTAL):
            self.__dict__["count"] = getattr(rows[0], PAGE_TOTAL)
            return Page(rows[: self.per_page], wanted, self)
        if len(rows) > self.per_page:  # more after it: how many, COUNT says
            if wanted > self.num_pages:  # the rows went meanwhile
                return super().page(number)
            return Page(rows[: self.per_page], wanted, self)
        if not rows and (wanted > 1 or not self.allow_empty_first_page):
            return super().page(number)  # past the end: EmptyPage, as Django
        self.__dict__["count"] = bottom + len(rows)
        return Page(rows, wanted, self)


class Pageable(Protocol):
    """A list read a page at a time (tasks_app.selectors.InboxRows): sliced for
    a page's rows, counted by `count()`."""

    def __getitem__(self, index: Any) -> Any: ...

    def count(self) -> int: ...


class _Pagination(PageNumberPagination):
    django_paginator_class = CountingPaginator


def paginated_response(
    *,
    request: Request,
    view: APIView,
    items: QuerySet[Any] | list[Any] | Pageable,
    serializer: type[BaseSerializer],
) -> Response:
    """Return one page of `items`, serialized, with DRF's count/next/previous."""
    paginator = _Pagination()
    paginator.page_size = page_size()
    # DRF pages any sliceable sequence (typed as a QuerySet).
    page: list[Any] | None = paginator.paginate_queryset(
        items,  # type: ignore[arg-type]
        request,
        view=view,
    )
    return paginator.get_paginated_response(serializer(page, many=True).data)


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
    size = settings.REST_FRAMEWORK.get("PAGE_SIZE")
    return int(size) if isinstance(size, int | str) and size else 50


def _link(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return f"{request.path}?{params.urlencode()}"


def page_of(request: HttpRequest, items: Any, *, count: int | None = None) -> PageOf:
    """Return the page `?page=` asks for (the last past the end, else the first).

    `count`, when the caller has counted `items` already (the inbox's tab), saves
    the paginator's COUNT.
    """
    paginator = CountingPaginator(items, page_size())
    if count is not None:
        paginator.__dict__["count"] = count
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
