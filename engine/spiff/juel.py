"""Translate the common subset of JUEL (Camunda 7 / Operaton expressions) to Python.

Supported: `${...}` or `#{...}` around one expression made of names, property
access (`a.b`, `a['b']`), literals (numbers, strings, true/false/null), `!`/`not`,
`-`, `empty`, `&&`/`and`, `||`/`or`, `==`/`eq`, `!=`/`ne`, `<`/`lt`, `>`/`gt`,
`<=`/`le`, `>=`/`ge`, `+ - * / %` (`div`, `mod`), `? :` and parentheses, and
the Java methods analysts call on strings and collections: `a.equals(b)`
(`a == b`), `a.contains(b)` (`b in a`: a substring, or a member), `a.size()`
(`len(a)`) and `a.isEmpty()` (`len(a) == 0`), and Camunda Spin's reading of a
JSON variable (held here as JSON data): `a.prop('b')` (`a['b']`),
`a.hasProp('b')` (`'b' in a`) and `numberValue()`, `stringValue()`,
`boolValue()` (the value itself).
Anything else (other method calls: a Java bean's or object's method has no
Python equivalent here; functions, composite text) is refused with a reason,
so the analyst is told what to change instead of the diagram running
differently from how it reads.

Case data is JSON, so property access becomes item access: `${order.total > 10}`
becomes `(order['total'] > 10)`.

EL's coercion to Boolean (EL 3.0 §1.23.2, unchanged since JUEL's EL 2.1 §1.8.2)
applies wherever EL needs a boolean: the operands of `!`, `&&`, `||`, the test of
`? :`, the other side of `==`/`!=` with `true`/`false`, and a whole condition.
There the string "false" is false and only "true" (any case the translation
knows: true, True, TRUE) is true; null and "" are false. Python's truthiness
would take the string "false" as true. Values that are already booleans
(comparisons, `empty`, literals) are left as they are. `==` / `!=` with a number
(or a string literal holding one) also match the other form, as EL coerces a
string to a number there: `${count == 5}` holds for 5 and for "5".
`<`, `>`, `<=`, `>=` with a null operand are false (EL 2.1 §1.8.1; `<=` and `>=`
are true when both are null), where Python would raise TypeError.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

TRANSLATOR_VERSION = "4"


class JuelError(Exception):
    """The text is JUEL outside the supported subset (message says why)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[!<>+\-*/%?:.()\[\],])
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


_TRUE_VALUES = "(True, 'true', 'True', 'TRUE')"


@dataclass(frozen=True, slots=True)
class _Expr:
    """Translated Python text, and whether it always yields a bool."""

    text: str
    boolean: bool = False

    def as_bool(self) -> str:
        """Return the text coerced to a boolean as EL coerces (see module doc)."""
        return self.text if self.boolean else f"({self.text} in {_TRUE_VALUES})"


_BOOL_LITERALS = ("True", "False")


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

    def parse(self) -> _Expr:
        result = self.ternary()
        if self.peek().kind != "end":
            raise JuelError(f"unexpected {self.peek().text!r}")
        return result

    def ternary(self) -> _Expr:
        condition = self.binary(0)
        if self.peek().text != "?":
            return condition
        self.take("?")
        then = self.ternary()
        self.take(":")
        otherwise = self.ternary()
        return _Expr(
            f"({then.text} if {condition.as_bool()} else {otherwise.text})",
            then.boolean and otherwise.boolean,
        )

    def binary(self, level: int) -> _Expr:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        ops = _BINARY[level]
        while self.peek().kind == "op" and self.peek().text in ops:
            op = ops[self.take().text]
            right = self.binary(level + 1)
            left = _combine(left, op, right)
        return left

    def unary(self) -> _Expr:
        token = self.peek()
        if token.kind == "op" and token.text in ("!", "-", "empty"):
            self.take()
            operand = self.unary()
            if token.text == "!":
                return _Expr(f"(not {operand.as_bool()})", True)
            if token.text == "-":
                return _Expr(f"(-{operand.text})")
            return _Expr(f"({operand.text} in (None, '', [], {{}}))", True)
        return self.postfix()

    def postfix(self) -> _Expr:
        value = self.primary()
        while self.peek().text in (".", "["):
            if self.take().text == ".":
                name = self.take()
                if name.kind != "name":
                    raise JuelError(
                        f"expected a property name after '.', found {name.text!r}"
                    )
                if self.peek().text == "(":
                    value = self.method(value, name.text)
                    continue
                value = _Expr(f"{value.text}[{name.text!r}]")
            else:
                key = self.ternary()
                self.take("]")
                value = _Expr(f"{value.text}[{key.text}]")
            if self.peek().text == "(":
                raise JuelError("method calls are not supported")
        return value

    def method(self, subject: _Expr, name: str) -> _Expr:
        """Translate `subject.name(...)`, one of the methods of the module doc."""
        arity = _METHODS.get(name)
        if arity is None:
            raise JuelError(
                f"the method {name}() is not supported: it is Java code (a bean's or "
                "an object's method) with no Python equivalent here (only "
                + ", ".join(f"{m}()" for m in _METHODS)
                + ")"
            )
        self.take("(")
        argument = self.ternary() if arity else None
        self.take(")")
        if name == "equals" and argument is not None:
            return _Expr(f"({subject.text} == {argument.text})", True)
        if name == "contains" and argument is not None:
            return _Expr(f"({argument.text} in {subject.text})", True)
        if name == "prop" and argument is not None:
            return _Expr(f"{subject.text}[{argument.text}]")
        if name == "hasProp" and argument is not None:
            return _Expr(f"({argument.text} in {subject.text})", True)
        if name in _SPIN_VALUES:
            return subject
        if name == "size":
            return _Expr(f"len({subject.text})")
        return _Expr(f"(len({subject.text}) == 0)", True)

    def primary(self) -> _Expr:
        token = self.take()
        if token.kind == "number":
            return _Expr(token.text)
        if token.kind == "string":
            return _Expr(repr(_unescape(token.text)))
        if token.kind == "name":
            text = self._name(token.text)
            return _Expr(text, text in _BOOL_LITERALS)
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


_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
# The methods translated (name: number of arguments).
_METHODS = {
    "equals": 1,
    "contains": 1,
    "size": 0,
    "isEmpty": 0,
    "prop": 1,
    "hasProp": 1,
    "numberValue": 0,
    "stringValue": 0,
    "boolValue": 0,
}
_SPIN_VALUES = frozenset({"numberValue", "stringValue", "boolValue"})


def _number_forms(literal: str) -> str | None:
    """Return `(5, '5')` for a number literal or a string literal holding a number.

    EL compares a number with a string by coercing the string to a number, so
    `${count == 5}` is true for the string "5" as well as the number 5.
    """
    if _NUMBER.match(literal):
        return f"({literal}, {literal!r})"
    if literal[:1] in "'\"" and _NUMBER.match(literal[1:-1]):
        return f"({literal}, {literal[1:-1]})"
    return None


def _equality(left: _Expr, op: str, right: _Expr) -> _Expr:
    if right.text in _BOOL_LITERALS:
        left = _Expr(left.as_bool(), True)
    elif left.text in _BOOL_LITERALS:
        right = _Expr(right.as_bool(), True)
    else:
        forms = _number_forms(right.text)
        subject = left.text
        if forms is None and _number_forms(left.text) is not None:
            forms, subject = _number_forms(left.text), right.text
        if forms is not None:
            member = "in" if op == "==" else "not in"
            return _Expr(f"({subject} {member} {forms})", True)
    return _Expr(f"({left.text} {op} {right.text})", True)


def _combine(left: _Expr, op: str, right: _Expr) -> _Expr:
    if op in ("and", "or"):
        return _Expr(f"({left.as_bool()} {op} {right.as_bool()})", True)
    if op in ("==", "!="):
        return _equality(left, op, right)
    if op in ("<", ">", "<=", ">="):
        return _relational(left.text, op, right.text)
    return _Expr(f"({left.text} {op} {right.text})")


def _may_be_null(text: str) -> bool:
    """Whether an operand may be null: anything but a number or string literal."""
    return not (_NUMBER.match(text) or text[:1] in "'\"")


def _relational(left: str, op: str, right: str) -> _Expr:
    """`<`, `>`, `<=`, `>=` as EL 2.1 §1.8.1 says: with a null operand, false.

    (`<=` / `>=` are true when both are null: EL tests A==B first.) Python would
    raise TypeError on None, making the step fail where Camunda goes on.
    """
    compared = f"({left} {op} {right})"
    nullable = [text for text in (left, right) if _may_be_null(text)]
    if not nullable:
        return _Expr(compared, True)
    guard = " and ".join(f"{text} is not None" for text in nullable)
    if len(nullable) == 2 and op in ("<=", ">="):
        return _Expr(f"({compared} if {guard} else ({left} is {right}))", True)
    return _Expr(f"({guard} and {compared})", True)


def is_juel(text: str) -> bool:
    """Return whether the text contains a JUEL `${...}` / `#{...}` part."""
    return "${" in text or "#{" in text


def juel_to_python(text: str, *, condition: bool = False) -> str:
    """Translate one `${...}` JUEL expression to a Python expression.

    With `condition`, the whole value is coerced to a boolean as EL does.

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
    parsed = _Parser(body).parse()
    return parsed.as_bool() if condition else parsed.text
