"""Translate the common subset of JUEL (Camunda 7 / Operaton expressions) to Python.

Supported: `${...}` or `#{...}` around one expression made of names, property
access (`a.b`, `a['b']`), literals (numbers, strings, true/false/null), `!`/`not`,
`-`, `empty`, `&&`/`and`, `||`/`or`, `==`/`eq`, `!=`/`ne`, `<`/`lt`, `>`/`gt`,
`<=`/`le`, `>=`/`ge`, `+ - * / %` (`div`, `mod`), `? :` and parentheses, and
the Java methods analysts call on strings and collections, run as the value's
Java type runs them (`_el_call_`, sandbox/el.py `call`): `a.equals(b)`
(Object.equals: type-strict, no coercion, so a Long 5 is not a Double 5.0,
unlike `==`), `a.contains(b)` (String.contains of a String, List.contains
with equals), `a.size()` (a List or Map) and `a.isEmpty()` (a String, List or
Map), and Camunda Spin's reading of a JSON variable (held here as JSON data):
`a.prop('b')` (a missing property fails), `a.hasProp('b')` and
`numberValue()`, `stringValue()`, `boolValue()` (the value itself, when it is
of that type). A method the value's type has not fails (MethodNotFound).
Anything else (other method calls: a Java bean's or object's method has no
Python equivalent here; functions, composite text) is refused with a reason,
so the analyst is told what to change instead of the diagram running
differently from how it reads.

Case data is JSON, so property access reads a map (a JSON object) or a list.

The operators follow JSR-245 "Expression Language Specification 2.1" as Camunda
7's JUEL runs it (TRANSLATOR_VERSION 5; method calls 6): they become calls of
the EL operators of `sandbox.el` (`_el_arith_`, `_el_neg_`, `_el_cmp_`,
`_el_bool_`, `_el_get_`, `_el_condition_`, `_el_call_`), which the sandbox
provides to every expression and script:
`${order.total > 100}` becomes `_el_cmp_('>', _el_get_(order, 'total'), 100)`.

* §1.7 arithmetic (`+ - * / div % mod`, unary `-`): null counts as 0; a Double,
  or a String holding '.', 'e' or 'E', makes the result Double, else Long;
  `/` is always Double (`${7 / 2}` is 3.5).
* §1.8 relational and §1.9 equality: null is false for `< > <= >=` (true for
  `<= >=` when both are null) and equal only to null; a String compared with a
  number is coerced to the number (`"5000" > 1000`, "" is 0, "abc" fails), a
  String compared with a Boolean to the Boolean (`"true" == true`).
* §1.18.2 coercion to Boolean wherever EL needs a boolean: the operands of `!`,
  `&&`, `||` and the test of `? :`. Null and "" are false, a String is true
  when it is "true" in any case, a number fails.
* A whole condition (a sequence flow's, a multi-instance completion condition,
  a loop condition, a conditional event's) is not coerced: as Camunda 7's
  UelExpressionCondition.evaluate (and MultiInstanceActivityBehavior for a
  completion condition) it must be a Boolean, else the step fails with an
  incident ("condition expression returns null" / "condition expression
  returns non-Boolean: 'yes' (java.lang.String)", naming the element).
  `${approved}` becomes `_el_condition_(approved, "Condition of sequence flow
  'Flow_Yes'")`; a condition whose top is already a Boolean (a comparison,
  `!`, `&&`, `||`, `empty`, a literal) gets no check. `${approved == "true"}`
  holds for the String "true" (§1.9.1 coerces the operands).
* §1.6 property access: a null base, a map's missing key or a list index out of
  range gives null (`${order.total}` on an order without total). A variable
  that does not exist still fails (Camunda: PropertyNotFoundException "Cannot
  resolve identifier"): the case gets an incident, never a silent null.
  Except in a conditional event's condition, which Camunda 7 evaluates with
  UelExpressionCondition.tryEvaluate: there a PropertyNotFoundException (a
  variable that does not exist, a property of a value that has none) counts
  as false and the event waits (`conditional_events.py`). Such a condition is always
  wrapped in `_el_condition_(...)`, which is how the runtime tells translated
  JUEL from a Python condition (SpiffWorkflow's semantics: an incident).
* §1.10 `empty`: null, "", an empty list or map.
* Literals as JUEL's scanner and parser read them: an integer is
  Long.valueOf, so one beyond a 64-bit Long is refused at upload, as Camunda's
  parser fails on it; a string knows only the escapes `\\\\` and a backslash
  before its own quote (`'it\\'s'`), any other escape is refused; digits are
  ASCII.

A failed coercion raises `ELException` there: an incident, as in Camunda.

Engine objects. Camunda 7's VariableScopeElResolver answers `execution` (the
execution, in every expression of a process), `task` in a task listener (the
task; `task_scope`) and `authenticatedUserId` (the user of the command) with
the engine's objects, never with variables. A safe subset of them runs
(EngineScope says where; nothing else of them is callable, no reflection):

* `execution.getVariable('x')` / `task.getVariable('x')`: VariableScope.
  getVariable, the value of the nearest scope holding x (a task's local input
  parameter, a sub-process's variable, the process instance: a task's data
  here is exactly that, variables.py), null when none holds it (where `${x}`
  fails); `hasVariable('x')` whether any does. Translated to `_el_var_(lambda:
  x)` / `_el_has_(...)` (sandbox/el.py; the only lambda an expression may hold).
  The name must be a text literal naming a variable Laneway can hold.
* `execution.setVariable('x', v)` / `task.setVariable` as a listener's whole
  expression (listeners.py): set where the variable exists, else on the
  process instance (variables.py's store does exactly that).
* Properties (`_el_object_(_el_engine_, 'execution.id')`, read from what the
  engine gives the running element, engine_objects.py says what each maps
  to): `execution.` id, processInstanceId, processBusinessKey, businessKey,
  processDefinitionId, currentActivityId, currentActivityName; `task.` id,
  name, taskDefinitionKey, processInstanceId, executionId,
  processDefinitionId; `authenticatedUserId`. In a listener that runs as a
  script drawn beside its element (a flow's, an event's, a gateway's), the
  element's own properties (id, currentActivity*, task.*) are refused.
* Known at upload: `execution.eventName` / `task.eventName` in a listener (its
  event; refused elsewhere, where Camunda 7 has null), `task.assignee` in a
  task listener (the assignee as drawn in create, the new one in assignment,
  the person completing in complete; refused where it cannot be told).
* `execution.getVariableLocal('x')` / `hasVariableLocal('x')`, and
  `execution.setVariableLocal('x', v)` as a listener's whole expression:
  AbstractVariableScope's reads and writes of the execution's own scope. They
  run where that execution is the process instance (an element directly in a
  process without concurrent paths, not a scope activity:
  execution_scope.py), which has no parent scope, so they mean getVariable /
  hasVariable / setVariable there (EngineScope.local is None); elsewhere
  (a sub-process, camunda:inputOutput, a multi-instance, a boundary event, a
  fork anywhere in the process) they are refused, as are `task.*Local`
  (Laneway keeps no task-local variables).
* `execution.removeVariable('x')` / `task.removeVariable('x')` as a
  listener's whole expression, where the execution is the process instance
  (as the *Local variants): AbstractVariableScope.removeVariable removes x
  from the nearest scope holding it, which is then the process instance;
  nothing when none holds it.
* `task.setAssignee('name')` as a create task listener's whole expression
  on a task that names no assignee (listeners.expression_assignee): the task
  is created with that assignee, and its assignment listeners run after the
  create ones, as for an assignee drawn so.
* Refused at upload with the reason: removeVariable elsewhere, setVariables,
  getVariables, setAssignee elsewhere (another event, a value that is not a
  text), a setVariable that is not a listener's whole expression, any other property
  or method, the object itself as a value, and all of them in a decision
  table (EngineScope(objects=False): Camunda 7 evaluates decisions over
  variables only).

Versions: the translation happens once, at upload, into the version's
normalized XML, which is what runs. A version deployed under an earlier
TRANSLATOR_VERSION keeps its translated expressions (plain Python operators
before 5, `${x + 1}` with x null fails there; before 6 `a.equals(b)` is
Python's `a == b`, `a.contains(b)` `b in a`, `a.size()` `len(a)`) until a
changed file is uploaded as a new version; uploading the identical file again
returns the existing version. The Boolean check of a whole condition and the
`_el_condition_` mark of a conditional event's condition are in the
translated text too, so they hold for versions translated from 5 on; the
tryEvaluate reading of a marked condition is runtime code
(`conditional_events.py`) but needs that mark, so it holds for the same
versions. The EL operators themselves are runtime code: their corrections
(from 6: `==` of two maps or lists as Java's equals, Strings ordered by UTF-16
code units, Long.valueOf/Double.valueOf of any length, a list index as an
Integer) apply to every version that calls them. ADAPTER_VERSION
(engine.spiff) carries this number, so the cached parsed specs are rebuilt
when it changes.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass

TRANSLATOR_VERSION = "6"


class JuelError(Exception):
    """The text is JUEL outside the supported subset (message says why)."""


# Character.isWhitespace, which JUEL's scanner skips: Python's \s less the
# no-break spaces (U+00A0, U+2007, U+202F) and U+0085; inside ${...} they fail.
_JAVA_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u1680\u2000-\u2006\u2008-\u200a"
    "\u2028\u2029\u205f\u3000"
)
_TOKEN = re.compile(
    r"""["""
    + _JAVA_SPACE
    + r"""]*(?:
        (?P<number>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[!<>+\-*/%?:.()\[\],])
      | (?P<bad>[^"""
    + _JAVA_SPACE
    + r"""])
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
class _Expr:
    """Translated Python text, and whether it always yields a bool."""

    text: str
    boolean: bool = False

    def as_bool(self) -> str:
        """Return the text coerced to a boolean as EL does (§1.18.2)."""
        return self.text if self.boolean else f"_el_bool_({self.text})"


_BOOL_LITERALS = ("True", "False")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number | string | name | op | end
    text: str


def _unescape(literal: str) -> str:
    """The text of a string literal: JUEL's scanner knows only the escapes
    `\\\\` and a backslash before the literal's own quote (else it fails)."""
    quote, body = literal[0], literal[1:-1]

    def escape(match: re.Match[str]) -> str:
        if match.group(1) not in ("\\", quote):
            raise JuelError(
                f"invalid escape sequence \\{match.group(1)} in a string: "
                f"JUEL knows only \\\\ and \\{quote}"
            )
        return match.group(1)

    return re.sub(r"\\(.)", escape, body, flags=re.DOTALL)


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


# Camunda 7's VariableScopeElResolver answers these names with the engine's
# objects before any variable is looked up (module doc, "Engine objects").
_ENGINE_OBJECTS = {
    "execution": "the execution (its properties and methods)",
    "authenticatedUserId": "the signed-in user of the command",
}
_TASK_OBJECTS = {**_ENGINE_OBJECTS, "task": "the task (its properties and methods)"}
# Properties read from the engine's facts about the running element
# (scripting.engine_facts), by object.
_PROPERTIES = {
    "execution": frozenset(
        {
            "id",
            "processInstanceId",
            "processBusinessKey",
            "businessKey",
            "processDefinitionId",
            "currentActivityId",
            "currentActivityName",
        }
    ),
    "task": frozenset(
        {
            "id",
            "name",
            "taskDefinitionKey",
            "processInstanceId",
            "executionId",
            "processDefinitionId",
        }
    ),
}
# Properties of the element the expression runs on: unknown where a listener
# runs as a script drawn beside its element (a flow's, an event's).
_ACTIVITY_PROPERTIES = frozenset(
    {
        "execution.id",
        "execution.currentActivityId",
        "execution.currentActivityName",
        "task.id",
        "task.name",
        "task.taskDefinitionKey",
        "task.executionId",
    }
)
_VARIABLE_METHODS = {"getVariable": "_el_var_", "hasVariable": "_el_has_"}
# The *Local variants: the same where the execution is the process instance
# (EngineScope.local is None), which has no parent scope.
_LOCAL_METHODS = {"getVariableLocal": "getVariable", "hasVariableLocal": "hasVariable"}
_NOT_HERE = {
    "setVariableLocal": "setting a local variable, which runs as a listener's "
    "whole expression only",
    "removeVariable": "removing a variable, which runs as a listener's whole "
    "expression only",
    "removeVariableLocal": "removing a variable",
    "setVariables": "setting several variables at once",
    "getVariables": "all variables as a map",
    "getVariablesLocal": "all variables as a map",
    "setAssignee": "setting the assignee, which runs as a create task "
    "listener's whole expression ${task.setAssignee('name')} only",
}


@dataclass(frozen=True, slots=True)
class EngineScope:
    """Which of Camunda 7's engine objects an expression can read here.

    `objects`: False where Camunda 7 has none (a decision table's cells),
    so the names stay refused. `task`: a task listener's (`task` is the
    task). `event`: a listener's event (`eventName`), None elsewhere.
    `activity`: whether the expression runs on its own element (False for a
    listener drawn on a flow or event, which runs as a script beside it).
    `assignee`: the Python text of the task's assignee where a task listener
    knows it (listeners.py), None where `task.assignee` cannot be read.
    `local`: why `execution.getVariableLocal` / `hasVariableLocal` cannot run
    here, None where the execution is the process instance
    (execution_scope.own_scope_refusal).
    """

    objects: bool = True
    task: bool = False
    event: str | None = None
    activity: bool = True
    assignee: str | None = None
    local: str | None = (
        "where Laneway does not tell which execution runs the expression"
    )


def local_refusal(name: str, reason: str | None) -> str | None:
    """Why `name`'s *Local variable methods are refused, or None: a task's own
    scope (TaskEntity's variables) is kept nowhere here; the execution's is
    the process instance's where `reason` is None (execution_scope.py)."""
    if name == "task":
        return (
            "reads or writes the task's own variables (Camunda 7's TaskEntity "
            "scope, deleted when the task completes), which Laneway does not "
            "keep; use task.getVariable / task.setVariable"
        )
    if reason is None:
        return None
    return (
        f"reads or writes the execution's own scope, which is not the process "
        f"instance here ({reason}); Laneway keeps that scope only for an "
        "element directly in a process without concurrent paths"
    )


class _Parser:
    """A recursive-descent parser that emits fully parenthesized Python."""

    def __init__(self, source: str, scope: EngineScope | None = None) -> None:
        self.tokens = _tokens(source)
        self.pos = 0
        self.scope = EngineScope() if scope is None else scope
        self.objects = _TASK_OBJECTS if self.scope.task else _ENGINE_OBJECTS

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def _namespaced_call(self) -> bool:
        """Whether `ns:f(` follows a name (EL's function call with a prefix).

        Only then is `:` a prefix: in `a ? b : c` it ends the choice (JUEL's
        parser looks ahead the same way).
        """
        ahead = [t.text for t in self.tokens[self.pos : self.pos + 3]]
        return (
            len(ahead) == 3
            and ahead[0] == ":"
            and ahead[2] == "("
            and ahead[1][:1].isalpha()
        )

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
                return _Expr(f"_el_neg_({operand.text})")
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
                value = _Expr(f"_el_get_({value.text}, {name.text!r})")
            else:
                key = self.ternary()
                self.take("]")
                value = _Expr(f"_el_get_({value.text}, {key.text})")
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
        arguments = f", {argument.text}" if argument is not None else ""
        return _Expr(
            f"_el_call_({name!r}, {subject.text}{arguments})", name in _BOOLEAN_METHODS
        )

    def primary(self) -> _Expr:
        token = self.take()
        if token.kind == "number":
            return _Expr(_number(token.text))
        if token.kind == "string":
            return _Expr(repr(_unescape(token.text)))
        if token.kind == "name":
            if token.text in self.objects and self.scope.objects:
                return self.engine_object(token.text)
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
        if self.peek().text == "(" or self._namespaced_call():
            raise JuelError(f"function calls such as {name}(...) are not supported")
        if name in _RESERVED or keyword.iskeyword(name) or name.startswith("_"):
            raise JuelError(f"the name {name!r} cannot be used")
        if name in self.objects:
            raise JuelError(
                f"the name {name!r} is, in Camunda 7, {self.objects[name]}, not a "
                "variable (VariableScopeElResolver); expressions here read the "
                "case's variables only"
            )
        return name

    def engine_object(self, name: str) -> _Expr:
        """Translate a read of Camunda 7's engine objects (module doc)."""
        if name == "authenticatedUserId":
            return _Expr(f"_el_object_({ENGINE_FACTS}, 'authenticatedUserId')")
        if self.peek().text != ".":
            raise JuelError(
                f"{name} itself is not a value here: read one of its properties "
                f"({_supported(name)})"
            )
        self.take(".")
        member = self.take()
        if member.kind != "name":
            raise JuelError(f"expected a property name after '{name}.'")
        qualified = f"{name}.{member.text}"
        if self.peek().text == "(":
            return self.engine_method(name, member.text)
        known = self.known_at_upload(qualified)
        if known is not None:
            return _Expr(known)
        _check_member(name, member.text, qualified, _PROPERTIES[name])
        if qualified in _ACTIVITY_PROPERTIES and not self.scope.activity:
            raise JuelError(
                f"{qualified} in a listener that runs here as a script drawn "
                "beside its element (a flow's, an event's or a gateway's), "
                "which would report that script instead"
            )
        return _Expr(f"_el_object_({ENGINE_FACTS}, {qualified!r})")

    def known_at_upload(self, qualified: str) -> str | None:
        """The Python of a property the listener's place tells (its event, the
        task's assignee), None for the others."""
        if qualified in ("execution.eventName", "task.eventName"):
            if self.scope.event is None:
                raise JuelError(
                    f"{qualified} is set only while a listener runs (null "
                    "elsewhere in Camunda 7); use it in a listener's expression"
                )
            return repr(self.scope.event)
        if qualified == "task.assignee":
            if self.scope.assignee is None:
                raise JuelError(
                    "task.assignee where Laneway cannot tell it (a create "
                    "listener of a task whose assignee is an expression other "
                    "than a name, a delete listener)"
                )
            return self.scope.assignee
        return None

    def engine_method(self, name: str, method: str) -> _Expr:
        """Translate `execution.getVariable('x')` / `hasVariable('x')` (and
        their *Local variants where they mean the same)."""
        if method in _LOCAL_METHODS:
            refusal = local_refusal(name, self.scope.local)
            if refusal is not None:
                raise JuelError(f"{name}.{method}() {refusal}")
            method = _LOCAL_METHODS[method]
        _check_member(name, method, f"{name}.{method}()", frozenset(_VARIABLE_METHODS))
        self.take("(")
        argument = self.take()
        if argument.kind != "string":
            raise JuelError(
                f"{name}.{method}() with a variable name that is not a text literal"
            )
        variable = _unescape(argument.text)
        if (
            not variable.isidentifier()
            or not variable.isascii()
            or keyword.iskeyword(variable)
            or variable.startswith("_")
            or variable in _LITERALS
        ):
            raise JuelError(
                f"{name}.{method}({argument.text}): {variable!r} is not a "
                "variable name Laneway can hold"
            )
        self.take(")")
        return _Expr(
            f"{_VARIABLE_METHODS[method]}(lambda: {variable})",
            method == "hasVariable",
        )


def _check_member(
    name: str, member: str, shown: str, supported: frozenset[str]
) -> None:
    """Refuse a member of an engine object outside the subset, saying why."""
    if member in _NOT_HERE:
        raise JuelError(
            f"{shown} ({_NOT_HERE[member]}) is not supported here "
            f"(supported: {_supported(name)})"
        )
    if member not in supported:
        raise JuelError(
            f"{shown} is not supported: only {_supported(name)} of "
            f"Camunda 7's {name} object are"
        )


def _supported(name: str) -> str:
    if name == "authenticatedUserId":
        return "its value"
    extra = {"eventName", "assignee"} if name == "task" else {"eventName"}
    members = sorted(_PROPERTIES[name] | extra)
    return ", ".join(members + [f"{m}('name')" for m in _VARIABLE_METHODS])


ENGINE_FACTS = "_el_engine_"

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
_BOOLEAN_METHODS = frozenset({"equals", "contains", "isEmpty", "hasProp"})
_LONG_MAX = 2**63 - 1


def _number(text: str) -> str:
    """An EL number literal as Python: an integer is Long.valueOf (leading zeros
    allowed; beyond a Long JUEL's parser fails, so does the upload), anything
    else Double.valueOf, which Python's float literal reads alike."""
    if not text.isdigit():
        return text
    digits = text.lstrip("0") or "0"
    if len(digits) > 19 or int(digits) > _LONG_MAX:
        raise JuelError(
            f"the integer {_shown(text)} is beyond a 64-bit Long (JUEL's parser "
            "refuses it); write it as a decimal (with '.') for a Double"
        )
    return digits


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def _combine(left: _Expr, op: str, right: _Expr) -> _Expr:
    if op in ("and", "or"):
        return _Expr(f"({left.as_bool()} {op} {right.as_bool()})", True)
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return _Expr(f"_el_cmp_({op!r}, {left.text}, {right.text})", True)
    return _Expr(f"_el_arith_({op!r}, {left.text}, {right.text})")


def is_juel(text: str) -> bool:
    """Return whether the text contains a JUEL `${...}` / `#{...}` part."""
    return "${" in text or "#{" in text


CONDITION_CHECK = "_el_condition_"


def is_checked_condition(expression: str) -> bool:
    """Return whether `expression` is a whole condition translated from JUEL and
    checked by `_el_condition_` (always so for a conditional event's)."""
    return expression.startswith(CONDITION_CHECK + "(")


def juel_to_python(
    text: str,
    *,
    condition: str = "",
    checked: bool = False,
    task_scope: bool = False,
    scope: EngineScope | None = None,
) -> str:
    """Translate one `${...}` JUEL expression to a Python expression.

    With `condition` (what it is: "Condition of sequence flow 'Flow_1'"), the
    whole value must be a Boolean (UelExpressionCondition): unless it always
    is, it is checked by `_el_condition_`. With `checked`, it is checked even
    then (a conditional event's condition: the mark `is_checked_condition`
    reads). With `task_scope` (a task listener's), `task` is Camunda 7's task
    object too, not a variable; `scope` says more of where it runs (EngineScope).

    Raises:
        JuelError: when the text is not a single expression of the supported subset.
    """
    match = _WRAPPED.match(text)
    if not match or is_juel(match.group("body")):
        raise JuelError(
            "only a single ${...} expression is supported, "
            "not text mixed with expressions"
        )
    body = re.sub(f"^[{_JAVA_SPACE}]+|[{_JAVA_SPACE}]+$", "", match.group("body"))
    if not body:
        raise JuelError("the expression is empty")
    if scope is None:
        scope = EngineScope(task=task_scope)
    parsed = _Parser(body, scope).parse()
    if not condition or (parsed.boolean and not checked):
        return parsed.text
    return f"{CONDITION_CHECK}({parsed.text}, {condition!r})"


_OPEN = ("${", "#{")


def _expression_end(text: str, start: int) -> int:
    """Return the index of the `}` closing the expression whose body starts at
    `start` (JUEL has no braces outside string literals)."""
    quote = ""
    index = start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "}":
            return index
        index += 1
    raise JuelError("an expression ${ is not closed with }")


def expression_parts(text: str) -> Iterator[tuple[bool, str]]:
    """Split composite text into (is an expression, text) parts.

    As JUEL's scanner reads it: `\\${` and `\\#{` are the literal text `${`.
    """
    literal: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith(("\\${", "\\#{"), index):
            literal.append(text[index + 1 : index + 3])
            index += 3
        elif text.startswith(_OPEN, index):
            end = _expression_end(text, index + 2)
            if literal:
                yield False, "".join(literal)
                literal = []
            yield True, text[index : end + 1]
            index = end + 1
        else:
            literal.append(text[index])
            index += 1
    if literal:
        yield False, "".join(literal)


def composite_expression(text: str) -> str | None:
    """Return the Python expression of text that holds `${...}` (None when it
    holds none), as Camunda 7's ExpressionManager creates it: one `${...}`
    alone is its value; text around or between expressions makes a composite
    expression whose value is a String, each part coerced to text (EL 2.1
    §1.18.1: null is "", sandbox/el.py `_el_text_`).

    Raises:
        JuelError: a part is not JUEL of the supported subset.
    """
    if not is_juel(text):
        return None
    parts = list(expression_parts(text))
    if len(parts) == 1 and parts[0][0]:
        return juel_to_python(parts[0][1])
    if all(not is_expression for is_expression, _ in parts):
        return repr("".join(t for _, t in parts))  # only escaped ${ text
    args = [juel_to_python(t) if expr else repr(t) for expr, t in parts]
    return f"_el_text_({', '.join(args)})"
