"""The one mapping from errors to HTTP: HTML pages and the JSON API share it.

Every error response goes through `error_response`: domain errors raised by
views (`DomainErrorMiddleware`), Django's 400/403/404/500 handlers and, for
the API, `api_exception_handler`. HTML pages use the one template
`errors/error.html`, which shows the response's own status.
"""

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from common.errors import DomainError

logger = logging.getLogger(__name__)

_HEADINGS = {
    400: "Something in the request needs fixing",
    403: "You can’t do that",
    404: "Not found",
    409: "That changed in the meantime",
    500: "Something went wrong",
}

# The heading of an error whose status alone would mislead: a refused start is a
# 409 ("changed in the meantime") though nothing changed.
_CODE_HEADINGS = {
    code: "This process is not started here"
    for code in (
        "not_startable_in_tasklist",
        "message_start_only",
        "start_only_by_event",
    )
}

_DRF_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    """Return the API error shape {code, message, details}."""
    return {"code": code, "message": message, "details": details or {}}


def domain_error_body(exc: DomainError) -> tuple[int, dict]:
    """Return (status, body) for one of our domain errors."""
    return int(exc.status), error_body(exc.code, exc.message, exc.details)


def wants_json(request: HttpRequest) -> bool:
    """Return whether the client asked for JSON (the API, or an Accept header)."""
    return request.path.startswith(
        ("/api/", "/engine-rest/")
    ) or "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, status: int, body: dict) -> HttpResponse:
    """Render an error body as JSON or as the error page, with its status."""
    if wants_json(request):
        return JsonResponse(body, status=status)
    context = {
        "error": body,
        "status": status,
        "heading": _CODE_HEADINGS.get(body.get("code", ""))
        or _HEADINGS.get(status)
        or HTTPStatus(status).phrase,
    }
    return render(request, "errors/error.html", context, status=status)


class DomainErrorMiddleware:
    """Render domain errors raised by views as error pages (JSON for API clients)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exc: Exception
    ) -> HttpResponse | None:
        if not isinstance(exc, DomainError):
            return None
        return error_response(request, *domain_error_body(exc))


def _handler(status: int, code: str, message: str) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, exception: object = None) -> HttpResponse:
        return error_response(request, status, error_body(code, message))

    return handler


# Django's handler400/403/404/500 (config/urls.py).


bad_request = _handler(400, "bad_request", "The request could not be understood.")
permission_denied = _handler(403, "permission_denied", "You may not do this.")
page_not_found = _handler(
    404, "not_found", "There is nothing here, or you may not see it."
)
server_error = _handler(500, "server_error", "Something went wrong on our side.")


def _drf_details(exc: drf_exceptions.APIException) -> dict:
    detail = exc.detail
    if isinstance(detail, dict):
        return {"fields": detail}
    if isinstance(detail, list):
        return {"errors": detail}
    return {}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every API error becomes {code, message, details}."""
    if isinstance(exc, DomainError):
        status, body = domain_error_body(exc)
        return Response(body, status=status)
    if isinstance(exc, ValidationError):
        details = {"fields": exc.message_dict} if hasattr(exc, "error_dict") else {}
        return Response(
            error_body("invalid", "; ".join(exc.messages), details), status=400
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_default_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, drf_exceptions.APIException)
    code = _DRF_CODES.get(response.status_code, "error")
    if isinstance(exc.detail, str):
        message = str(exc.detail)
    else:
        message = HTTPStatus(response.status_code).phrase
    response.data = error_body(code, message, _drf_details(exc))
    return response


# --- Camunda's REST error shape (/engine-rest/) ---------------------------------------

_CAMUNDA_TYPES = {
    400: "InvalidRequestException",
    401: "AuthenticationException",
    403: "AuthorizationException",
}


def _flat_fields(fields: Any, prefix: str = "") -> list[str]:
    if isinstance(fields, dict):
        return [
            line
            for name, value in fields.items()
            for line in _flat_fields(value, f"{prefix}.{name}" if prefix else str(name))
        ]
    if isinstance(fields, list) and all(isinstance(v, str) for v in fields):
        return [f"{prefix}: {' '.join(fields)}" if prefix else " ".join(fields)]
    if isinstance(fields, list):
        return [
            line
            for index, value in enumerate(fields)
            for line in _flat_fields(value, f"{prefix}[{index}]")
        ]
    return [f"{prefix}: {fields}" if prefix else str(fields)]


def camunda_error_body(status: int, body: dict) -> dict:
    """Return Laneway's {code, message, details} as Camunda's {type, message}.

    A Laneway domain error keeps its message (a state error is a RestException,
    as Camunda's REST layer reports it); field errors are spelled out in it.
    """
    message = str(body.get("message", ""))
    fields = (body.get("details") or {}).get("fields")
    if fields:
        message = "; ".join(_flat_fields(fields))
    kind = _CAMUNDA_TYPES.get(status, "RestException")
    if status == 400 and body.get("code") not in ("invalid", "bad_request"):
        kind = "RestException"  # a state error (e.g. the lock), not bad input
    return {"type": kind, "message": message}


def camunda_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler for /engine-rest/: Camunda's {type, message}."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    response.data = camunda_error_body(response.status_code, response.data)
    return response
