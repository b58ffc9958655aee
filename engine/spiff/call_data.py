"""Which variables cross a call activity: Camunda's `camunda:in` / `camunda:out`.

SpiffWorkflow copies every variable of the caller into the called process and,
when the called process ends, replaces the caller's variables with all of the
callee's, so a variable set only inside the callee leaked into the caller.
Here, as in Camunda 7:

* `<camunda:in source="a" target="b"/>`, `sourceExpression="${...}"` or
  `variables="all"` choose what goes in, each in its order (`variables="all"`
  with single mappings: all of them, and the single ones too). Without any
  of them (a `camunda:in businessKey` passes no variable) nothing goes in, in
  a Camunda-dialect diagram (dialect.py): Camunda 7 starts the called
  instance with exactly the variables its inputs map
  (CallableElement.getInputVariables, empty without inputs). In a SpiffArena
  or plain BPMN diagram every variable goes in (SpiffWorkflow's reading, also
  when the called process declares data inputs, then only those).
* `<camunda:out .../>` chooses what comes back. Without any `camunda:out`
  nothing comes back in a Camunda-dialect diagram (Camunda 7), unless the
  called process declares data outputs (`ioSpecification`), which come back as
  SpiffWorkflow defines. In a SpiffArena or plain BPMN diagram the called
  process's variables come back, as SpiffArena runs it (SpiffWorkflow's
  CallActivity.update_data; only its data outputs when it declares them): set
  over the caller's, not replacing them as SpiffWorkflow does, so a variable a
  parallel branch set meanwhile stays (its join merges the branches' copies).

A source variable that does not exist maps to None (Camunda maps it to null).

`<camunda:in businessKey="..."/>` gives the called instance its business key,
which message correlation by business key reads (Camunda 7's called
instance has none without it): `#{execution.processBusinessKey}` passes the
caller's, another expression is evaluated when the call starts and kept with
the called run (`BUSINESS_KEY`), a plain text is that text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.task_spec import CallActivityParser
from SpiffWorkflow.spiff.specs.defaults import CallActivity

from .dialect import is_camunda_dialect
from .juel import JuelError, composite_expression, is_juel, juel_to_python
from .variables import OUT_LOCALS
from .xml import VENDOR_NAMESPACES, local_name, vendor_attr

# The called run's business key when its call activity computes one: in the
# internal data of the run's root task (kept by the prune, like its variables).
BUSINESS_KEY = "laneway_business_key"
# MappedCallActivity.business_key: the called run has the caller's business key.
INHERIT = "inherit"
_CALLERS_KEY = "_el_get_(execution, 'processBusinessKey')"


def business_key_rule(element: etree._Element) -> tuple[str, str] | None:
    """Return how a `camunda:in businessKey` sets the called instance's key.

    ("inherit", ""): the caller's (`#{execution.processBusinessKey}`);
    ("expression", python): evaluated when the call starts; ("text", text).

    Raises:
        JuelError: an expression that cannot be translated, or that reads
            the caller's business key in any other way (refused at upload).
    """
    text = (element.get("businessKey") or "").strip()
    if not is_juel(text):
        return ("text", text)
    if re.fullmatch(r"[#$]\{\s*execution\s*\.\s*processBusinessKey\s*\}", text):
        return (INHERIT, "")  # before translating: JUEL refuses `execution`
    python = juel_to_python(text)
    if python == _CALLERS_KEY:
        return (INHERIT, "")
    if "processBusinessKey" in text or re.search(r"\bexecution\b", python):
        raise JuelError(
            "only #{execution.processBusinessKey} or an expression over "
            "variables is supported"
        )
    return ("expression", python)


@dataclass(frozen=True, slots=True)
class VariableMapping:
    """One `camunda:in` or `camunda:out` element."""

    target: str = ""
    source: str = ""
    expression: str = ""  # Python (translated from JUEL)
    every: bool = False  # variables="all"
    local: bool = False  # local="true" (only with camunda:inputOutput: support.py)


def _mapping(element: etree._Element) -> VariableMapping:
    local = (element.get("local") or "").strip() == "true"
    if (element.get("variables") or "").strip() == "all":
        return VariableMapping(every=True, local=local)
    expression = (element.get("sourceExpression") or "").strip()
    if expression:
        # Text without ${...} is a literal expression in Camunda 7 (its value
        # is the text: CallActivityTest.testInputParameterLiteralSourceExpression),
        # never a Python expression reading a variable of that name; text
        # around ${...} is a composite one (a String).
        try:
            expression = composite_expression(expression) or repr(expression)
        except JuelError:
            expression = ""  # refused at upload (support.py)
    return VariableMapping(
        target=(element.get("target") or "").strip(),
        source=(element.get("source") or "").strip(),
        expression=expression,
        local=local,
    )


def mappings(call: etree._Element, direction: str) -> tuple[VariableMapping, ...]:
    """Return the call activity's `camunda:in` (or `out`) mappings, in order."""
    return tuple(
        _mapping(element)
        for element in _vendor_elements(call, direction)
        if element.get("businessKey") is None
    )


def _vendor_elements(call: etree._Element, name: str) -> Iterator[etree._Element]:
    """Yield the call activity's `camunda:<name>` extension elements, in order."""
    for ext in call:
        if not isinstance(ext.tag, str) or local_name(ext) != "extensionElements":
            continue
        for element in ext:
            if (
                isinstance(element.tag, str)
                and etree.QName(element).namespace in VENDOR_NAMESPACES
                and local_name(element) == name
            ):
                yield element


def own_variables(task: Any) -> dict:
    """The variables of the call activity's own scope: its input parameters."""
    names = {name for name, _ in getattr(task.task_spec, "scope_inputs", ())}
    return {name: task.data[name] for name in names if name in task.data}


def mapped_variables(task: Any, data: dict, rules: tuple[VariableMapping, ...]) -> dict:
    """Return the variables the rules take from `data` (task evaluates expressions)."""
    result: dict = {}
    for rule in rules:
        if rule.every:
            result.update(deepcopy(data))
        elif rule.expression:
            value = task.workflow.script_engine.evaluate(task, rule.expression)
            result[rule.target] = deepcopy(value)
        elif rule.target:
            result[rule.target] = deepcopy(data.get(rule.source))
    return result


def _business_key_of(call: etree._Element) -> tuple[str, str] | None:
    for element in _vendor_elements(call, "in"):
        if element.get("businessKey") is not None:
            try:
                return business_key_rule(element)
            except JuelError:
                return (INHERIT, "")  # refused at upload (support.py)
    return None


class MappedCallActivity(CallActivity):
    """A call activity that passes variables as its `camunda:in` / `out` say."""

    ins: tuple[VariableMapping, ...] = ()
    outs: tuple[VariableMapping, ...] = ()
    # calledElementBinding="version": the number it calls (None: the latest
    # deployed version when the call starts, called.py).
    called_version: int | None = None
    # calledElementBinding="versionTag": the camunda:versionTag of the version
    # it calls (calledElementVersionTag).
    called_version_tag: str | None = None
    # calledElement="${...}": the key, a Python expression (translated from
    # JUEL) evaluated when the call activity is reached (called.py).
    called_expression: str = ""
    # Without camunda:in: every variable goes in (SpiffArena and plain BPMN
    # diagrams) or none (Camunda-dialect diagrams, as in Camunda 7).
    passes_all: bool = True
    # Without camunda:out: every variable of the called process comes back
    # (SpiffArena and plain BPMN diagrams) or none (Camunda-dialect diagrams).
    returns_all: bool = False
    # camunda:in businessKey (business_key_rule); None: the called instance has
    # no business key (Camunda 7). SpiffArena and plain BPMN diagrams have no
    # business keys of their own: the called run keeps the case's.
    business_key: tuple[str, str] | None = (INHERIT, "")

    def _business_key_keep(self, my_task: Any, subworkflow: Any) -> None:
        rule = self.business_key
        if rule is None or rule[0] == INHERIT:
            return
        kind, text = rule
        value = (
            my_task.workflow.script_engine.evaluate(my_task, text)
            if kind == "expression"
            else text
        )
        subworkflow.task_tree.internal_data[BUSINESS_KEY] = (
            None if value is None else str(value)
        )

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        self._business_key_keep(my_task, subworkflow)
        if not self.ins and self.passes_all:
            return super().copy_data(my_task, subworkflow)
        start = subworkflow.get_next_task(
            subworkflow.task_tree, skip_subprocesses=True, spec_name="Start"
        )
        values: dict = {}
        for rule in self.ins:
            # local="true": the call activity's own variables, which with
            # camunda:inputOutput are exactly its input parameters.
            data = own_variables(my_task) if rule.local else my_task.data
            values.update(mapped_variables(my_task, data, (rule,)))
        start.set_data(**values)

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        io_spec = subworkflow.spec.io_specification
        if not self.outs:
            if io_spec is not None and io_spec.data_outputs:
                super().update_data(my_task, subworkflow)
            elif self.returns_all:
                # SpiffWorkflow replaces the caller's data with the callee's;
                # merged here, so a variable a parallel branch set while the
                # callee ran stays (one set of variables: variables.py).
                my_task.data.update(deepcopy(subworkflow.last_task.data))
            return  # else nothing set in the callee comes back
        last = subworkflow.last_task
        shared = tuple(rule for rule in self.outs if not rule.local)
        own = tuple(rule for rule in self.outs if rule.local)
        # Camunda 7 (CallActivityBehavior.passOutputVariables) sets the
        # mappings without local="true", then the local ones on the call
        # activity's own scope: gone with it unless an output parameter maps
        # them (io_mapping.on_complete).
        my_task.data.update(mapped_variables(last, last.data, shared))
        if own:
            values = mapped_variables(last, last.data, own)
            my_task.data.update(values)
            names = set(my_task.internal_data.get(OUT_LOCALS, ())) | set(values)
            my_task.internal_data[OUT_LOCALS] = sorted(names)


class MappedCallActivityParser(CallActivityParser):
    """Read `camunda:in` / `camunda:out` onto a MappedCallActivity."""

    def create_task(self) -> Any:
        task = super().create_task()
        task.ins = mappings(self.node, "in")
        task.outs = mappings(self.node, "out")
        # A version stored before the dialect mark passed every variable: its
        # cases go on so (dialect.py).
        task.passes_all = not is_camunda_dialect(self.node, unmarked=False)
        # ... and brought nothing back without camunda:out.
        task.returns_all = not is_camunda_dialect(self.node, unmarked=True)
        if not task.passes_all:
            task.business_key = _business_key_of(self.node)
        binding = vendor_attr(self.node, "calledElementBinding")
        if binding == "version":
            number = vendor_attr(self.node, "calledElementVersion")
            task.called_version = int(number) if number.isdigit() else None
        elif binding == "versionTag":
            task.called_version_tag = vendor_attr(self.node, "calledElementVersionTag")
        called = (self.node.get("calledElement") or "").strip()
        if is_juel(called):
            try:
                task.called_expression = juel_to_python(called)
            except JuelError:
                pass  # refused at upload (ref_checks.py)
        return task
