"""The one mapping from domain errors to HTTP: HTML pages and the JSON API share it."""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from engine.errors import EngineError
from processes.errors import ProcessError
from tasks_app.errors import TaskError

DOMAIN_ERRORS = (ProcessError, EngineError, TaskError)
logger = logging.getLogger(__name__)

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


def domain_error_body(exc: Exception) -> tuple[int, dict]:
    """Return (status, body) for one of our domain errors."""
    return int(exc.status), error_body(exc.code, exc.message, exc.details)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(
        "/api/"
    ) or "application/json" in request.headers.get("Accept", "")


class DomainErrorMiddleware:
    """Render domain errors raised by HTML views as error pages (JSON for API clients)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exc: Exception
    ) -> HttpResponse | None:
        if not isinstance(exc, DOMAIN_ERRORS):
            return None
        status, body = domain_error_body(exc)
        if wants_json(request):
            return JsonResponse(body, status=status)
        template = (
            f"errors/{status}.html"
            if status in (400, 403, 404, 409)
            else "errors/409.html"
        )
        return render(request, template, {"error": body}, status=status)


def _drf_details(exc: drf_exceptions.APIException) -> dict:
    detail = exc.detail
    if isinstance(detail, dict):
        return {"fields": detail}
    if isinstance(detail, list):
        return {"errors": detail}
    return {}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every API error becomes {code, message, details}."""
    if isinstance(exc, DOMAIN_ERRORS):
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
