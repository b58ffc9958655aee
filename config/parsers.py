"""The API's JSON parser: refuse what PostgreSQL or the engine cannot hold.

A body that parses is not yet safe to store (engine.json_safety): NUL characters, lone
surrogates and nesting deeper than API_JSON_MAX_DEPTH each answer 400 ``invalid`` with
``details.fields`` naming the field, before a view runs, so nothing changes.
"""

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from engine.json_safety import body_problem, field_too_deep, max_depth


class SafeJSONParser(JSONParser):
    """A JSONParser that answers 400 naming the field instead of a later 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        limit = max_depth()
        try:
            data = json.loads(text)
        except RecursionError:
            field = field_too_deep(text, limit=limit)
            message = f"Nested deeper than {limit} levels."
            raise ValidationError({field: [message]}) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        problem = body_problem(data, limit=limit)
        if problem is not None:
            raise ValidationError({problem[0]: [problem[1]]})
        return data
