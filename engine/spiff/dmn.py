"""DMN 1.3 decisions as Camunda 7 runs them, on the sandboxed evaluator.

SpiffWorkflow's DMN engine knows two hit policies (and returns the first
match under UNIQUE), one decision per file, no requirement graphs, and tries
every cell as Python. Laneway reads the DMN itself at upload:

* every cell is translated from S-FEEL (`dmn_feel`) to a sandboxed Python
  expression, cell by cell; an input expression or output entry that is not
  FEEL but a Python expression the sandbox compiles (SpiffWorkflow's own
  dialect, e.g. `telephone[-10:]`) is kept as Python;
* hit policies UNIQUE, FIRST, PRIORITY, ANY, COLLECT (with SUM, MIN, MAX,
  COUNT) and RULE ORDER, with their DMN meaning: two matches under UNIQUE, or
  two different outputs under ANY, stop the case with an incident;
* literal-expression decisions, and requirement graphs (a decision requiring
  others sees their outputs by output name, as in Camunda);
* `camunda:resultVariable` with `camunda:mapDecisionResult` (singleEntry,
  singleResult, collectEntries, resultList; default resultList). Without a
  result variable a Camunda task (`camunda:decisionRef`) stores nothing, as
  Camunda 7's DecisionEvaluationUtil.evaluateDecision; a SpiffWorkflow task
  (`spiffworkflow:calledDecisionId`) writes the outputs to the case data by
  name (a list per output for COLLECT and RULE ORDER), SpiffWorkflow's
  behaviour.

Anything else is a Problem naming the file, decision, rule and column.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask

from .common import typed_equal
from .dmn_feel import INPUT, FeelError, feel_expression, feel_unary_tests, feel_values
from .io_mapping import (
    IO_PARAMETERS,
    inputs_in_order,
    io_parameters,
    parameter_evaluate,
)
from .juel import EngineScope, JuelError, is_juel, juel_to_python
from .scripting import check_expression
from .types import Problem
from .xml import NSMAP, local_name, vendor_attr, vendor_children

# Camunda 7 evaluates a decision's expressions over its variables only.
NO_ENGINE_OBJECTS = EngineScope(objects=False)

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
RESULT_SHAPES = ("singleEntry", "singleResult", "collectEntries", "resultList")
_LISTING = ("COLLECT", "RULE ORDER")  # policies whose result is a list of rules
REFUSED = "\0"  # marks a cell that stands for a problem (see _Reader.problem)
# An output cell left empty: Camunda 7 gives the rule no entry for that output
# (DecisionTableEvaluationHandler.evaluateOutputEntries puts only non-empty
# expressions), so the rule's result has no such key and COLLECT skips it.
EMPTY_CELL = ""
# Children that carry no decision logic (documentation, diagram, extensions).
_INERT = {"description", "extensionElements", "variable", "question", "allowedAnswers"}

Evaluate = Callable[[str, dict[str, Any]], Any]
Result = list[dict[str, Any]]


class DecisionError(Exception):
    """A decision cannot give a result (two UNIQUE matches, a shape mismatch...)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a test per input column (None: any) and an output per column."""

    id: str
    row: int
    tests: tuple[str | None, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision table (or literal expression), every cell already Python."""

    id: str
    name: str
    requires: tuple[str, ...] = ()
    hit_policy: str = "UNIQUE"
    aggregation: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    priorities: tuple[tuple[Any, ...], ...] = ()
    rules: tuple[Rule, ...] = ()
    literal: str | None = None
    input_types: tuple[str, ...] = ()  # the inputExpressions' typeRef
    output_types: tuple[str, ...] = ()  # the outputs' typeRef
    input_labels: tuple[str, ...] = ()  # the inputs' label (else id), for messages


# expressionLanguage values read as S-FEEL (Python: SpiffWorkflow's dialect, tried
# when a cell is not FEEL); DMN 1.1-1.3 name FEEL by these URIs.
_RUNS_AS_FEEL = {
    "",
    "feel",
    "python",
    "http://www.omg.org/spec/feel/20140401",
    "http://www.omg.org/spec/dmn/20180521/feel/",
    "https://www.omg.org/spec/dmn/20191111/feel/",
}


def _language(element: etree._Element) -> str:
    """Return a cell's expression language: its own, else the file's (Camunda 7).

    Camunda's DmnExpressionTransformHelper falls back to the expressionLanguage
    of `definitions` when the cell names none.
    """
    own = (element.get("expressionLanguage") or "").strip()
    if own:
        return own.lower()
    root = element.getroottree().getroot()
    return (root.get("expressionLanguage") or "").strip().lower()


def _language_refused(text: str, language: str) -> str:
    return (
        f"{text!r} is written in {language}, which does not run here "
        "(FEEL, and JUEL for input expressions and output entries, do)."
    )


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and local_name(c) == name]


def _names(elements: Sequence[etree._Element]) -> str:
    return ", ".join(local_name(c) for c in elements) or "nothing"


def _enclosing(element: etree._Element, name: str) -> etree._Element | None:
    current: etree._Element | None = element
    while current is not None and local_name(current) != name:
        current = current.getparent()
    return current


def _text(element: etree._Element) -> str:
    texts = _children(element, "text")
    return (texts[0].text or "").strip() if texts else ""


class _Reader:
    """Read the decisions of one DMN file, collecting located problems."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def problem(self, where: str, why: str, element: etree._Element) -> str:
        """Add a problem located at the enclosing rule (else decision) element.

        Return the cell that stands in for the refused one: evaluating it fails
        with the problem (a version stored before a check existed must fail
        loudly, never read a refused cell as "any value").
        """
        owner = _enclosing(element, "rule")
        if owner is None:
            owner = _enclosing(element, "decision")
        message = f"{self.filename}: {where}: {why}"
        self.problems.append(
            Problem(
                message,
                element.sourceline,
                owner.get("id") if owner is not None else None,
            )
        )
        return REFUSED + message

    def expression(self, text: str, where: str, element: etree._Element) -> str:
        """Return the Python of a FEEL (or sandbox-Python) expression cell."""
        language = _language(element)
        if language not in _RUNS_AS_FEEL and language != "juel":
            return self.problem(where, _language_refused(text, language), element)
        if language == "juel":
            # Camunda 7 evaluates a cell marked expressionLanguage="juel" as JUEL.
            try:
                python = (
                    juel_to_python(text, scope=NO_ENGINE_OBJECTS)
                    if is_juel(text)
                    else ""
                )
            except JuelError as exc:
                return self.problem(where, f"{text!r} is not JUEL ({exc}).", element)
            if not python:
                return self.problem(
                    where, f"{text!r} is not JUEL (no ${{...}}).", element
                )
            return self.compiled(python, text, where, element)
        try:
            python = feel_expression(text)
        except FeelError as exc:
            if text and check_expression(text) is None:
                return text  # SpiffWorkflow's Python dialect
            return self.problem(where, f"{text!r} is not S-FEEL ({exc}).", element)
        return self.compiled(python, text, where, element)

    def compiled(
        self, python: str, text: str, where: str, element: etree._Element
    ) -> str:
        why = check_expression(python)
        if why:
            return self.problem(where, f"{text!r} cannot run here ({why}).", element)
        return python

    def test(self, text: str, where: str, element: etree._Element) -> str | None:
        language = _language(element)
        if language not in _RUNS_AS_FEEL:
            why = "input entry " + _language_refused(text, language)
            return self.problem(where, why, element)
        try:
            python = feel_unary_tests(text)
        except FeelError as exc:
            return self.problem(
                where, f"input entry {text!r} is not S-FEEL ({exc}).", element
            )
        return None if python is None else self.compiled(python, text, where, element)

    def decision(self, element: etree._Element) -> Decision:
        decision_id = element.get("id", "")
        where = f"decision '{decision_id}'"
        requires = self.requirements(element, where)
        tables = _children(element, "decisionTable")
        literals = _children(element, "literalExpression")
        others = [
            c
            for c in element
            if isinstance(c.tag, str)
            and local_name(c) not in _INERT | {"decisionTable", "literalExpression"}
            and not local_name(c).endswith("Requirement")
        ]
        base = Decision(decision_id, element.get("name", ""), requires)
        if others or len(tables) + len(literals) != 1:
            self.problem(
                where,
                "a decision must be one decision table or one literal expression "
                f"(found: {_names(others + tables + literals)}).",
                element,
            )
            return base
        if literals:
            literal = self.expression(_text(literals[0]), where, literals[0])
            variables = _children(element, "variable")
            name = (variables[0].get("name") if variables else "") or base.id
            return Decision(
                base.id, base.name, requires, outputs=(name,), literal=literal
            )
        return self.table(base, tables[0], where)

    def requirements(self, element: etree._Element, where: str) -> tuple[str, ...]:
        found = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            kind = local_name(child)
            if kind == "knowledgeRequirement":
                self.problem(
                    where, "business knowledge models are not supported.", child
                )
            elif kind == "informationRequirement":
                for ref in _children(child, "requiredDecision"):
                    found.append(ref.get("href", "").lstrip("#"))
        return tuple(found)

    def table(self, base: Decision, table: etree._Element, where: str) -> Decision:
        policy = " ".join(table.get("hitPolicy", "UNIQUE").upper().split())
        aggregation = table.get("aggregation", "").upper()
        if policy not in HIT_POLICIES:
            self.problem(
                where,
                f"hit policy {policy} is not supported "
                f"(use one of {', '.join(HIT_POLICIES)}).",
                table,
            )
        if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
            self.problem(
                where,
                f"aggregation {aggregation} needs hit policy COLLECT "
                f"and one of {', '.join(AGGREGATIONS)}.",
                table,
            )
        inputs = [self.input(i, where) for i in _children(table, "input")]
        labels = [i.get("label") or i.get("id", "") for i in _children(table, "input")]
        outputs = _children(table, "output")
        names = tuple(self.output_name(o, where, len(outputs)) for o in outputs)
        if aggregation and len(outputs) != 1:
            self.problem(
                where, f"aggregation {aggregation} needs exactly one output.", table
            )
        priorities = tuple(self.priority(o, where) for o in outputs)
        if policy == "PRIORITY" and not any(priorities):
            self.problem(
                where,
                "hit policy PRIORITY needs output values "
                "(their order is the priority).",
                table,
            )
        rules = tuple(
            self.rule(rule, row, where, labels, names)
            for row, rule in enumerate(_children(table, "rule"), start=1)
        )
        input_types = tuple(
            (expression[0].get("typeRef") or "").strip() if expression else ""
            for expression in (
                _children(i, "inputExpression") for i in _children(table, "input")
            )
        )
        return Decision(
            base.id,
            base.name,
            base.requires,
            policy,
            aggregation,
            tuple(inputs),
            names,
            priorities,
            rules,
            input_types=input_types,
            output_types=tuple((o.get("typeRef") or "").strip() for o in outputs),
            input_labels=tuple(labels),
        )

    def input(self, element: etree._Element, where: str) -> str:
        column = f"{where}, input '{element.get('label') or element.get('id')}'"
        expressions = _children(element, "inputExpression")
        text = _text(expressions[0]) if expressions else ""
        if not text:
            return self.problem(column, "the input has no expression.", element)
        return self.expression(text, column, expressions[0])

    def output_name(self, element: etree._Element, where: str, count: int) -> str:
        name = element.get("name") or ""
        if not name.isidentifier():
            self.problem(
                f"{where}, output '{element.get('label') or element.get('id')}'",
                f"the output needs a name that is a variable name (found {name!r}).",
                element,
            )
        return name

    def priority(self, element: etree._Element, where: str) -> tuple[Any, ...]:
        values = _children(element, "outputValues")
        text = _text(values[0]) if values else ""
        if not text:
            return ()
        try:
            return tuple(ast.literal_eval(v) for v in feel_values(text))
        except (FeelError, ValueError, SyntaxError):
            self.problem(
                f"{where}, output '{element.get('name')}'",
                f"output values {text!r} must be a list of literals.",
                element,
            )
            return ()

    def rule(
        self,
        element: etree._Element,
        row: int,
        where: str,
        labels: Sequence[str],
        names: Sequence[str],
    ) -> Rule:
        at = f"{where}, rule {row} ('{element.get('id')}')"
        entries = _children(element, "inputEntry")
        outputs = _children(element, "outputEntry")
        if len(entries) != len(labels) or len(outputs) != len(names):
            self.problem(
                at,
                f"the rule has {len(entries)} input and {len(outputs)} "
                f"output cells for {len(labels)} inputs and {len(names)} "
                "outputs.",
                element,
            )
            return Rule(element.get("id", ""), row, (), ())
        tests = tuple(
            self.test(_text(cell), f"{at}, input '{label}'", cell)
            for cell, label in zip(entries, labels, strict=True)
        )
        values = tuple(
            self.expression(_text(cell), f"{at}, output '{name}'", cell)
            if _text(cell).strip()
            else EMPTY_CELL
            for cell, name in zip(outputs, names, strict=True)
        )
        return Rule(element.get("id", ""), row, tests, values)


def read_decisions(
    filename: str, root: etree._Element
) -> tuple[list[Decision], list[Problem]]:
    """Return the decisions of a DMN file and every problem in them."""
    reader = _Reader(filename)
    found = [
        reader.decision(d)
        for d in root.iter()
        if isinstance(d.tag, str) and local_name(d) == "decision"
    ]
    return found, reader.problems


def _cycle(decisions: Mapping[str, Decision], start: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for required in decisions[stack.pop()].requires:
            if required == start:
                return True
            if required in decisions and required not in seen:
                seen.add(required)
                stack.append(required)
    return False


def _graph_problems(decisions: Mapping[str, Decision]) -> Iterator[Problem]:
    for decision in decisions.values():
        for required in decision.requires:
            if required not in decisions:
                yield Problem(
                    f"Decision '{decision.id}' requires the decision "
                    f"'{required}', which is in none of the DMN files."
                )
        if _cycle(decisions, decision.id):
            yield Problem(
                f"Decision '{decision.id}' requires itself (through its "
                "requirements): a requirement graph must have no cycle."
            )


def dmn_problems(files: Iterable[tuple[str, etree._Element]]) -> list[Problem]:
    """Return every problem in the DMN files, each decision, rule and column named."""
    problems: list[Problem] = []
    decisions: dict[str, Decision] = {}
    for name, root in files:
        found, reader_problems = read_decisions(name, root)
        problems += reader_problems
        decisions.update((d.id, d) for d in found)
    problems.extend(_graph_problems(decisions))
    return problems


# Evaluation ----------------------------------------------------------------


def _matches(
    rule: Rule, values: Sequence[Any], context: dict[str, Any], evaluate: Evaluate
) -> bool:
    return all(
        test is None or evaluate(test, {**context, INPUT: value}) is True
        for test, value in zip(rule.tests, values, strict=True)
    )


def _priority_key(decision: Decision, output: dict[str, Any]) -> tuple[int, ...]:
    key = []
    for name, order in zip(decision.outputs, decision.priorities, strict=True):
        if order:
            value = output.get(name)
            key.append(order.index(value) if value in order else len(order))
    return tuple(key)


# Output types whose values Camunda 7 never aggregates (a typed value that is no
# integer, long or double: AbstractCollectNumberHitPolicyHandler rejects it).
_NOT_NUMBER_TYPES = ("string", "boolean", "date")
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")


def _aggregable(decision: Decision, value: Any) -> int | float:
    """Return an output value as Camunda 7 aggregates it, else raise DecisionError.

    AbstractCollectNumberHitPolicyHandler.aggregateNumberValues: an untyped
    value that is a number is taken; any other untyped value is read with
    Long.valueOf, then Double.valueOf, of its text (so "5" is 5, and a
    Boolean or "high" stops the evaluation with DMN-03004); a value typed
    string, boolean or date is rejected.
    """
    kind = (decision.output_types[:1] or ("",))[0].lower()
    number: int | float | None = None
    if kind not in _NOT_NUMBER_TYPES and not isinstance(value, bool):
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str) and _JAVA_LONG.fullmatch(value):
            number = int(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
    if number is None:
        raise DecisionError(
            f"Decision '{decision.id}': COLLECT {decision.aggregation} cannot "
            f"aggregate the output {value!r}: it is not a number."
        )
    return number


def _aggregate(decision: Decision, rules: list[Rule], outputs: Result) -> Result:
    """Camunda 7's AbstractCollectNumberHitPolicyHandler: the outputs of the
    matching rules, but for empty cells (no entry), are aggregated; COUNT counts
    them, an explicit null among them fails SUM, MIN and MAX (DMN-03004); when
    every matching rule's cell is empty, SUM, MIN and MAX give no result."""
    name = decision.outputs[0]
    values = [o[name] for o in outputs if name in o]
    if decision.aggregation == "COUNT":
        return [{name: len(values)}]
    if not outputs:
        # Camunda 7 (DecisionTableEvaluationHandler.generateDecisionResult): no
        # rule matched, so no name and a null aggregate: the result is empty.
        return []
    if not values:
        # getResultName finds no rule with an output entry and the aggregate
        # is null: generateDecisionResult puts no rule result.
        return []
    numbers = [_aggregable(decision, v) for v in values]
    if any(isinstance(n, float) for n in numbers):
        numbers = [float(n) for n in numbers]  # Camunda: all as Double
    if decision.aggregation == "SUM":
        return [{name: sum(numbers)}]
    return [{name: (min if decision.aggregation == "MIN" else max)(numbers)}]


def _apply_policy(decision: Decision, rules: list[Rule], outputs: Result) -> Result:
    policy = decision.hit_policy
    if policy not in HIT_POLICIES or decision.aggregation not in ("", *AGGREGATIONS):
        raise DecisionError(
            f"Decision '{decision.id}': hit policy {policy} "
            f"{decision.aggregation} is not supported."
        )
    if policy == "UNIQUE" and len(rules) > 1:
        rows = ", ".join(str(r.row) for r in rules)
        raise DecisionError(
            f"Decision '{decision.id}' has hit policy UNIQUE, but "
            f"rules {rows} all match."
        )
    # Camunda 7's AnyHitPolicyHandler.allOutputsAreEqual compares the typed
    # outputs with equals: a rule giving 1 and one giving true differ.
    if policy == "ANY" and not all(typed_equal(o, outputs[0]) for o in outputs):
        rows = ", ".join(str(r.row) for r in rules)
        raise DecisionError(
            f"Decision '{decision.id}' has hit policy ANY, but the "
            f"matching rules {rows} give different outputs."
        )
    if policy == "PRIORITY" and outputs:
        return [min(outputs, key=lambda o: _priority_key(decision, o))]
    if policy == "COLLECT" and decision.aggregation:
        return _aggregate(decision, rules, outputs)
    return outputs if policy in _LISTING else outputs[:1]


def _refusing(evaluate: Evaluate) -> Evaluate:
    def checked(expression: str, context: dict[str, Any]) -> Any:
        if expression.startswith(REFUSED):
            raise DecisionError(expression[len(REFUSED) :])
        return evaluate(expression, context)

    return checked


def decision_evaluate(
    decisions: Mapping[str, Decision],
    decision_id: str,
    data: Mapping[str, Any],
    evaluate: Evaluate,
) -> Result:
    """Return Camunda's result list of a decision (its required ones first)."""
    evaluate = _refusing(evaluate)
    decision = decisions[decision_id]
    context = dict(data)
    for required in decision.requires:
        result = decision_evaluate(decisions, required, data, evaluate)
        context.update(_as_variables(decisions[required], result))
    if decision.literal is not None:  # its result is named by its variable
        return [{decision.outputs[0]: evaluate(decision.literal, context)}]
    values = [
        _input_typed(decision, column, evaluate(expression, context))
        for column, expression in enumerate(decision.inputs)
    ]
    rules = [r for r in decision.rules if _matches(r, values, context, evaluate)]
    outputs = [_rule_outputs(decision, rule, context, evaluate) for rule in rules]
    return _apply_policy(decision, rules, outputs)


def _rule_outputs(
    decision: Decision, rule: Rule, context: dict[str, Any], evaluate: Evaluate
) -> dict[str, Any]:
    """Return a matching rule's outputs as Camunda 7 gives them.

    DecisionTableEvaluationHandler.evaluateOutputEntries: an empty output entry
    puts nothing (the rule's result has no such key); any other is evaluated
    and transformed by its output's typeRef.
    """
    found = {}
    for column, (name, expression) in enumerate(
        zip(decision.outputs, rule.outputs, strict=True)
    ):
        if expression == EMPTY_CELL:
            continue
        value = evaluate(expression, context)
        type_ref = (decision.output_types[column:] or ("",))[0]
        try:
            found[name] = dmn_typed(value, type_ref)
        except ValueError:
            raise DecisionError(
                f"Decision '{decision.id}', output '{name}' (rule {rule.row}): "
                f"{_shown(value)} is not a value of type {type_ref} "
                "(the output's typeRef)."
            ) from None
    return found


def _input_typed(decision: Decision, column: int, value: Any) -> Any:
    type_ref = (decision.input_types[column:] or ("",))[0]
    try:
        return dmn_typed(value, type_ref)
    except ValueError:
        label = (decision.input_labels[column:] or ("",))[0] or str(column + 1)
        raise DecisionError(
            f"Decision '{decision.id}', input '{label}': {_shown(value)} is not "
            f"a value of type {type_ref} (the input expression's typeRef)."
        ) from None


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else java_string(value)


_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
# Integer.parseInt / Long.parseLong: an optional sign and decimal digits only.
_JAVA_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
# Double.valueOf: Java's floating-point literal, surrounding blanks allowed
# (NaN and Infinity have no JSON form, so they are not values here).
_JAVA_DOUBLE_TEXT = re.compile(
    r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?\s*"
)
# DateDataTypeTransformer's SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss").
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _number(value: Any) -> bool:
    """A Java Number: an int, float or decimal, never a Boolean."""
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(
        value, bool
    )


def _whole(value: Any, bounds: tuple[int, int], exact: bool) -> int:
    """A Java int (`exact`: a Number must be whole) or long (Number.longValue
    truncates), from a Number or the text parseInt / parseLong read."""
    if _number(value):
        if not math.isfinite(value) or (exact and value != int(value)):
            raise ValueError(value)
    elif not (isinstance(value, str) and _JAVA_INTEGER_TEXT.fullmatch(value)):
        raise ValueError(value)
    number = int(value)
    if not bounds[0] <= number <= bounds[1]:
        raise ValueError(value)
    return number


def dmn_typed(value: Any, type_ref: str | None) -> Any:
    """Return a value as Camunda 7's data type transformer of `type_ref` makes it.

    DefaultDataTypeTransformerRegistry: string, boolean, integer, long, double
    and date (by name, any case); any other typeRef keeps the value (the
    IdentityDataTypeTransformer); null stays null (DmnTypeDefinitionImpl). A
    value the type cannot take raises ValueError (Camunda: DMN-01005).

    * integer: a number whose value is a whole int (1.0 is 1, 1.5 fails), or
      text Integer.parseInt reads ("150"; "1.0" fails);
    * long: a number, truncated (Number.longValue: 1.9 is 1), or text
      Long.parseLong reads;
    * double: a number, or text Double.valueOf reads;
    * boolean: a Boolean, or "true" / "false" in any case;
    * string: String.valueOf (true is "true", 1.0 is "1.0");
    * date: a date and time, or text "yyyy-MM-dd'T'HH:mm:ss" (case data holds
      dates as ISO text, so the value stays text).
    """
    kind = (type_ref or "").strip().lower()
    if value is None or kind not in _TRANSFORMERS:
        return value
    return _TRANSFORMERS[kind](value)


def _to_double(value: Any) -> float:
    if _number(value):
        number = float(value)
    elif isinstance(value, str) and _JAVA_DOUBLE_TEXT.fullmatch(value):
        number = float(value.strip().rstrip("fFdD"))
    else:
        raise ValueError(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(value)


def _to_date(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str) and _DATE_TEXT.match(value):
        try:
            datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ValueError(value) from None
        return value
    raise ValueError(value)


def java_string(value: Any) -> str:
    """Return String.valueOf of the Java value a case value stands for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{k}={java_string(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _java_double(value: float) -> str:
    """Double.toString: plain from 10^-3 to 10^7, else computerized notation
    (the shortest digits that read back, one before the point: 1.0E7)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("-" if value < 0 else "") + "Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = decimal.Decimal(repr(value)).normalize().as_tuple()
    shown = "".join(map(str, digits))
    power = len(shown) - 1 + int(exponent)
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


_TRANSFORMERS: dict[str, Callable[[Any], Any]] = {
    "string": java_string,
    "boolean": _to_boolean,
    "integer": lambda value: _whole(value, _INT_RANGE, exact=True),
    "long": lambda value: _whole(value, _LONG_RANGE, exact=False),
    "double": _to_double,
    "date": _to_date,
}


def _listing(decision: Decision) -> bool:
    return decision.hit_policy in _LISTING and not decision.aggregation


def _as_variables(decision: Decision, result: Result) -> dict[str, Any]:
    """Return a decision's result as the variables of a decision requiring it."""
    if len(result) == 1 and not _listing(decision):
        return dict(result[0])
    names = dict.fromkeys(k for r in result for k in r)
    return {name: [r[name] for r in result if name in r] for name in names}


def _single_entry(decision_id: str, entry: dict[str, Any]) -> Any:
    """DmnDecisionResultEntriesImpl.getSingleEntry: null when the rule gave no
    output (its cells were empty), the value of its one output, else a failure."""
    if len(entry) > 1:
        raise DecisionError(
            f"Decision '{decision_id}' gives {len(entry)} outputs; "
            "singleEntry needs at most one."
        )
    return next(iter(entry.values()), None)


def _collect_entries(decision_id: str, result: Result) -> list[Any]:
    """CollectEntriesDecisionResultMapper: the one output name of all the
    matching rules, the value of each rule that gave it (a rule whose cell was
    empty gives none); two names, or none at all, fail."""
    if not result:
        return []
    names = dict.fromkeys(name for entry in result for name in entry)
    if len(names) != 1:
        raise DecisionError(
            f"Decision '{decision_id}' gives "
            f"{'the outputs ' + ', '.join(names) if names else 'no output'}; "
            "collectEntries needs exactly one."
        )
    name = next(iter(names))
    return [entry[name] for entry in result if name in entry]


def result_shape(decision_id: str, result: Result, shape: str) -> Any:
    """Return the result as `camunda:mapDecisionResult` maps it (Camunda 7's
    DecisionResultMapper classes, org.camunda.bpm.engine.impl.dmn.result)."""
    if shape in ("singleEntry", "singleResult") and len(result) > 1:
        raise DecisionError(
            f"Decision '{decision_id}' matched {len(result)} rules; "
            f"{shape} needs at most one."
        )
    if shape == "singleEntry":
        return _single_entry(decision_id, result[0]) if result else None
    if shape == "singleResult":
        return dict(result[0]) if result else None
    if shape == "collectEntries":
        return _collect_entries(decision_id, result)
    return [dict(r) for r in result]


@dataclass(frozen=True, slots=True)
class DecisionCall:
    """What a business rule task does: evaluate a decision, store its result."""

    decisions: Mapping[str, Decision]
    decision_id: str
    result_variable: str = ""
    shape: str = "resultList"
    # Without a result variable: write the outputs by name (SpiffWorkflow), or
    # nothing (Camunda 7: only the transient `decisionResult` exists).
    outputs_by_name: bool = True

    def result(
        self, task: Any, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the variables the task writes: the decision over `data` (the
        task's data when None)."""
        environment = task.workflow.script_engine.environment

        def evaluate(expression: str, context: dict[str, Any]) -> Any:
            return environment.evaluate(expression, context)

        result = decision_evaluate(
            self.decisions,
            self.decision_id,
            task.data if data is None else dict(data),
            evaluate,
        )
        if self.result_variable:
            return {
                self.result_variable: result_shape(self.decision_id, result, self.shape)
            }
        if not (result and self.outputs_by_name):
            return {}
        return _as_variables(self.decisions[self.decision_id], result)


class DecisionTask(BusinessRuleTask):
    """A business rule task that sets its variables (as Camunda) without deep merge.

    With camunda:inputOutput (`io_inputs` / `io_outputs`, (name, Python
    expression) in order), as Camunda 7's I/O mapping: the input parameters
    are mapped in order into the task's scope (a later one reads an earlier
    one), the decision reads that scope, the result variable is set there (a
    name that is an input parameter stays local, any other reaches the case),
    then the output parameters are evaluated in that scope and set on the case.
    """

    io_inputs: tuple[tuple[str, str], ...] = ()
    io_outputs: tuple[tuple[str, str], ...] = ()

    def _variables(self, my_task: Any) -> dict[str, Any]:
        if not (self.io_inputs or self.io_outputs):
            return dict(self.dmnEngine.result(my_task))
        local = inputs_in_order(my_task, self.io_inputs, my_task.data)
        produced = self.dmnEngine.result(my_task, {**my_task.data, **local})
        variables = {k: v for k, v in produced.items() if k not in local}
        local.update({k: v for k, v in produced.items() if k in local})
        for name, expression in self.io_outputs:
            scope = {**my_task.data, **variables, **local}
            variables[name] = parameter_evaluate(
                my_task, name, expression, scope, "output parameter"
            )
        return variables

    def _run_hook(self, my_task: Any) -> bool:
        try:
            my_task.data.update(self._variables(my_task))
        except SpiffWorkflowException as exc:
            exc.add_note(f"Business rule task '{self.bpmn_name or self.bpmn_id}'.")
            raise
        except Exception as exc:
            message = str(exc).rstrip(".")
            error = WorkflowTaskException(message, task=my_task, exception=exc)
            error.add_note(f"Business rule task '{self.bpmn_name or self.bpmn_id}'.")
            raise error from None
        return bool(super(BusinessRuleTaskMixin, self)._run_hook(my_task))


def task_problems(root: etree._Element) -> list[Problem]:
    """Return every business rule task whose Camunda result mapping is unknown."""
    problems = []
    for task in root.iterfind(".//bpmn:businessRuleTask", NSMAP):
        shape = vendor_attr(task, "mapDecisionResult")
        if shape and shape not in RESULT_SHAPES:
            problems.append(
                Problem(
                    f"Business rule task '{task.get('id')}': mapDecisionResult "
                    f"{shape!r} is not one of {', '.join(RESULT_SHAPES)}.",
                    task.sourceline,
                    task.get("id"),
                )
            )
        if vendor_attr(task, "decisionRef"):
            problems.extend(_decision_result_readers(task))
    return problems


_DECISION_RESULT = re.compile(r"\bdecisionResult\b")


def _decision_result_readers(task: etree._Element) -> Iterator[Problem]:
    """Refuse the parameters reading Camunda's transient `decisionResult`.

    Camunda 7 (DecisionEvaluationUtil.evaluateDecision) sets the decision
    result, a Java DmnDecisionResult, as the transient local variable
    `decisionResult` that output parameters may read; it does not exist here.
    """
    for kind in ("inputParameter", "outputParameter"):
        for param in vendor_children(task, IO_PARAMETERS + kind):
            if _DECISION_RESULT.search("".join(param.itertext())):
                yield Problem(
                    f"Business rule task '{task.get('id')}': the {kind} "
                    f"'{param.get('name')}' reads decisionResult, Camunda's "
                    "transient Java decision result, which does not exist here: "
                    "store the result with camunda:resultVariable and "
                    "camunda:mapDecisionResult and read that variable.",
                    param.sourceline,
                    task.get("id"),
                )


class DecisionTaskParser(BusinessRuleTaskParser):
    """Build `DecisionTask`s (SpiffWorkflow's parser hard-codes its own class)."""

    def create_task(self) -> DecisionTask:
        """Return the task spec, its engine bound to the task's result mapping."""
        extensions = self.parse_extensions()
        task = DecisionTask(
            self.spec,
            self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(
                self.get_decision_ref(self.node), self.node
            ),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )
        task.io_inputs = io_parameters(self.node, "inputParameter")
        task.io_outputs = io_parameters(self.node, "outputParameter")
        return task


class DecisionParserMixin:
    """Parser methods: Laneway's DMN reader instead of SpiffWorkflow's."""

    OVERRIDE_DECISIONS = {
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask)
    }

    def add_dmn_xml(self, node: etree._Element, filename: str | None = None) -> None:
        """Read the decisions of a DMN file (problems are reported at upload)."""
        found, _ = read_decisions(filename or "decisions.dmn", node)
        table: dict[str, Decision] = self.__dict__.setdefault("laneway_decisions", {})
        table.update((d.id, d) for d in found)

    def get_engine(self, decision_ref: str, node: etree._Element) -> DecisionCall:
        """Return the evaluation of `decision_ref` for the business rule task `node`."""
        decisions: dict[str, Decision] = self.__dict__.get("laneway_decisions", {})
        if decision_ref not in decisions:
            raise ValidationException(  # checks.py reports it, located
                f'No DMN Diagram available with id "{decision_ref}"', node=node
            )
        return DecisionCall(
            decisions,
            decision_ref,
            vendor_attr(node, "resultVariable"),
            vendor_attr(node, "mapDecisionResult") or "resultList",
            outputs_by_name=not vendor_attr(node, "decisionRef"),
        )
