"""Translate the common subset of JUEL (Camunda 7 / Operaton expressions) to Python.

Supported: `${...}` or `#{...}` around one expression made of names, property
access (`a.b`, `a['b']`), literals (numbers, strings, true/false/null), `!`/`not`,
`-`, `empty`, `&&`/`and`, `||`/`or`, `==`/`eq`, `!=`/`ne`, `<`/`lt`, `>`/`gt`,
`<=`/`le`, `>=`/`ge`, `+ - * / %` (`div`, `mod`), `? :` and parentheses.
Anything else (method calls, functions, composite text) is refused with a
reason, so the analyst is told what to change instead of the diagram running
differently from how it reads.

Case data is JSON, so property access becomes item access: `${order.total > 10}`
becomes `(order['total'] > 10)`.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

TRANSLATOR_VERSION = "1"


class JuelError(Exception):
    """The text is JUEL outside the supported subset (message says why)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[!<>+\-*/%?:.()\[\]])
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_RESERVED = {"instanceof", "function"}
_BINARY = [  # lowest to highest precedence
    ({"||": "or"}),
    ({"&&": "and"}),
    ({"==": "==", "!=": "!="}),
    ({"<": "<", ">": ">", "<=": "<=", ">=": ">="}),
    ({"+": "+", "-": "-"}),
    ({"*": "*", "/": "/", "%": "%"}),
]
_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number | string | name | op | end
    text: str


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _tokens(source: str) -> list[_Token]:
    found: list[_Token] = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "bad"
        text = match.group(kind)
        if kind == "bad":
            raise JuelError(f"unexpected character {text!r}")
        if kind == "name" and text in _WORD_OPS:
            kind, text = "op", _WORD_OPS[text]
        elif kind == "name" and text == "empty":
            kind = "op"
        found.append(_Token(kind, text))
    found.append(_Token("end", ""))
    return found


class _Parser:
    """A recursive-descent parser that emits fully parenthesized Python."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self, text: str | None = None) -> _Token:
        token = self.tokens[self.pos]
        if text is not None and token.text != text:
            shown = token.text or "the end"
            raise JuelError(f"expected {text!r} but found {shown!r}")
        self.pos += 1
        return token

    def parse(self) -> str:
        result = self.ternary()
        if self.peek().kind != "end":
            raise JuelError(f"unexpected {self.peek().text!r}")
        return result

    def ternary(self) -> str:
        condition = self.binary(0)
        if self.peek().text != "?":
            return condition
        self.take("?")
        then = self.ternary()
        self.take(":")
        otherwise = self.ternary()
        return f"({then} if {condition} else {otherwise})"

    def binary(self, level: int) -> str:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        ops = _BINARY[level]
        while self.peek().kind == "op" and self.peek().text in ops:
            op = ops[self.take().text]
            right = self.binary(level + 1)
            left = f"({left} {op} {right})"
        return left

    def unary(self) -> str:
        token = self.peek()
        if token.kind == "op" and token.text in ("!", "-", "empty"):
            self.take()
            operand = self.unary()
            if token.text == "!":
                return f"(not {operand})"
            if token.text == "-":
                return f"(-{operand})"
            return f"({operand} in (None, '', [], {{}}))"
        return self.postfix()

    def postfix(self) -> str:
        value = self.primary()
        while self.peek().text in (".", "["):
            if self.take().text == ".":
                name = self.take()
                if name.kind != "name":
                    raise JuelError(
                        f"expected a property name after '.', found {name.text!r}"
                    )
                value = f"{value}[{name.text!r}]"
            else:
                key = self.ternary()
                self.take("]")
                value = f"{value}[{key}]"
            if self.peek().text == "(":
                raise JuelError("method calls are not supported")
        return value

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return repr(_unescape(token.text))
        if token.kind == "name":
            return self._name(token.text)
        if token.text == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        raise JuelError(f"unexpected {token.text or 'end of expression'!r}")

    def _name(self, name: str) -> str:
        if name in _LITERALS:
            return _LITERALS[name]
        if self.peek().text == "(" or self.peek().text == ":":
            raise JuelError(f"function calls such as {name}(...) are not supported")
        if name in _RESERVED or keyword.iskeyword(name) or name.startswith("_"):
            raise JuelError(f"the name {name!r} cannot be used")
        return name


def is_juel(text: str) -> bool:
    """Return whether the text contains a JUEL `${...}` / `#{...}` part."""
    return "${" in text or "#{" in text


def juel_to_python(text: str) -> str:
    """Translate one `${...}` JUEL expression to a Python expression.

    Raises:
        JuelError: when the text is not a single expression of the supported subset.
    """
    match = _WRAPPED.match(text)
    if not match or is_juel(match.group("body")):
        raise JuelError(
            "only a single ${...} expression is supported, "
            "not text mixed with expressions"
        )
    body = match.group("body").strip()
    if not body:
        raise JuelError("the expression is empty")
    return _Parser(body).parse()
