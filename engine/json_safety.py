"""JSON that PostgreSQL can store and the engine can walk, or a 400 naming the field.

PostgreSQL refuses NUL characters in text and JSONB, and lone UTF-16 surrogates
(``"\\ud800"``) cannot be encoded as UTF-8; JSON nested thousands of levels deep
overflows the parser's stack (and every recursive walk after it). The API refuses
them in a JSON body (config.parsers) and in a JSON field sent as form data.
"""

import json as stdlib_json
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.utils import json

from .errors import FormInvalid

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
BODY = "body"


def max_depth() -> int:
    """Return how deeply a request body may nest objects and arrays."""
    return settings.API_JSON_MAX_DEPTH


def max_data_bytes() -> int:
    """Return how many bytes of JSON one data field may hold."""
    return settings.ENGINE_MAX_DATA_BYTES


def too_large(value: Any, *, limit: int) -> str | None:
    """Return why `value` is too large as JSON, or None (stops counting at `limit`)."""
    size = 0
    for chunk in stdlib_json.JSONEncoder(ensure_ascii=False).iterencode(value):
        size += len(chunk.encode())
        if size > limit:
            return f"Larger than {limit} bytes as JSON."
    return None


def field_path(path: tuple[str | int, ...]) -> str:
    """Return `path` as the field name a client reads: ``data.items[2].name``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = json.dumps(part)[1:-1]  # escapes NUL and surrogates as \uXXXX
            text += f".{shown}" if text else shown
    return text or BODY


def _children(value: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    if isinstance(value, list):
        return iter(enumerate(value))
    return iter(())


def _string_problem(text: str) -> str | None:
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Must not contain NUL characters (\\u0000)."
    return "Must not contain lone UTF-16 surrogates (\\ud800-\\udfff)."


def body_problem(data: Any, *, limit: int) -> tuple[str, str] | None:
    """Return (field, message) for the first unstorable string or too-deep nesting."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if len(path) > limit:
            return field_path(path[:1]), f"Nested deeper than {limit} levels."
        if isinstance(value, str):
            message = _string_problem(value)
            if message:
                return field_path(path), message
        for key, child in _children(value):
            if isinstance(key, str) and _string_problem(key):
                return field_path(path + (key,)), f"Key: {_string_problem(key)}"
            stack.append((path + (key,), child))
    return None


def field_too_deep(text: str, *, limit: int) -> str:
    """Return the top-level field of `text` whose nesting passes `limit` (unparsed)."""
    depth, top_key, last_string = 0, None, None
    for token in _TOKEN.finditer(text):
        part = token.group()
        if part in "{[":
            depth += 1
            if depth > limit:
                break
        elif part in "}]":
            depth -= 1
        elif part == ":" and depth == 1:
            top_key = last_string
        elif part.startswith('"'):
            last_string = part[1:-1]
    return top_key if top_key is not None else BODY


def json_object(value: Any, field: str = "data") -> dict[str, Any]:
    """Return `value`, a request's JSON `field`, when it is a JSON object.

    Raises:
        FormInvalid: it is not ("'data' must be a JSON object."), a 400.
    """
    if not isinstance(value, dict):
        raise FormInvalid(f"'{field}' must be a JSON object.", details={"fields": {}})
    return value


class StorableJSONField(serializers.JSONField):
    """A JSONField whose value PostgreSQL can store (also when sent as form data),
    at most ENGINE_MAX_DATA_BYTES long as JSON."""

    def to_internal_value(self, data):
        limit = max_depth()
        try:
            value = super().to_internal_value(data)
        except RecursionError:
            message = f"Nested deeper than {limit} levels."
            raise serializers.ValidationError(message) from None
        problem = body_problem(value, limit=limit)
        if problem is None:
            oversize = too_large(value, limit=max_data_bytes())
            if oversize:
                raise serializers.ValidationError(oversize)
            return value
        field, message = problem
        if field == BODY:
            raise serializers.ValidationError(message)
        raise serializers.ValidationError({field: [message]})
