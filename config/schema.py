"""OpenAPI: every operation also documents the errors it can answer.

Every API error has one shape, `{"code", "message", "details"}` (config/errors.py),
so a client generator that reads the schema gets a typed error for each status an
operation can answer, not only its 2xx. What a view declares itself is kept; these
are added where missing:

- 400 bad input: operations with a body, query parameters or path parameters;
- 401 signed out, 403 may see but not act: operations that need a signed-in user;
- 404 may not see or no such object: operations with path parameters;
- 409 state conflict: changing operations on one object (a path parameter);
- 413 body too large: operations with a body;
- 429 too many requests: every throttled operation (all of them);
- whatever else the view lists in its `schema_error_codes`.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="machine-readable, e.g. not_found"),
        "message": serializers.CharField(help_text="a sentence for people"),
        "details": serializers.DictField(
            help_text="e.g. fields: {name: [messages]}, errors: [{message, line, "
            "element_id}]"
        ),
    },
)
DESCRIPTIONS = {
    "400": "Bad input: the field or parameter is named in details.",
    "401": "Not signed in (send Authorization: Token <key>).",
    "403": "You may see this but not do it.",
    "404": "Nothing here, or you may not see it.",
    "409": "The object's state does not allow this now.",
    "413": "The request body is too large.",
    "429": "Too many requests; retry later.",
}
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorsAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses listed above."""

    def _error_codes(self) -> list[str]:
        has_path_param = "{" in self.path
        has_body = self.method in CHANGING
        has_query = bool(
            self._get_filter_parameters() or self._get_pagination_parameters()
        )
        signed_in = not any(
            issubclass(p, AllowAny)
            for p in getattr(self.view, "permission_classes", [])
        )
        codes = []
        if has_body or has_query or has_path_param:
            codes.append("400")
        if signed_in:
            codes += ["401", "403"]
        if has_path_param:
            codes.append("404")
            if has_body:
                codes.append("409")
        if has_body:
            codes.append("413")
        codes.append("429")
        # What the view says it may answer besides (e.g. 409 on a read).
        codes += getattr(self.view, "schema_error_codes", ())
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ERROR, code, direction=direction)
                response["description"] = DESCRIPTIONS[code]
                responses[code] = response
        return responses
