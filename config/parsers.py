"""The API's JSON parser: 400 for JSON PostgreSQL cannot store or we cannot walk."""

import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 256
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone UTF-16 surrogates


def _problem(text: str) -> str | None:
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    return "\\u0000 (NUL)" if match.group() == "\x00" else "a lone UTF-16 surrogate"


def _check(value: Any) -> None:
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            strings = list(item)
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            strings = []
            todo += [(v, depth + 1) for v in item]
        else:
            strings = [item] if isinstance(item, str) else []
        for text in strings:
            if problem := _problem(text):
                raise ParseError(f"JSON strings cannot contain {problem}.")


class StorableJSONParser(JSONParser):
    """JSON whose every string and nesting level can be stored, audited and hashed."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        _check(data)
        return data
