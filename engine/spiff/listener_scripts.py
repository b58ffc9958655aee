"""A small, fully parsed subset of JavaScript and Groovy listener scripts, as Python.

Camunda's own examples (the invoice process) write task listeners such as

    if(!!task.getVariable('approver')) { task.setAssignee(approver); }
    task.setVariable('approver', task.getAssignee());

`translate_script` parses such a script completely (nothing is ever evaluated as
JavaScript or Groovy) and returns the Python lines the restricted script host
runs, or raises `ListenerScriptError` naming the first construct outside the
subset. The subset:

* statements: `task.setVariable('x', value)` / `execution.setVariable('x', value)`
  (a variable set by name), `if (condition) {...} else {...}`, and, in a create
  task listener only, `task.setAssignee(...)` of a text or guarded by the
  truthiness of the variable it names (`if (x) task.setAssignee(x)`): it becomes
  the task's assignee `${x}`, which Laneway resolves when the task is created
  (nobody when the variable is unset or empty, as the guard says);
* values: text, numbers, `true`, `false`, `null`, a variable read by name (an
  error when unset, as in Camunda), `getVariable('x')` (null when unset),
  `hasVariable('x')`, `task.getAssignee()` (the assignee: its text in a create
  listener, the person completing in a complete listener, the new assignee in
  an assignment listener), `!`, `&&`, `||`, `? :`, `===`, `!==`, `<`, `<=`,
  `>`, `>=`, `+`, `-`, `*`, `/` and parentheses; `==` and `!=` in Groovy (its
  `==` is equality, as Python's), in JavaScript only against `null` (its loose
  equality converts types; write `===`). A Boolean equals only a Boolean
  (`true === 1` and Groovy's `true == 1` are false, unlike Python's). `*`
  multiplies numbers: in JavaScript both operands (a text, list or null one
  is an incident, where JavaScript would convert it: `"5" * 2` is 10 there),
  in Groovy the right one (`"ab" * 2` repeats the text, as String.multiply).
  JavaScript's `+` of a list is an incident (JavaScript joins the lists' texts,
  Python the lists), and so is its `===` of a list or map (identity there,
  not equal contents); Groovy's `+` joins lists and its `==` compares them,
  as Python's.

Truthiness is the script language's: JavaScript's falsy values are false, 0,
"" and null (an empty list is true); Groovy's are Python's.

An `assignment` listener runs whenever the task's assignee is set, as in
Camunda 7: after the create listeners when the task is created with an
assignee, and when it is claimed, assigned, delegated or given back (the engine
runs it, `engine.spiff.assignment`). Its `task.getAssignee()` reads the new
assignee from `assignee_name(prefix)`, which the runner provides.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

JAVASCRIPT = frozenset({"javascript", "js", "ecmascript", "nashorn", "graal.js"})
GROOVY = frozenset({"groovy"})
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
      | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
      | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/<>!(){};.,=?:\[\]%])
    )""",
    re.VERBOSE,
)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "'": "'", '"': '"', "\\": "\\"}
_OBJECTS = frozenset({"task", "execution"})
# Names no value here is: JavaScript's words, and Camunda 7's objects themselves
# (a script binds task and execution to them, not to variables).
_NOT_VALUES = {
    **{w: f"'{w}'" for w in ("undefined", "this", "new", "function", "typeof")},
    **{name: f"the {name} object itself as a value" for name in _OBJECTS},
}
_RESERVED = frozenset({"None", "True", "False"})


class ListenerScriptError(ValueError):
    """The script is outside the subset (the message names the construct)."""


@dataclass(frozen=True, slots=True)
class Translated:
    """A listener script as Python lines, and the assignee it sets (create only)."""

    python: str
    assignee: str = ""
    variables_set: frozenset[str] = frozenset()


@dataclass
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    text = _COMMENT.sub(" ", text)
    found: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ListenerScriptError(
                f"the character {text[pos:].lstrip()[:1]!r} is outside the subset"
            )
        kind = str(match.lastgroup)
        found.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return found


def _literal_text(token: str, *, groovy: bool) -> str:
    body = token[1:-1]
    # A double-quoted Groovy string is a GString: "${x}" and "$x" (also
    # "$x.y") are the values of x, not the text; refused, never read as text.
    interpolated = "${" in body or (groovy and re.search(r"\$[A-Za-z_]", body))
    if interpolated and token[0] == '"':
        raise ListenerScriptError(f"the interpolated Groovy string {token}")
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            escaped = _ESCAPES.get(body[i + 1 : i + 2])
            if escaped is None:
                raise ListenerScriptError(f"the escape in {token}")
            out.append(escaped)
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _variable_name(name: str) -> str:
    if (
        not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
        or keyword.iskeyword(name)
        or name in _RESERVED
    ):
        raise ListenerScriptError(f"the variable name {name!r}")
    return name


@dataclass
class _Value:
    """A translated expression: its Python text and what it reads."""

    python: str
    # Set when the value is exactly a read of one variable (for setAssignee),
    # or its truthiness (`!!x`); `safe` when read with getVariable (null if unset).
    variable: str = ""
    text: str | None = None  # set when the value is a text literal
    safe: bool = False


@dataclass
class _Parser:
    tokens: list[_Token]
    language: str  # "javascript" or "groovy"
    event: str
    task_listener: bool
    static_assignee: str
    temp: dict[str, str]  # variable -> temporary name holding getVariable(x)
    temp_prefix: str
    pos: int = 0
    condition: bool = False  # one expression (a condition or a value), no statements
    assignee: str = ""
    variables_set: set[str] = field(default_factory=set)

    # -- tokens
    def peek(self, offset: int = 0) -> _Token | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.text == text and token.kind != "string"

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None:
            raise ListenerScriptError(
                "the script ends early" + (f" (expected {text!r})" if text else "")
            )
        if text is not None and (token.text != text or token.kind == "string"):
            raise ListenerScriptError(f"{token.text!r} where {text!r} was expected")
        self.pos += 1
        return token

    # -- statements
    def program(self) -> list[str]:
        lines: list[str] = []
        while self.peek() is not None:
            lines += self.statement()
        return lines

    def block(self) -> list[str]:
        if not self.at("{"):
            return self.statement()
        self.take("{")
        lines: list[str] = []
        while not self.at("}"):
            lines += self.statement()
        self.take("}")
        return lines

    def end_statement(self) -> None:
        if self.at(";"):
            self.take(";")

    def statement(self) -> list[str]:
        token = self.peek()
        assert token is not None
        if self.at(";"):
            self.take(";")
            return []
        if token.kind == "name" and token.text == "if":
            return self.if_statement()
        if token.kind == "name" and token.text in _OBJECTS and self.peek(1):
            return self.call_statement()
        if token.kind == "name" and token.text in (
            "var", "let", "const", "def", "for", "while", "do", "switch", "return",
            "function", "try", "throw", "new", "import", "class",
        ):  # fmt: skip
            raise ListenerScriptError(f"the statement '{token.text}'")
        raise ListenerScriptError(
            f"the statement starting with {token.text!r} (only setVariable, "
            "setAssignee and if statements run)"
        )

    def if_statement(self) -> list[str]:
        self.take("if")
        self.take("(")
        condition = self.expression()
        self.take(")")
        start = self.pos
        if self.assignee_guard(condition):
            return []
        self.pos = start
        body = self.block() or ["pass"]
        lines = [f"if {self.truth(condition.python)}:", *("    " + b for b in body)]
        if self.peek() is not None and self.at("else"):
            self.take("else")
            other = self.block() or ["pass"]
            lines += ["else:", *("    " + b for b in other)]
        return lines

    def assignee_guard(self, condition: _Value) -> bool:
        """`if (x) task.setAssignee(x)`: the task's assignee is `${x}`."""
        braces = self.at("{")
        if braces:
            self.take("{")
        method = self.peek(2)
        if not self.at("task") or method is None or method.text != "setAssignee":
            return False
        self.take("task")
        self.take(".")
        self.take("setAssignee")
        self.take("(")
        value = self.expression()
        self.take(")")
        self.end_statement()
        if braces:
            self.take("}")
        if self.at("else"):
            raise ListenerScriptError("an else branch after task.setAssignee(...)")
        if (
            not value.variable
            or condition.variable != value.variable
            or not condition.safe
        ):
            raise ListenerScriptError(
                "task.setAssignee(...) guarded by another condition than "
                "getVariable('x') of the variable it names"
            )
        self.set_assignee("${" + value.variable + "}")
        return True

    def set_assignee(self, assignee: str) -> None:
        if not self.task_listener or self.event != "create":
            raise ListenerScriptError(
                f"task.setAssignee(...) in a '{self.event}' listener (only create)"
            )
        if self.static_assignee or self.assignee:
            raise ListenerScriptError(
                "task.setAssignee(...) on a task that already names an assignee"
            )
        self.assignee = assignee

    def call_statement(self) -> list[str]:
        target = self.take().text
        self.take(".")
        method = self.take()
        self.take("(")
        if target == "task" and not self.task_listener:
            raise ListenerScriptError("'task' in an execution listener")
        if method.text == "setVariable":
            name_token = self.take()
            if name_token.kind != "string":
                raise ListenerScriptError(
                    "setVariable with a variable name that is not a text literal"
                )
            name = _variable_name(
                _literal_text(name_token.text, groovy=self.language == "groovy")
            )
            self.take(",")
            value = self.expression()
            self.take(")")
            self.end_statement()
            self.variables_set.add(name)
            lines = [f"{name} = {value.python}"]
            if name in self.temp:
                lines.append(f"{self.temp[name]} = {name}")
            return lines
        if method.text == "setAssignee" and target == "task":
            value = self.expression()
            self.take(")")
            self.end_statement()
            if value.text is None:
                raise ListenerScriptError(
                    "task.setAssignee(...) of a value that is not a text, outside "
                    "`if (x) task.setAssignee(x)`"
                )
            self.set_assignee(value.text)
            return []
        raise ListenerScriptError(f"the call {target}.{method.text}(...)")

    # -- expressions
    def truth(self, python: str) -> str:
        if self.language == "groovy":
            return f"bool({python})"
        return f"(({python}) not in (None, False, 0, ''))"

    def expression(self) -> _Value:
        condition = self.disjunction()
        if not self.at("?"):
            return condition
        self.take("?")
        if self.at(":"):
            raise ListenerScriptError("Groovy's Elvis operator '?:'")
        chosen = self.expression()
        self.take(":")
        other = self.expression()
        test = self.truth(condition.python)
        return _Value(f"(({chosen.python}) if {test} else ({other.python}))")

    def disjunction(self) -> _Value:
        left = self.conjunction()
        while self.at("||"):
            self.take("||")
            right = self.conjunction()
            left = self.logical(left, right, "or")
        return left

    def conjunction(self) -> _Value:
        left = self.comparison()
        while self.at("&&"):
            self.take("&&")
            right = self.comparison()
            left = self.logical(left, right, "and")
        return left

    def logical(self, left: _Value, right: _Value, op: str) -> _Value:
        if self.language == "groovy":  # Groovy's && and || give booleans
            both = f"{self.truth(left.python)} {op} {self.truth(right.python)}"
            return _Value(f"({both})")
        test = self.truth(left.python)
        if op == "and":  # JavaScript gives the deciding operand
            return _Value(f"(({right.python}) if {test} else ({left.python}))")
        return _Value(f"(({left.python}) if {test} else ({right.python}))")

    def comparison(self) -> _Value:
        left = self.additive()
        token = self.peek()
        if token is None or token.kind != "op":
            return left
        op = token.text
        if op not in ("===", "!==", "==", "!=", "<", "<=", ">", ">="):
            return left
        self.take()
        right = self.additive()
        if op in ("==", "!=") and self.language == "javascript":
            if "None" not in (left.python, right.python):
                raise ListenerScriptError(
                    f"JavaScript's loose comparison '{op}' (it converts types; write "
                    f"'{op}=')"
                )
        if op in ("<", "<=", ">", ">="):
            return _Value(f"({left.python} {op} {right.python})")
        equal = _strict_equal(left.python, right.python)
        if self.language == "javascript" and "None" not in (left.python, right.python):
            # JavaScript's === of a list or map is identity, not Python's
            # equal contents: such an operand is an incident (a map fails on
            # `* 0`, a list on unary +).
            scalar = " and ".join(
                f"(({v}) == None or (({v}) * 0) in ('', 0))"
                for v in (left.python, right.python)
            )
            equal = f"({equal} if {scalar} else (+[]))"
        return _Value(equal if op in ("===", "==") else f"(not {equal})")

    def additive(self) -> _Value:
        left = self.multiplicative()
        while self.at("+") or self.at("-"):
            op = self.take().text
            right = self.multiplicative()
            if op == "+" and self.language == "javascript":
                # Python's + joins two lists; JavaScript's joins their texts
                # ("1,2" + "3"). A list on the right (and so on both sides) is
                # an incident: unary + fails on it.
                r = right.python
                left = _Value(
                    f"(({left.python} + {r}) if (({r}) * 0) in ('', 0) else (+{r}))"
                )
            else:
                left = _Value(f"({left.python} {op} {right.python})")
        return left

    def multiplicative(self) -> _Value:
        left = self.unary()
        while self.at("*") or self.at("/"):
            op = self.take().text
            right = self.unary()
            # Python's `*` repeats a text or list; JavaScript's converts both
            # operands to numbers ("5" * 2 is 10, "ab" * 2 NaN), Groovy's repeats
            # only its left (String.multiply, List.multiply). Python's unary `+`
            # fails on a text, list or null, so such an operand is an incident,
            # never a repeated text.
            if op == "*" and self.language == "javascript":
                left = _Value(f"((+{left.python}) * (+{right.python}))")
            elif op == "*":
                left = _Value(f"({left.python} * (+{right.python}))")
            else:
                left = _Value(f"({left.python} {op} {right.python})")
        return left

    def unary(self) -> _Value:
        if self.at("!"):
            self.take("!")
            if self.at("!"):  # !!x: the truthiness of x, as a boolean
                self.take("!")
                inner = self.unary()
                return _Value(
                    f"({self.truth(inner.python)})",
                    variable=inner.variable,
                    safe=inner.safe,
                )
            inner = self.unary()
            return _Value(f"(not {self.truth(inner.python)})")
        if self.at("-"):
            self.take("-")
            inner = self.unary()
            return _Value(f"(-{inner.python})")
        return self.primary()

    def primary(self) -> _Value:
        token = self.take()
        if token.kind == "number":
            if re.match(r"0\d", token.text):  # 010 is 8 in JavaScript and Groovy
                raise ListenerScriptError(f"the octal number {token.text}")
            return _Value(token.text)
        if token.kind == "string":
            text = _literal_text(token.text, groovy=self.language == "groovy")
            return _Value(repr(text), text=text)
        if token.text == "(":
            inner = self.expression()
            self.take(")")
            return _Value(f"({inner.python})", variable=inner.variable, safe=inner.safe)
        if token.kind != "name":
            raise ListenerScriptError(f"{token.text!r} in an expression")
        constants = {"true": "True", "false": "False", "null": "None"}
        if token.text in constants:
            return _Value(constants[token.text])
        if token.text in _OBJECTS and self.at("."):
            return self.call_value(token.text)
        if token.text in _NOT_VALUES:
            raise ListenerScriptError(_NOT_VALUES[token.text])
        if self.at("(") or self.at(".") or self.at("["):
            raise ListenerScriptError(f"the call or member access on {token.text!r}")
        name = _variable_name(token.text)
        return _Value(name, variable=name)

    def call_value(self, target: str) -> _Value:
        if self.condition:
            raise ListenerScriptError(
                f"the call of {target}.… in a one-expression script (name the "
                "variable instead)"
            )
        if target == "task" and not self.task_listener:
            raise ListenerScriptError("'task' in an execution listener")
        self.take(".")
        method = self.take().text
        self.take("(")
        if method in ("getVariable", "hasVariable"):
            name_token = self.take()
            if name_token.kind != "string":
                raise ListenerScriptError(
                    f"{method} with a variable name that is not a text literal"
                )
            name = _variable_name(
                _literal_text(name_token.text, groovy=self.language == "groovy")
            )
            self.take(")")
            temp = self.temp.setdefault(name, f"{self.temp_prefix}{name}")
            if method == "hasVariable":
                return _Value(f"({temp}_set)")
            return _Value(temp, variable=name, safe=True)
        if method == "getAssignee" and target == "task":
            self.take(")")
            return self.current_assignee()
        raise ListenerScriptError(f"the call {target}.{method}(...)")

    def current_assignee(self) -> _Value:
        if self.event == "assignment":
            return _Value(assignee_name(self.temp_prefix))
        if self.event == "complete":
            return _Value("get_current_user()['username']")
        if self.event == "delete":
            raise ListenerScriptError(
                "task.getAssignee() in a delete listener (whoever has the task "
                "when it is cancelled is not known to the script here)"
            )
        if self.assignee:
            raise ListenerScriptError("task.getAssignee() after task.setAssignee(...)")
        if not self.static_assignee:
            return _Value("None")
        if "{" in self.static_assignee:
            raise ListenerScriptError(
                "task.getAssignee() in a create listener of a task whose assignee "
                "is an expression"
            )
        return _Value(repr(self.static_assignee), text=self.static_assignee)


def _strict_equal(left: str, right: str) -> str:
    """Python for `left === right` (JavaScript) or `left == right` (Groovy).

    Python's `True == 1` holds; JavaScript's `true === 1` and Groovy's
    `true == 1` (Boolean.equals) do not: a Boolean equals only a Boolean.
    """
    return (
        f"(({left} == {right}) and "
        f"(isinstance({left}, bool) == isinstance({right}, bool)))"
    )


def assignee_name(prefix: str) -> str:
    """The name an assignment listener's script reads its assignee from.

    A variable name never starts with a digit, so no variable of the diagram
    has this name (`prefix` is the translation's temporary-name prefix).
    """
    return f"{prefix}0assignee"


def translate_expression(text: str, *, language: str) -> str:
    """Translate a JavaScript or Groovy script that is one expression to Python.

    Camunda 7 takes a script's value where a value is needed: a sequence flow's
    or conditional event's `conditionExpression` with `language="groovy"` /
    `"javascript"` is a ScriptCondition, whose value must be a Boolean
    (ensureInstanceOf "condition script returns non-Boolean": the caller wraps
    the result in `_el_condition_`); a `camunda:script` input or output
    parameter is a ScriptValueProvider, whose value is the parameter's. The
    text is one expression of the subset's values (module doc), optionally
    ended by `;`, or Groovy's `return <expression>`; a variable read by name
    fails when unset (Groovy's MissingPropertyException, JavaScript's
    ReferenceError). `execution.getVariable(...)` and other calls are outside
    the subset here.

    Raises:
        ListenerScriptError: the text is outside the subset (names what).
    """
    if language not in JAVASCRIPT | GROOVY:
        raise ListenerScriptError(f"the script language {language!r}")
    kind = "groovy" if language in GROOVY else "javascript"
    tokens = _tokens(text)
    while tokens and tokens[-1].text == ";":
        tokens.pop()
    if kind == "groovy" and tokens and tokens[0].text == "return":
        tokens = tokens[1:]
    if not tokens:
        raise ListenerScriptError("an empty script")
    parser = _Parser(
        tokens=tokens,
        language=kind,
        event="",
        task_listener=False,
        static_assignee="",
        temp={},
        temp_prefix="",
        condition=True,
    )
    value = parser.expression()
    extra = parser.peek()
    if extra is not None:
        raise ListenerScriptError(f"{extra.text!r} after the script's expression")
    return value.python


def translate_script(
    text: str,
    *,
    language: str,
    event: str,
    task_listener: bool,
    static_assignee: str = "",
    temp_prefix: str = "listener_",
) -> Translated:
    """Translate a JavaScript or Groovy listener script (module doc).

    `language` is the script format (lowercase), `event` the listener's event,
    `static_assignee` the task's drawn assignee. Temporary names start with
    `temp_prefix` (chosen by the caller so that no variable of the diagram has
    it); they are deleted at the end of the script.

    Raises:
        ListenerScriptError: the script is outside the subset (names what).
    """
    kind = "groovy" if language in GROOVY else "javascript"
    if language not in JAVASCRIPT | GROOVY:
        raise ListenerScriptError(f"the script language {language!r}")
    parser = _Parser(
        tokens=_tokens(text),
        language=kind,
        event=event,
        task_listener=task_listener,
        static_assignee=static_assignee.strip(),
        temp={},
        temp_prefix=temp_prefix,
    )
    body = parser.program()
    if parser.assignee and parser.assignee[2:-1] in parser.variables_set:
        raise ListenerScriptError(
            "task.setAssignee(...) of a variable the same script sets"
        )
    used = {n: t for n, t in parser.temp.items() if t in "\n".join(body)}
    prologue: list[str] = []
    for name, temp in used.items():
        prologue += [
            "try:",
            f"    {temp} = {name}",
            f"    {temp}_set = True",
            "except NameError:",
            f"    {temp} = None",
            f"    {temp}_set = False",
        ]
    epilogue = [f"del {t}, {t}_set" for t in used.values()]
    return Translated(
        python="\n".join([*prologue, *body, *epilogue]),
        assignee=parser.assignee,
        variables_set=frozenset(parser.variables_set),
    )
