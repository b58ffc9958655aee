"""Refuse a request body too large to read before anything reads it.

Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or form data is
read; DRF's parsers read the stream directly, so a 100 MB JSON body would be read,
decoded and parsed whole. This middleware answers 413 from the Content-Length header
alone, before a byte of the body is read. A body without Content-Length (chunked) is
not read by Django at all.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body, wants_json

TOO_LARGE = "The request body is {size} bytes; at most {limit} bytes are accepted."


def declared_body_size(request: HttpRequest) -> int:
    """Return the body size the client declared (0 when absent or not a number)."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    """Answer 413 to a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE, unread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = declared_body_size(request)
        if limit is None or size <= limit:
            return self.get_response(request)
        message = TOO_LARGE.format(size=size, limit=limit)
        if wants_json(request):
            body = error_body("request_too_large", message, {"limit": limit})
            return JsonResponse(body, status=413)
        return HttpResponse(message, status=413, content_type="text/plain")
