"""Translate the S-FEEL of DMN cells (as Camunda Modeler writes them) to Python.

The result is an expression for the restricted evaluator (`sandbox`), never
run as such: the caller compiles it under the sandbox rules, so a DMN file can
do no more than a gateway condition. Translation happens at upload, cell by
cell, and anything outside this subset is refused with the reason.

* Input entries (unary tests) test the column's value, the name `INPUT`:
  `-` or empty (any), `< e`, `<= e`, `> e`, `>= e`, intervals `[a..b]`,
  `]a..b[`, `(a..b)` (open ends in either notation), a value (equality),
  `null`, lists `"a","b"` (any of them) and `not(...)` (none of them).
  Python's `True`, `False` and `None` (tables written for SpiffWorkflow) are
  read as FEEL's `true`, `false` and `null`.
* Expressions (input expressions, output entries, interval ends): numbers,
  strings, `true`/`false`/`null`, names and paths (`order.total` reads the
  item `order["total"]`, case data being JSON), `+ - * / **`, comparisons
  (`=`, `!=`, `<`, `<=`, `>`, `>=`), `and`, `or`, `not(...)`, parentheses,
  and `date("…")`, `time("…")`, `date and time("…")`, which become their ISO
  text (case data holds dates as ISO text, so they compare as such).

FEEL's null semantics for tests: a comparison against a missing (null) value
is false, not an error.
"""

from __future__ import annotations

import datetime
import json
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass

INPUT = "dmninputexpr"


class FeelError(Exception):
    """The text is outside the supported S-FEEL subset (message says why)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<temporal>date\s+and\s+time|date|time)\s*(?=\()
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\.\.|\*\*|<=|>=|!=|[-+*/<>=(),.\[\]])
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# FEEL's literals, and Python's, which SpiffWorkflow-era tables hold.
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_LITERALS.update({v: v for v in list(_LITERALS.values())})
_PARSE_TEMPORAL: dict[str, Callable[[str], object]] = {
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
    "date and time": datetime.datetime.fromisoformat,
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "bad":
            raise FeelError(f"unexpected character {value!r}")
        if kind == "temporal":
            value = " ".join(value.split())
        found.append(_Token(kind, value))
    return found


class _Parser:
    """Recursive descent over the tokens of one cell, producing Python source."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return (
            token is not None and token.kind in ("op", "name") and token.text in texts
        )

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FeelError("the expression ends too early")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise FeelError(f"expected {text!r}, found {token.text!r}")

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            raise FeelError(f"unexpected {token.text!r}")

    # Expressions ---------------------------------------------------------

    def expression(self) -> str:
        return self.joined("or", self.conjunction)

    def conjunction(self) -> str:
        return self.joined("and", self.comparison)

    def joined(self, separator: str, operand: Callable[[], str], word: str = "") -> str:
        """Parse `operand (separator operand)*` into one Python `and`/`or`."""
        parts = [operand()]
        while self.at(separator):
            self.take()
            parts.append(operand())
        joiner = f" {word or separator} "
        return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"

    def comparison(self) -> str:
        left = self.additive()
        if self.at(*_COMPARISONS):
            op = _COMPARISONS[self.take().text]
            return f"({left} {op} {self.additive()})"
        return left

    def additive(self) -> str:
        return self.left_associative(("+", "-"), self.multiplicative)

    def multiplicative(self) -> str:
        return self.left_associative(("*", "/"), self.power)

    def left_associative(self, ops: tuple[str, ...], operand: Callable[[], str]) -> str:
        """Parse `operand (op operand)*`, grouping from the left."""
        result = operand()
        while self.at(*ops):
            op = self.take().text
            result = f"({result} {op} {operand()})"
        return result

    def power(self) -> str:
        base = self.unary()
        if self.at("**"):
            self.take()
            return f"({base} ** {self.power()})"
        return base

    def unary(self) -> str:
        if self.at("-"):
            self.take()
            return f"(-{self.unary()})"
        return self.path()

    def path(self) -> str:
        result = self.primary()
        while self.at("."):
            self.take()
            name = self.take()
            if name.kind != "name":
                raise FeelError(f"expected a name after '.', found {name.text!r}")
            result = f"{result}[{name.text!r}]"
        return result

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return repr(_string(token.text))
        if token.kind == "temporal":
            return self.temporal(token.text)
        if token.kind == "name":
            return self.name(token.text)
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        raise FeelError(f"unexpected {token.text!r}")

    def name(self, text: str) -> str:
        if text in _LITERALS:
            return _LITERALS[text]
        if text == "not" and self.at("("):
            self.take()
            inner = self.expression()
            self.expect(")")
            return f"(not {inner})"
        if self.at("("):
            raise FeelError(f"the function {text}() is not supported")
        if keyword.iskeyword(text) or text.startswith("_"):
            raise FeelError(f"{text!r} cannot be a variable name here")
        return text

    def temporal(self, function: str) -> str:
        self.expect("(")
        token = self.take()
        if token.kind != "string":
            raise FeelError(f"{function}() takes one ISO 8601 text")
        value = _string(token.text)
        self.expect(")")
        try:
            _PARSE_TEMPORAL[function](value)
        except ValueError:
            raise FeelError(f"{function}({value!r}) is not ISO 8601") from None
        return repr(value)

    # Unary tests ----------------------------------------------------------

    def unary_tests(self) -> str | None:
        if not self.tokens or (len(self.tokens) == 1 and self.at("-")):
            return None
        if self.at("not") and self.peek(1) is not None and self.peek(1).text == "(":  # type: ignore[union-attr]
            self.take()
            self.take()
            tests = self.positive_tests()
            self.expect(")")
            self.done()
            return f"(not {tests})"
        tests = self.positive_tests()
        self.done()
        return tests

    def positive_tests(self) -> str:
        return self.joined(",", self.positive_test, "or")

    def positive_test(self) -> str:
        if self.at("<", "<=", ">", ">="):
            op = self.take().text
            return _compare(op, self.additive())
        if self.at("[", "]", "("):
            return self.interval()
        if self.at("null", "None"):
            self.take()
            return f"({INPUT} is None)"
        value = self.additive()
        if value in ("True", "False"):
            return f"({INPUT} is {value})"
        return f"({INPUT} == {value})"

    def interval(self) -> str:
        opening = self.take().text
        low = self.additive()
        self.expect("..")
        high = self.additive()
        closing = self.take().text
        if closing not in ("]", "[", ")"):
            raise FeelError(f"an interval ends with ']', '[' or ')', not {closing!r}")
        low_op = ">=" if opening == "[" else ">"
        high_op = "<=" if closing == "]" else "<"
        return f"({_compare(low_op, low)} and {_compare(high_op, high)})"


def _compare(op: str, value: str) -> str:
    return f"({INPUT} is not None and {INPUT} {op} {value})"


def _string(token: str) -> str:
    try:
        value = json.loads(token)
    except ValueError:
        raise FeelError(f"bad string {token}") from None
    return str(value)


def feel_expression(text: str) -> str:
    """Return the Python of a FEEL simple expression, or raise FeelError."""
    parser = _Parser(text)
    if not parser.tokens:
        return "None"
    result = parser.expression()
    parser.done()
    return result


def feel_unary_tests(text: str) -> str | None:
    """Return the Python test of an input entry over `INPUT` (None: any value).

    Raises:
        FeelError: when the text is not S-FEEL unary tests.
    """
    return _Parser(text).unary_tests()


def feel_values(text: str) -> list[str]:
    """Return the Python literals of a comma-separated list of values.

    Raises:
        FeelError: when an item is not a literal (a priority list needs values).
    """
    parser = _Parser(text)
    values = [parser.additive()]
    while parser.at(","):
        parser.take()
        values.append(parser.additive())
    parser.done()
    return values
