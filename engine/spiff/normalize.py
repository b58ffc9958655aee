"""Rewrite a parsed diagram, in place, into the dialect SpiffWorkflow runs.

What analysts draw in Camunda Modeler (Camunda 7 / Operaton), bpmn.io or
SpiffArena becomes SpiffArena-flavoured BPMN with Python expressions:

- JUEL conditions, timers, multi-instance cardinality and completion conditions
  are translated to Python (`juel.py`); FEEL ones (Camunda 8 writes `=amount >
  1000`, or the FEEL language attribute) through the FEEL subset of DMN cells
  (`dmn_feel.py`); XPath, FEEL outside that subset and script languages other
  than Python are refused, naming the element and the expression.
- Unquoted ISO-8601 timer literals (`PT72H`, `R3/PT1H`, `2030-01-01T00:00:00Z`)
  are quoted, because SpiffWorkflow evaluates timer text as Python. In a
  diagram drawn for Camunda (`dialect.is_camunda_dialect`) any other timer
  text without `${...}` (`PT1X`, `tomorrow`, `amount*2`) is refused: Camunda 7
  reads it as a literal and fails; a SpiffArena diagram keeps its Python.
- Camunda/Operaton/Zeebe service-task implementations (external topic, class,
  delegate expression, expression, connector, Zeebe task type) become a
  `spiffworkflow:serviceTaskOperator` whose id is the operation name.
- `camunda:decisionRef` becomes `spiffworkflow:calledDecisionId`.
- A flow without condition out of an exclusive or inclusive gateway (not its
  default) gets the condition True, as Camunda 7 reads it; an exclusive gateway
  Camunda 7 refuses for them (one besides a default flow, or two) is refused.
- `camunda:collection` / `camunda:elementVariable` become `loopDataInputRef` /
  `inputDataItem`.
- A link throw event and its catch become none events joined by a sequence
  flow, as Camunda 7 runs them (`links.py`).
- In a Camunda-dialect diagram, data associations to data objects and data
  stores are dropped: Camunda 7 ignores them (`data_objects.py`).

Elements are changed in place, so `sourceline` still points at the uploaded
file: every problem reported later keeps the analyst's line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from .data_objects import camunda_data_associations_drop
from .dialect import is_camunda_dialect
from .dmn_feel import FeelError, feel_expression
from .execution_scope import own_scope_refusal
from .implicit_splits import conditional_activity_flows
from .juel import (
    CONDITION_CHECK,
    EngineScope,
    JuelError,
    is_juel,
    juel_to_python,
)
from .links import links_resolve
from .listener_scripts import (
    GROOVY,
    JAVASCRIPT,
    ListenerScriptError,
    translate_expression,
)
from .parameters import IO_ACTIVITIES, parameter_problem, parameter_value
from .timer_starts import is_cron
from .types import Problem
from .xml import BPMN, NSMAP, SPIFF, local_name, vendor_attr, vendor_children

ZEEBE = "http://camunda.org/schema/zeebe/1.0"
_ISO_DURATION = (
    r"P(?=\d|T)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?"
    r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?"
)
_ISO_DATE = (
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_ISO_LITERAL = re.compile(
    rf"^(?:{_ISO_DURATION}|{_ISO_DATE}|R\d*/(?:{_ISO_DURATION}|{_ISO_DATE})"
    rf"(?:/(?:{_ISO_DURATION}|{_ISO_DATE}))?)$"
)
_FOREIGN_LANGUAGES = (
    "feel",
    "xpath",
    "javascript",
    "groovy",
    "ecmascript",
    "js",
    "ruby",
)
_PYTHON_SCRIPTS = ("", "python", "text/x-python", "py")
# Expressions whose whole value must be a Boolean (juel.py, UelExpressionCondition).
_CONDITIONS = ("Condition", "Completion condition", "Loop condition")


def owner_of(element: etree._Element) -> etree._Element:
    """Return the flow element (sequence flow, task, event) an expression belongs to."""
    node: etree._Element | None = element.getparent()
    while node is not None and (
        not node.get("id")
        or local_name(node).endswith(
            ("EventDefinition", "Characteristics", "Expression")
        )
    ):
        node = node.getparent()
    return node if node is not None else element


def describe(element: etree._Element) -> str:
    """Describe an element for a message: kind, id and name."""
    name = (element.get("name") or "").strip()
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", local_name(element)).lower()
    ident = element.get("id") or "?"
    name = " ".join(name.split())
    return f"{kind} '{ident}'" + (f" ({name})" if name and name != ident else "")


def _problem(expr: etree._Element, what: str, text: str, why: str) -> Problem:
    owner = owner_of(expr)
    return Problem(
        f"{what} of {describe(owner)}: {text!r} {why}", expr.sourceline, owner.get("id")
    )


def _condition_of(expr: etree._Element, what: str) -> str:
    """Name a condition for its failure: "Condition of sequence flow 'Flow_1'".

    Kind and id only: the text goes into the translated expression, whose
    length the sandbox bounds.
    """
    owner = owner_of(expr)
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", local_name(owner)).lower()
    return f"{what} of {kind} '{owner.get('id') or '?'}'"


def _language(expr: etree._Element) -> str:
    return (expr.get("language") or "").strip().lower()


_TIMER_LITERAL_ONLY = (
    "is neither an ISO 8601 date, duration or cycle, nor a cron expression, nor "
    "an expression (${...}): Camunda 7 reads such timer text as a literal and "
    "fails the timer, so it is refused (in a diagram drawn for Camunda, timer "
    "text is not Python)"
)


def _translate(
    expr: etree._Element, what: str, *, timer: bool = False, camunda: bool = False
) -> Problem | None:
    """Rewrite one expression element's text to Python, or say why it cannot be."""
    text = (expr.text or "").strip()
    if not text:
        return None
    language = _language(expr)
    if text.startswith("=") or "feel" in language:
        try:
            expr.text = feel_expression(text[1:] if text.startswith("=") else text)
        except FeelError as exc:
            return _problem(
                expr,
                what,
                text,
                f"is FEEL outside the subset Laneway runs (the one of DMN cells): "
                f"{exc}; write it as simple FEEL, Python or JUEL (${{...}}).",
            )
        if "language" in expr.attrib:
            del expr.attrib["language"]
        return None
    foreign = any(name in language for name in _FOREIGN_LANGUAGES)
    if foreign or language in JAVASCRIPT | GROOVY:
        return _other_language(expr, what, text, language)
    if is_juel(text):
        return _juel(expr, what, text)
    if timer:
        return _timer_literal(expr, what, text, camunda=camunda)
    if camunda and what in _CONDITIONS and language not in _PYTHON_LANGUAGES:
        return _literal_condition(expr, what, text)
    return None


def _juel(expr: etree._Element, what: str, text: str) -> Problem | None:
    """Rewrite a JUEL expression element's text to Python."""
    try:
        expr.text = juel_to_python(
            text,
            condition=_condition_of(expr, what) if what in _CONDITIONS else "",
            checked=local_name(expr.getparent()) == "conditionalEventDefinition",
            scope=_flow_scope(expr.getparent()),
        )
    except JuelError as exc:
        return _problem(expr, what, text, f"cannot be translated from JUEL: {exc}.")
    if "language" in expr.attrib:
        del expr.attrib["language"]
    return None


def _flow_scope(owner: etree._Element) -> EngineScope | None:
    """A sequence flow's condition runs in its source's execution, which may
    be the process instance (execution_scope.py); None: the default scope."""
    if local_name(owner) != "sequenceFlow":
        return None
    return EngineScope(local=own_scope_refusal(owner))


# Languages Laneway runs a condition in as Python (Camunda 7 would hand such a
# condition to that script engine: a ScriptCondition).
_PYTHON_LANGUAGES = frozenset(
    {"python", "text/x-python", "py", "http://www.python.org/"}
)


def _literal_condition(expr: etree._Element, what: str, text: str) -> Problem:
    """A condition without ${...} in a diagram drawn for Camunda 7: Camunda 7
    reads it as literal text (ExpressionManager.createExpression: JUEL's
    composite of text alone), whose value is a String, so evaluating it fails
    (UelExpressionCondition: "condition expression returns non-Boolean";
    MultiInstanceActivityBehavior: "completionCondition ... does not evaluate
    to a boolean value"). Laneway would have run it as Python."""
    return _problem(
        expr,
        what,
        text,
        "has no ${...}: Camunda 7 reads it as literal text, not as an "
        "expression, and fails the step (condition expression returns "
        f"non-Boolean); write it as JUEL, ${{{text}}} (JUEL's true, false, "
        'null, &&, ||), or give it language="python" to run it as Python.',
    )


def _other_language(
    expr: etree._Element, what: str, text: str, language: str
) -> Problem | None:
    """An expression in a language other than JUEL, FEEL or Python: a Groovy or
    JavaScript condition runs within the listener scripts' subset; else refused."""
    if what == "Condition" and language in JAVASCRIPT | GROOVY:
        return _script_condition(expr, what, text, language)
    return _problem(
        expr,
        what,
        text,
        f"uses the expression language {language!r}, "
        "which Laneway does not run; write it in Python or JUEL (${...}).",
    )


def _script_condition(
    expr: etree._Element, what: str, text: str, language: str
) -> Problem | None:
    """Rewrite a Groovy or JavaScript condition as Python within the subset of
    listener scripts; its value must be a Boolean, as Camunda 7's ScriptCondition
    requires (checked by `_el_condition_`, which also marks a conditional
    event's condition: a variable it names that is unset makes it false, as
    ScriptCondition.tryEvaluate reads "No such property")."""
    try:
        python = translate_expression(text, language=language)
    except ListenerScriptError as exc:
        return _problem(
            expr,
            what,
            text,
            f"is a {language} condition outside the subset that runs here "
            f"({exc}); write it in JUEL (${{...}}) or Python.",
        )
    expr.text = f"{CONDITION_CHECK}({python}, {_condition_of(expr, what)!r})"
    del expr.attrib["language"]
    return None


def _timer_literal(
    expr: etree._Element, what: str, text: str, *, camunda: bool
) -> Problem | None:
    """Quote a timer's ISO 8601 or cron literal (SpiffWorkflow evaluates timer
    text as Python); in a diagram drawn for Camunda, refuse any other text."""
    if _ISO_LITERAL.match(text) or is_cron(text):
        expr.text = repr(text)  # a cron is scheduled by Laneway (timer_starts)
    elif camunda:
        return _problem(expr, what, text, _TIMER_LITERAL_ONLY)
    return None


def _expressions(root: etree._Element, *, camunda: bool) -> Iterator[Problem]:
    """Translate every expression; `camunda`: the diagram is drawn for Camunda
    (its timer text is a literal or JUEL, never Python)."""
    paths = (
        ("bpmn:sequenceFlow/bpmn:conditionExpression", "Condition", False),
        ("bpmn:conditionalEventDefinition/bpmn:condition", "Condition", False),
        ("bpmn:timerEventDefinition/bpmn:timeDuration", "Timer", True),
        ("bpmn:timerEventDefinition/bpmn:timeDate", "Timer", True),
        ("bpmn:timerEventDefinition/bpmn:timeCycle", "Timer", True),
        (
            "bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality",
            "Loop cardinality",
            False,
        ),
        (
            "bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition",
            "Completion condition",
            False,
        ),
        (
            "bpmn:standardLoopCharacteristics/bpmn:loopCondition",
            "Loop condition",
            False,
        ),
    )
    for path, what, timer in paths:
        for expr in root.iterfind(f".//{path}", NSMAP):
            problem = _translate(expr, what, timer=timer, camunda=camunda)
            if problem:
                yield problem


_PYTHON_RESULT = (
    "camunda:resultVariable on a Python script task is refused: Camunda 7 "
    "stores what its script engine returns for the script, which for a Python "
    "(Jython) script is not the value of its last line; assign the variable in "
    "the script instead"
)


def _juel_script(task: etree._Element) -> Problem | None:
    """A JUEL script task (scriptFormat juel): Camunda 7 evaluates the script as
    one EL expression and, with camunda:resultVariable, sets its value on that
    variable (User Guide, BPMN 2.0, Script Task, "Variables in Scripts" /
    "Script Results"); rewritten as the Python script doing the same."""
    script = task.find("bpmn:script", NSMAP)
    text = (script.text or "").strip() if script is not None else ""
    if script is None or not text:
        return None  # refused as a script task without a script (support.py)
    try:
        value = juel_to_python(text)
    except JuelError as exc:
        return _problem(
            script,
            "JUEL script",
            text,
            f"cannot be translated: {exc}. Camunda 7 evaluates a JUEL script as "
            "one expression; Laneway runs that expression within its JUEL subset.",
        )
    result = _unwrap(vendor_attr(task, "resultVariable"))
    if result and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", result):
        return Problem(
            f"camunda:resultVariable of {describe(task)}: {result!r} must name "
            "one variable.",
            task.sourceline,
            task.get("id"),
        )
    script.text = f"{result} = {value}" if result else value
    task.set("scriptFormat", "python")
    return None


def _scripts(root: etree._Element) -> Iterator[Problem]:
    for task in root.iterfind(".//bpmn:scriptTask", NSMAP):
        fmt = (task.get("scriptFormat") or "").strip().lower()
        if fmt == "juel" and not vendor_attr(task, "resource"):
            problem = _juel_script(task)
            if problem is not None:
                yield problem
            continue
        if fmt in _PYTHON_SCRIPTS and vendor_attr(task, "resultVariable"):
            yield Problem(
                f"The {describe(task)} is refused: {_PYTHON_RESULT}.",
                task.sourceline,
                task.get("id"),
            )
        if fmt not in _PYTHON_SCRIPTS:
            yield Problem(
                f"Script of {describe(task)} is written in {fmt!r}; Laneway runs "
                "Python scripts only: rewrite it in Python.",
                task.sourceline,
                task.get("id"),
            )
        elif vendor_attr(task, "resource"):
            yield Problem(
                f"Script of {describe(task)} is an external resource; paste the Python "
                "script into the diagram instead.",
                task.sourceline,
                task.get("id"),
            )


def _extension_elements(task: etree._Element) -> etree._Element:
    ext = task.find("bpmn:extensionElements", NSMAP)
    if ext is None:
        ext = etree.Element(f"{{{BPMN}}}extensionElements")
        documentation = task.findall("bpmn:documentation", NSMAP)
        task.insert(len(documentation), ext)
    return ext


def _unwrap(text: str) -> str:
    match = re.match(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", text, re.DOTALL)
    return match.group(1) if match else text.strip()


def _vendor_implementation(task: etree._Element) -> tuple[str, str]:
    """Return (kind, operation name) of a Camunda/Operaton/Zeebe implementation."""
    for attr in ("topic", "class", "delegateExpression", "expression"):
        value = vendor_attr(task, attr)
        if value:
            return attr, _unwrap(value)
    for connector in vendor_children(
        task, "bpmn:extensionElements/x:connector/x:connectorId"
    ):
        if (connector.text or "").strip():
            return "connector", connector.text.strip()
    for definition in task.iterfind(
        f"bpmn:extensionElements/{{{ZEEBE}}}taskDefinition", NSMAP
    ):
        if definition.get("type"):
            return "zeebe", _unwrap(definition.get("type", ""))
    return "", ""


def _vendor_operation(task: etree._Element) -> str:
    return _vendor_implementation(task)[1]


# What an outside worker can serve by name: Camunda's external topic, a Java class
# or delegate expression (no Python operation stands for it), a Zeebe job type.
# An expression (`${bean.method()}`) or a connector names no unit of work to fetch.
_EXTERNAL_KINDS = ("topic", "class", "delegateExpression", "zeebe")


def external_topic(task: etree._Element) -> str:
    """Return the topic an external worker may fetch the task under ('' if none).

    With no Python operation registered under that name, the task deploys as an
    external task (Camunda 7's external-task pattern) instead of being refused.
    """
    kind, name = _vendor_implementation(task)
    return name if kind in _EXTERNAL_KINDS else ""


def _mapped(
    task: etree._Element, params: list[etree._Element], what: str
) -> Iterator[tuple[str, str] | Problem]:
    """Yield (name, Python expression) per parameter, or the problem with it."""
    for param in params:
        name = param.get("name", "")
        try:
            value = parameter_value(param)
        except JuelError as exc:
            yield _problem(
                param,
                f"{what} '{name}'",
                (param.text or "").strip(),
                f"cannot be translated from JUEL: {exc}.",
            )
            continue
        if value is None:
            yield Problem(
                f"{what} '{name}' of {describe(task)} {parameter_problem(param)}.",
                param.sourceline,
                task.get("id"),
            )
            continue
        yield name, value


_IO = "bpmn:extensionElements/x:inputOutput/x:"
_CONNECTOR_IO = "bpmn:extensionElements/x:connector/x:inputOutput/x:"


def _operator_parameters(
    task: etree._Element, operator: etree._Element
) -> Iterator[Problem]:
    """Input parameters become the operation's parameters; output parameters map
    its result (`spiffworkflow:outputParameter`, read by service_tasks.py)."""
    inputs = vendor_children(task, _IO + "inputParameter") + vendor_children(
        task,
        _CONNECTOR_IO + "inputParameter",  # http-connector, mail-send
    )
    outputs = vendor_children(task, _CONNECTOR_IO + "outputParameter")
    outputs += vendor_children(task, _IO + "outputParameter")
    holder = None
    for item in _mapped(task, inputs, "Input parameter"):
        if isinstance(item, Problem):
            yield item
            continue
        if holder is None:
            holder = etree.SubElement(operator, f"{{{SPIFF}}}parameters")
        etree.SubElement(
            holder, f"{{{SPIFF}}}parameter", id=item[0], type="any", value=item[1]
        )
    # Camunda 7: a connector's response reaches the case only through its output
    # parameters; otherwise the result is merged (but for the input parameters,
    # local to the task's scope) and the output parameters map after it
    # (service_tasks.service_variables; it reads an "outputs" stored without a
    # connector as "merge").
    if vendor_children(task, "bpmn:extensionElements/x:connector"):
        operator.set("resultMapping", "outputs")
    elif not operator.get("resultVariable"):
        operator.set("resultMapping", "merge")
    for item in _mapped(task, outputs, "Output parameter"):
        if isinstance(item, Problem):
            yield item
            continue
        etree.SubElement(
            operator, f"{{{SPIFF}}}outputParameter", id=item[0], value=item[1]
        )


def _service_like(root: etree._Element) -> Iterator[etree._Element]:
    """Yield the tasks that call an operation: service tasks, and send and
    business rule tasks with a Camunda/Operaton implementation (Camunda runs
    these exactly like a service task)."""
    for task in root.iter(f"{{{BPMN}}}serviceTask", f"{{{BPMN}}}sendTask"):
        if local_name(task) == "serviceTask" or _vendor_operation(task):
            yield task
    for task in root.iterfind(".//bpmn:businessRuleTask", NSMAP):
        if _vendor_operation(task) and not vendor_attr(task, "decisionRef"):
            yield task


def _service_tasks(root: etree._Element) -> Iterator[Problem]:
    for task in _service_like(root):
        existing = task.find(
            "bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NSMAP
        )
        if existing is not None:
            continue
        name = _vendor_operation(task)
        if not name:
            yield Problem(
                f"The {describe(task)} names no operation (Camunda 7 refuses it "
                "too): set the external topic, or add a "
                "spiffworkflow:serviceTaskOperator.",
                task.sourceline,
                task.get("id"),
            )
            continue
        operator = etree.SubElement(
            _extension_elements(task), f"{{{SPIFF}}}serviceTaskOperator", id=name
        )
        result = vendor_attr(task, "resultVariable")
        if result:
            operator.set("resultVariable", _unwrap(result))
        yield from _operator_parameters(task, operator)


def _untranslatable(task: etree._Element) -> Iterator[Problem]:
    for kind in ("inputParameter", "outputParameter"):
        what = "Input parameter" if kind == "inputParameter" else "Output parameter"
        params = vendor_children(task, _IO + kind)
        yield from (i for i in _mapped(task, params, what) if isinstance(i, Problem))


def _decision_parameters(root: etree._Element) -> Iterator[Problem]:
    """The camunda:inputOutput parameters that cannot be translated of a decision
    task (read by dmn.DecisionTaskParser) and of the user tasks, script tasks and
    sub-processes io_mapping.py maps."""
    for task in root.iterfind(".//bpmn:businessRuleTask", NSMAP):
        if vendor_attr(task, "decisionRef"):
            yield from _untranslatable(task)
    for task in root.iter(*(f"{{{BPMN}}}{kind}" for kind in IO_ACTIVITIES)):
        yield from _untranslatable(task)


def _decisions(root: etree._Element) -> None:
    for task in root.iterfind(".//bpmn:businessRuleTask", NSMAP):
        ref = vendor_attr(task, "decisionRef")
        spiff = task.find(
            "bpmn:extensionElements/spiffworkflow:calledDecisionId", NSMAP
        )
        if ref and spiff is None:
            called = etree.SubElement(
                _extension_elements(task), f"{{{SPIFF}}}calledDecisionId"
            )
            called.text = _unwrap(ref)


def _multi_instance(root: etree._Element) -> Iterator[Problem]:
    for loop in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics", NSMAP):
        collection = vendor_attr(loop, "collection")
        if not collection or loop.find("bpmn:loopDataInputRef", NSMAP) is not None:
            continue
        name = _unwrap(collection)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            yield Problem(
                f"Multi-instance collection {collection!r} of "
                f"{describe(owner_of(loop))} must name one variable holding a list.",
                loop.sourceline,
                owner_of(loop).get("id"),
            )
            continue
        ref = etree.Element(f"{{{BPMN}}}loopDataInputRef")
        ref.text = name
        cardinality = loop.find("bpmn:loopCardinality", NSMAP)
        loop.insert(0 if cardinality is None else 1, ref)
        item = vendor_attr(loop, "elementVariable")
        if item and loop.find("bpmn:inputDataItem", NSMAP) is None:
            data_item = etree.Element(f"{{{BPMN}}}inputDataItem", id=item, name=item)
            ref.addnext(data_item)


def _unconditioned_flows(root: etree._Element) -> list[Problem]:
    """Give a flow without condition out of an exclusive or inclusive gateway the
    condition True: Camunda 7 takes it (in model order for an exclusive gateway),
    where SpiffWorkflow refuses the diagram.

    Return the exclusive gateways Camunda 7 refuses at deploy
    (BpmnParse.validateExclusiveGateway): with a default flow, every other flow
    needs a condition; without one, at most one flow may lack it (Camunda 7
    warns, and takes it when it reaches it in document order, as the
    ExclusiveGatewayActivityBehavior does: so does Laneway).
    """
    problems: list[Problem] = []
    for gateway in root.xpath(
        ".//bpmn:exclusiveGateway | .//bpmn:inclusiveGateway", namespaces=NSMAP
    ):
        ident = gateway.get("id")
        flows = [
            f
            for f in gateway.getparent().iterfind("bpmn:sequenceFlow", NSMAP)
            if f.get("sourceRef") == ident
        ]
        if len(flows) < 2:
            continue
        plain = [
            flow
            for flow in flows
            if flow.get("id") != gateway.get("default")
            and flow.find("bpmn:conditionExpression", NSMAP) is None
        ]
        if local_name(gateway) == "exclusiveGateway":
            problems.extend(_exclusive_plain_flows(gateway, plain))
        for flow in plain:
            condition = etree.SubElement(flow, f"{{{BPMN}}}conditionExpression")
            condition.text = "True"
            condition.set("language", "python")  # Laneway's, not the diagram's
            if flow.sourceline:
                condition.sourceline = flow.sourceline
    return problems


def _exclusive_plain_flows(
    gateway: etree._Element, plain: list[etree._Element]
) -> list[Problem]:
    if not plain or (len(plain) == 1 and not gateway.get("default")):
        return []
    names = ", ".join(f"'{flow.get('id')}'" for flow in plain)
    why = (
        "besides its default flow"
        if gateway.get("default")
        else "and no default flow, so which one it takes is not defined"
    )
    return [
        Problem(
            f"The exclusive gateway '{gateway.get('name') or gateway.get('id')}' "
            f"has outgoing flows without a condition ({names}) {why} (Camunda 7 "
            "refuses it too: 'has outgoing sequence flow without condition which "
            "is not the default flow'). Give each of them a condition, or make "
            "the one meant for 'otherwise' the default flow.",
            gateway.sourceline,
            gateway.get("id"),
        )
    ]


def normalize(root: etree._Element) -> list[Problem]:
    """Rewrite `root` in place to Python/Spiff dialect and return what could not be."""
    camunda = is_camunda_dialect(root)  # before anything is rewritten
    conditional_activity_flows(root)  # before: its gateway takes plain flows too
    problems = _unconditioned_flows(root)
    camunda_data_associations_drop(root)
    problems.extend(links_resolve(root))
    problems.extend(_expressions(root, camunda=camunda))
    problems.extend(_scripts(root))
    problems.extend(_service_tasks(root))
    problems.extend(_decision_parameters(root))
    _decisions(root)
    problems.extend(_multi_instance(root))
    return problems


def serialize(root: etree._Element) -> bytes:
    """Return the (normalized) document as UTF-8 bytes with an XML declaration."""
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
