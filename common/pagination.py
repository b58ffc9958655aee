"""One way the JSON API pages a list (DRF's page-number pagination, PAGE_SIZE)."""

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView


def paginated_response(
    *,
    request: Request,
    view: APIView,
    items: QuerySet[Any],
    serializer: type[BaseSerializer],
) -> Response:
    """Return one page of `items`, serialized, with DRF's count/next/previous."""
    paginator = PageNumberPagination()
    page: list[Any] | None = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)
