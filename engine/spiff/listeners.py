"""Camunda listeners that set variables, run as SpiffWorkflow scripts.

A listener runs here when its body is `${execution.setVariable('x', v)}` or
`${task.setVariable('x', v)}` (the value translated by the JUEL subset, juel.py)
or a Python `camunda:script` (scriptFormat python, inline) that assigns
variables by name, as SpiffArena scripts do, or an inline JavaScript or Groovy
`camunda:script` within the small subset that `listener_scripts` parses and
translates to Python (setVariable, getVariable, getAssignee, if; setAssignee in a
create listener becomes the task's assignee):

* on a task, an executionListener (event start or end) or a taskListener (event
  create, assignment or complete) becomes lines of its `spiffworkflow:preScript`
  (start, create) or `spiffworkflow:postScript` (end, complete), in the order
  drawn; an assignment listener's lines become its `spiffworkflow:assignmentScript`,
  which the engine runs whenever the assignee is set (claim, assign, delegate,
  unclaim: runtime.workflow_assign), and, when the task is created with an
  assignee, the end of its pre-script (after the create lines, as in Camunda 7;
  the assignee must then be a name or `${variable}`);
* on a sequence flow, an executionListener (event take) becomes a script task
  drawn on the flow (source -> flow -> script -> new flow -> target): the flow
  keeps its id and condition, so gateways and their default flow are unchanged;
* on a none start event (any event) or an intermediate event (end), it becomes a
  script task right after the event; on an intermediate event or a none end
  event (event start, or end on a none end event), a script task right before it;
* on an exclusive, parallel or inclusive gateway (event start or end) or on the
  process (event start), script tasks where Camunda 7 fires them
  (`listener_places`).

Any other listener (a Java class, a delegate expression, a script in another
language, another event, a place where the order could not be kept, a value
outside the subset) is left in place, and `checks._listeners` refuses it, located.
Inserted elements carry the listener's source line, so later problems keep the
analyst's line numbers.
"""

from __future__ import annotations

import ast
import re

from lxml import etree

from .execution_scope import own_scope_refusal
from .juel import EngineScope, JuelError, juel_to_python, local_refusal
from .listener_places import (
    after,
    before,
    on_flow,
    on_gateway,
    on_process,
    stored_names,
)
from .listener_scripts import (
    GROOVY,
    JAVASCRIPT,
    ListenerScriptError,
    Translated,
    assignee_name,
    translate_script,
)
from .xml import (
    BPMN,
    CAMUNDA,
    NSMAP,
    SPIFF,
    local_name,
    vendor_attr,
    vendor_children,
)

_SET_VARIABLE = re.compile(
    r"""^\s*[$#]\{\s*(?P<object>execution|task)\s*\.\s*(?P<method>setVariable(?:Local)?)\s*\(\s*
        (?P<quote>['"])(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)\s*,
        (?P<value>.*)\)\s*\}\s*$""",
    re.VERBOSE | re.DOTALL,
)
# AbstractVariableScope.removeVariable of one name (removed_variable).
_REMOVE_VARIABLE = re.compile(
    r"""^\s*[$#]\{\s*(?P<object>execution|task)\s*\.\s*removeVariable\s*\(\s*
        (?P<quote>['"])(?P<name>[A-Za-z][A-Za-z0-9_]*)(?P=quote)\s*\)\s*\}\s*$""",
    re.VERBOSE | re.DOTALL,
)
# TaskEntity.setAssignee of a text, in a create task listener (expression_assignee).
_SET_ASSIGNEE = re.compile(
    r"""^\s*[$#]\{\s*task\s*\.\s*setAssignee\s*\(\s*
        (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\)\s*\}\s*$""",
    re.VERBOSE | re.DOTALL,
)
_SCRIPT_FOR = {
    ("executionListener", "start"): "preScript",
    ("executionListener", "end"): "postScript",
    ("taskListener", "create"): "preScript",
    ("taskListener", "assignment"): "assignmentScript",
    ("taskListener", "complete"): "postScript",
    ("taskListener", "delete"): "deleteScript",
}
_FOREIGN = JAVASCRIPT | GROOVY
# The order Camunda 7 runs a task's listeners in (Delegation Code, "Task Listener
# Event Lifecycle": the task listener cycle lies between execution start and end).
_PHASE = {
    ("executionListener", "start"): 0,
    ("taskListener", "create"): 1,
    ("taskListener", "assignment"): 2,
    ("taskListener", "complete"): 3,
    ("taskListener", "delete"): 3,
    ("executionListener", "end"): 4,
}
_ASSIGNEE_VARIABLE = re.compile(r"^[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
# Elements SpiffWorkflow runs pre/post scripts on (its SpiffBpmnTask specs).
_SCRIPTED = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
    }
)
_PYTHON = frozenset({"python", "text/x-python", "py"})
_GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway"})
_LAST = _GATEWAYS | {"process"}
_EVENT_ORDER = {"start": 0, "take": 1, "end": 2}
# Camunda's objects, which a Python listener here does not get.
_CAMUNDA_OBJECTS = frozenset({"execution", "task", "connector"})


def _python_script(listener: etree._Element) -> str | None:
    """Return the body of an inline Python `camunda:script` child, else None."""
    children = [c for c in listener if isinstance(c.tag, str)]
    if len(children) != 1 or local_name(children[0]) != "script":
        return None
    script = children[0]
    fmt = (script.get("scriptFormat") or "").strip().lower()
    body = (script.text or "").strip()
    if fmt not in _PYTHON or script.get("resource") or not body:
        return None
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return body  # compiled, and refused located, with the script it becomes
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return None if names & _CAMUNDA_OBJECTS else body


def _static_assignee(owner: etree._Element) -> str:
    performer = owner.find(
        "bpmn:humanPerformer/bpmn:resourceAssignmentExpression/bpmn:formalExpression",
        NSMAP,
    )
    text = (performer.text or "").strip() if performer is not None else ""
    return vendor_attr(owner, "assignee") or text


def foreign_script(
    listener: etree._Element, owner: etree._Element, prefix: str = "listener_"
) -> Translated | None:
    """Translate an inline JavaScript/Groovy listener script (`listener_scripts`).

    None when the listener is no such script.

    Raises:
        ListenerScriptError: the script is outside the subset (names what).
    """
    children = [c for c in listener if isinstance(c.tag, str)]
    if len(children) != 1 or local_name(children[0]) != "script":
        return None
    script = children[0]
    fmt = (script.get("scriptFormat") or "").strip().lower()
    if fmt not in _FOREIGN or listener.get("expression") or listener.get("class"):
        return None
    if script.get("resource"):
        raise ListenerScriptError("a script in an external resource (paste it inline)")
    event = _event(listener, owner)
    if event == "assignment" and creation_assignee(owner, prefix) is None:
        raise ListenerScriptError(
            "an assignment listener on a task whose assignee is an expression "
            "other than a variable (${name}) or a name"
        )
    return translate_script(
        script.text or "",
        language=fmt,
        event=event,
        task_listener=local_name(listener) == "taskListener",
        static_assignee=_static_assignee(owner),
        temp_prefix=prefix,
    )


def _translated(
    listener: etree._Element, owner: etree._Element, prefix: str
) -> Translated | None:
    try:
        return foreign_script(listener, owner, prefix)
    except ListenerScriptError:
        return None


def _body(
    listener: etree._Element, owner: etree._Element, prefix: str = "listener_"
) -> str | None:
    """Return the Python a listener runs, or None when it cannot run here."""
    foreign = _translated(listener, owner, prefix)
    if foreign is not None:
        return foreign.python
    if any(isinstance(c.tag, str) for c in listener):
        if listener.get("expression") or listener.get("class"):
            return None
        return _python_script(listener)
    if expression_assignee(listener) is not None:
        return "" if expression_refusal(listener) is None else None
    removed = _REMOVE_VARIABLE.match(listener.get("expression") or "")
    if removed is not None:
        if expression_refusal(listener) is not None:
            return None
        name = removed.group("name")
        return f"try:\n    del {name}\nexcept NameError:\n    pass"
    match = _SET_VARIABLE.match(listener.get("expression") or "")
    if match is None or expression_refusal(listener) is not None:
        return None
    try:
        value = _value(listener, match.group("value"), prefix)
    except JuelError:
        return None
    return f"{match.group('name')} = {value}"


def _value(listener: etree._Element, text: str, prefix: str = "listener_") -> str:
    """The Python of the value a listener's setVariable sets: JUEL with
    Camunda 7's engine objects as the listener sees them (its event; the task
    in a task listener; the element itself only where it runs on it)."""
    owner = listener.getparent().getparent()
    task_listener = local_name(listener) == "taskListener"
    event = _event(listener, owner)
    scope = EngineScope(
        task=task_listener,
        event=event,
        activity=local_name(owner) in _SCRIPTED,
        assignee=_assignee(owner, event, prefix) if task_listener else None,
        local=own_scope_refusal(owner),
    )
    return juel_to_python("${" + text.strip() + "}", scope=scope)


def _assignee(owner: etree._Element, event: str, prefix: str) -> str | None:
    """Python for `task.assignee` in a task listener of `event`, as
    `listener_scripts` reads task.getAssignee(): the new assignee in an
    assignment listener, the person completing in a complete listener, the
    assignee as drawn (a name, or none) in a create listener; None when it
    cannot be told (an expression)."""
    if event == "assignment":
        return assignee_name(prefix)
    if event == "complete":
        return "get_current_user()['username']"
    if event == "delete":
        return None  # whoever has it when it is cancelled
    static = _static_assignee(owner)
    if not static:
        return "None"
    if "{" in static or static == "initiator":
        return None
    return repr(static)


def task_listener_ignored(listener: etree._Element, owner: etree._Element) -> bool:
    """Whether Camunda 7 ignores the listener: a task listener anywhere but on a
    user task (BpmnParse reads camunda:taskListener on user tasks only)."""
    return local_name(listener) == "taskListener" and local_name(owner) != "userTask"


def expression_assignee(listener: etree._Element) -> str | None:
    """The assignee `${task.setAssignee('name')}` gives, or None when the
    listener's expression is no such call."""
    match = _SET_ASSIGNEE.match(listener.get("expression") or "")
    if match is None or any(isinstance(c.tag, str) for c in listener):
        return None
    try:
        python = juel_to_python("${" + match.group("value") + "}")
    except JuelError:
        return None
    value = ast.literal_eval(python)
    return value if isinstance(value, str) else None


def _assignee_refusal(listener: etree._Element, owner: etree._Element) -> str | None:
    """Why `${task.setAssignee('name')}` cannot run here, or None.

    It runs in a create task listener of a task that names no assignee, as
    TaskEntity.setAssignee there gives the task its assignee before Camunda 7
    fires the assignment event (after the create listeners): the task is
    created with that assignee (camunda:assignee), and its assignment
    listeners run as for one drawn so. Where another create listener reads or
    sets the assignee the order of the two could not be kept: refused."""
    assignee = expression_assignee(listener)
    if local_name(listener) != "taskListener":
        return (
            "task.setAssignee in an execution listener: Camunda 7 has no task "
            "object there"
        )
    if _event(listener, owner) != "create":
        return (
            "task.setAssignee in a listener of another event than create (where "
            "Camunda 7 would fire a further assignment event)"
        )
    if not (assignee or "").strip():
        return "task.setAssignee of an empty name"
    if _static_assignee(owner):
        return "task.setAssignee on a task that already names an assignee"
    for other in vendor_children(owner, "bpmn:extensionElements/x:taskListener"):
        text = etree.tostring(other, encoding="unicode").lower()
        if other is not listener and _event(other, owner) == "create":
            if "assignee" in text:
                return (
                    "task.setAssignee beside another create listener reading or "
                    "setting the assignee"
                )
    return None


def _remove_refusal(listener: etree._Element, name: str) -> str | None:
    """Why `${execution.removeVariable('x')}` (or task's) cannot run here.

    AbstractVariableScope.removeVariable removes x from the nearest scope
    holding it; that is the process instance exactly where the execution is
    (execution_scope.py; a task holds no variables of its own here)."""
    owner = listener.getparent().getparent()
    if reason := local_refusal("execution", own_scope_refusal(owner)):
        return f"{name}.removeVariable {reason}"
    if local_name(listener) == "executionListener" and name == "task":
        return (
            "task.removeVariable in an execution listener: Camunda 7 has no "
            "task object there"
        )
    return None


def expression_refusal(listener: etree._Element) -> str | None:
    """Why a listener's `expression` cannot run here, or None (no expression,
    or one that runs)."""
    expression = listener.get("expression")
    if expression is None or any(isinstance(c.tag, str) for c in listener):
        return None
    if _SET_ASSIGNEE.match(expression):
        return _assignee_refusal(listener, listener.getparent().getparent())
    if removed := _REMOVE_VARIABLE.match(expression):
        return _remove_refusal(listener, removed.group("object"))
    match = _SET_VARIABLE.match(expression)
    if match is None:
        return (
            f"its expression {expression.strip()!r} is not "
            "${execution.setVariable('x', value)}, ${task.setVariable('x', "
            "value)} or ${execution.setVariableLocal('x', value)}: Camunda 7 "
            "calls it (a method of a bean or of the engine's objects), which "
            "does not run here (a listener's expression runs here when it sets "
            "one variable)"
        )
    task_listener = local_name(listener) == "taskListener"
    if match.group("method") == "setVariableLocal":
        owner = listener.getparent().getparent()
        if refusal := local_refusal(match.group("object"), own_scope_refusal(owner)):
            return f"{match.group('object')}.setVariableLocal {refusal}"
    if not task_listener and re.match(r"^\s*[$#]\{\s*task\b", expression):
        return (
            "task.setVariable in an execution listener: Camunda 7 has no task "
            "object there (task would be a variable); write "
            "${execution.setVariable('x', value)}"
        )
    try:
        _value(listener, match.group("value"))
    except JuelError as exc:
        return f"the value it sets is outside the JUEL that runs here: {exc}"
    return None


def _append(extensions: etree._Element, kind: str, line: str) -> None:
    script = extensions.find(f"spiffworkflow:{kind}", NSMAP)
    if script is None:
        script = etree.SubElement(extensions, f"{{{SPIFF}}}{kind}")
    text = (script.text or "").rstrip()
    script.text = f"{text}\n{line}" if text else line


# Set on a script task that runs listeners' scripts (service_tasks._ScriptTaskParser).
LISTENER_SCRIPTS = f"{{{SPIFF}}}listenerScripts"


# Set on an element whose end execution listener runs here as a script after it
# waited (a task's post-script, a script task after a catch event). END_SCRIPT
# keeps the end listeners' own lines (a post-script also holds the complete
# task listeners'): when the element is cancelled instead (an interrupting
# event, a terminate end event, a completion condition, the call or the case
# around it), those run (cancel_listeners.py). Versions stored
# before END_SCRIPT have the mark alone; their lines are read again from the
# original XML (parsing.end_listener_scripts).
END_LISTENER = f"{{{SPIFF}}}endListener"
END_SCRIPT = f"{{{SPIFF}}}endListenerScript"
# A user task's delete task listeners' lines, run when it is cancelled before
# its end listeners (cancel_listeners.py), and a process's end execution
# listeners' lines, run when its instance ends, completed, terminated or
# cancelled (process_end.py).
DELETE_SCRIPT = f"{{{SPIFF}}}deleteListenerScript"
PROCESS_END_SCRIPT = f"{{{SPIFF}}}processEndListenerScript"
KEPT_SCRIPTS = (END_SCRIPT, DELETE_SCRIPT, PROCESS_END_SCRIPT)


def _keep(owner: etree._Element, attribute: str, body: str) -> None:
    """Keep a listener's lines on `owner`, after those kept before."""
    if body:
        kept = owner.get(attribute)
        owner.set(attribute, f"{kept}\n{body}" if kept else body)


def mark_end_listener(owner: etree._Element, body: str) -> None:
    """Mark `owner` as running an end listener after it waited (END_LISTENER),
    keeping its lines (END_SCRIPT)."""
    if ends_late(owner):
        owner.set(END_LISTENER, "true")
        _keep(owner, END_SCRIPT, body)


def ends_late(owner: etree._Element) -> bool:
    """Whether an end listener on `owner` runs after it waited (a task, an
    intermediate catch event), where an interruption can come first."""
    return local_name(owner) in _SCRIPTED | {"intermediateCatchEvent"}


_TASK_PROPERTIES = (
    "assignee",
    "candidateUsers",
    "candidateGroups",
    "dueDate",
    "followUpDate",
    "priority",
)
_READ = re.compile(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)")


def create_sets_task_properties(
    listener: etree._Element, owner: etree._Element
) -> list[str]:
    """The variables a create task listener sets that the task's assignee,
    candidates, dates or priority read, which Camunda 7 has already resolved
    when the create event fires (UserTaskActivityBehavior: TaskDecorator
    decorates the task, then it transitions to created)."""
    if local_name(listener) != "taskListener" or _event(listener, owner) != "create":
        return []
    stored = stored_names(_body(listener, owner) or "")
    if stored is None:
        return []
    read = {
        name
        for attr in _TASK_PROPERTIES
        for name in _READ.findall(vendor_attr(owner, attr) or "")
    }
    return sorted(stored & read)


def _has_definition(event: etree._Element) -> bool:
    return any(
        isinstance(c.tag, str) and local_name(c).endswith("EventDefinition")
        for c in event
    )


def _on_event(
    event: etree._Element, when: str, body: str, line: int | None, taken: set[str]
) -> bool:
    kind = local_name(event)
    if kind == "startEvent" and not _has_definition(event):
        if (
            when in ("start", "end")
            and event.getparent().get("triggeredByEvent") != "true"
        ):
            return after(event, body, line, taken)
        return False
    if kind == "intermediateCatchEvent" and when == "end":
        return after(event, body, line, taken)
    if kind == "intermediateCatchEvent" and when == "start":
        return before(event, body, line, taken)
    if kind == "intermediateThrowEvent":
        if when == "start":
            return before(event, body, line, taken)
        return after(event, body, line, taken)
    if kind == "endEvent" and not _has_definition(event) and when in ("start", "end"):
        return before(event, body, line, taken)
    return False


def _owners(root: etree._Element) -> dict[etree._Element, list[etree._Element]]:
    """Group the listeners by the element they are drawn on, in document order."""
    owners: dict[etree._Element, list[etree._Element]] = {}
    for listener in vendor_children(root, ".//x:executionListener | .//x:taskListener"):
        owners.setdefault(listener.getparent().getparent(), []).append(listener)
    return owners


def _event(listener: etree._Element, owner: etree._Element) -> str:
    default = "take" if local_name(owner) == "sequenceFlow" else "start"
    return listener.get("event") or default


def creation_assignee(owner: etree._Element, prefix: str) -> list[str] | None:
    """Python lines setting `assignee_name` to the assignee the task gets when
    it is created (None when nobody: "" or unset), or None when it cannot be
    computed here (an expression other than a variable or a name)."""
    assignee, name = _static_assignee(owner), assignee_name(prefix)
    variable = _ASSIGNEE_VARIABLE.match(assignee)
    if not assignee:
        return [f"{name} = None"]
    if variable is not None and variable.group(1) != "initiator":
        value = variable.group(1)
        return [
            "try:",
            f"    {name} = {value}.strip() if isinstance({value}, str) else None",
            "except NameError:",
            f"    {name} = None",
        ]
    if "{" in assignee or assignee == "initiator":
        return None
    return [f"{name} = {assignee!r}"]


def _on_task(
    owner: etree._Element, listeners: list[etree._Element], prefix: str
) -> None:
    # Camunda 7's lifecycle order, whatever order they are drawn in (the drawn
    # order within one event): execution start, create, assignment, complete,
    # execution end. Create listeners may set the assignee the assignment sees.
    ordered = sorted(
        listeners, key=lambda lis: _PHASE.get((local_name(lis), _event(lis, owner)), 5)
    )
    assignment: list[str] = []
    for listener in ordered:
        event = _event(listener, owner)
        script = _SCRIPT_FOR.get((local_name(listener), event))
        if script is None or task_listener_ignored(listener, owner):
            continue
        foreign = _translated(listener, owner, prefix)
        body = foreign.python if foreign is not None else _body(listener, owner, prefix)
        if (
            body is None
            or (event == "assignment" and creation_assignee(owner, prefix) is None)
            or create_sets_task_properties(listener, owner)
        ):
            continue  # refused, located (checks._listeners)
        if foreign is not None and foreign.assignee:
            owner.set(f"{{{CAMUNDA}}}assignee", foreign.assignee)
            if "{" in foreign.assignee:  # `if (x) task.setAssignee(x)`
                owner.set(f"{{{SPIFF}}}assigneeIfSet", "true")
        elif (assignee := expression_assignee(listener)) is not None:
            owner.set(f"{{{CAMUNDA}}}assignee", assignee)
        _mark(owner, listener, script, body)
        if event == "assignment":
            assignment += [body] if body else []
        else:
            _put(owner, listener.getparent(), script, body)
        listener.getparent().remove(listener)
        _on_instances(owner)
    if assignment:
        _assignment(owner, "\n".join(assignment), prefix)


def _put(
    owner: etree._Element, extensions: etree._Element, script: str, body: str
) -> None:
    """Put a listener's lines where they run: a delete listener's kept for a
    cancellation (cancel_listeners.py), the others in the task's script."""
    if script == "deleteScript":
        _keep(owner, DELETE_SCRIPT, body)
    elif body:
        _append(extensions, script, body)


def _mark(
    owner: etree._Element, listener: etree._Element, script: str, body: str
) -> None:
    """Mark what the stored XML must say of a listener that became a script."""
    if script == "postScript" and local_name(listener) == "executionListener":
        mark_end_listener(owner, body)
    if local_name(owner) == "scriptTask":
        owner.set(LISTENER_SCRIPTS, "true")


def _on_instances(owner: etree._Element) -> None:
    """Camunda 7 puts a multi-instance activity's listeners on its inner
    activity (BpmnParse: the multi-instance body is a scope of its own): they
    run for each instance. SpiffWorkflow runs the task's pre/post script once,
    around all of them, unless told to run them on each instance."""
    loop = owner.find("bpmn:multiInstanceLoopCharacteristics", NSMAP)
    if loop is not None:
        loop.set(f"{{{SPIFF}}}scriptsOnInstances", "true")


def _assignment(owner: etree._Element, body: str, prefix: str) -> None:
    """Keep an assignment listener's lines for the engine to run whenever the
    assignee is set (claim, assignment, delegation: `assignmentScript`), and
    after the create lines when the task is created with an assignee."""
    extensions = owner.find("bpmn:extensionElements", NSMAP)
    if extensions is None:
        extensions = etree.SubElement(owner, f"{{{BPMN}}}extensionElements")
    _append(extensions, "assignmentScript", body)
    name = assignee_name(prefix)
    script = extensions.find("spiffworkflow:assignmentScript", NSMAP)
    script.set("assignee", name)  # the name its getAssignee() reads
    computed = creation_assignee(owner, prefix)
    assert computed is not None  # _on_task left the others to be refused
    indented = "\n".join("    " + line for line in body.splitlines())
    lines = [*computed, f"if {name} not in (None, ''):", indented, f"del {name}"]
    _append(extensions, "preScript", "\n".join(lines))


def _elsewhere(
    owner: etree._Element,
    listeners: list[etree._Element],
    taken: set[str],
    prefix: str,
) -> None:
    """Listeners on a flow or an event: one script task per event, in order."""
    by_event: dict[str, list[etree._Element]] = {}
    for listener in listeners:
        if local_name(listener) == "executionListener" and _body(
            listener, owner, prefix
        ):
            by_event.setdefault(_event(listener, owner), []).append(listener)
    # Camunda 7's order: start, take, end. Each is drawn nearer the element
    # than the one before, except right after a start event or a process's
    # start events, where the later one is drawn first.
    order = sorted(by_event, key=lambda event: _EVENT_ORDER.get(event, 3))
    if local_name(owner) in ("startEvent", "process"):
        order.reverse()
    for event in order:
        group = by_event[event]
        body = "\n".join(str(_body(listener, owner, prefix)) for listener in group)
        if local_name(owner) == "process" and event == "end":
            # Run by the engine when the instance ends (process_end.py).
            _keep(owner, PROCESS_END_SCRIPT, body)
            for listener in group:
                listener.getparent().remove(listener)
            continue
        if _place(owner, event, body, group[0].sourceline, taken):
            if event == "end" and ends_late(owner):
                mark_end_listener(owner, body)
            for listener in group:
                listener.getparent().remove(listener)


def _place(
    owner: etree._Element, event: str, body: str, line: int | None, taken: set[str]
) -> bool:
    kind = local_name(owner)
    if kind == "sequenceFlow":
        return event == "take" and on_flow(owner, body, line, taken)
    if kind in _GATEWAYS:
        return on_gateway(owner, event, body, line, taken)
    if kind == "process":
        return on_process(owner, event, body, line, taken)
    return _on_event(owner, event, body, line, taken)


def translate_listeners(root: etree._Element, taken: set[str]) -> None:
    """Turn the listeners that set variables into scripts, in place (module doc).

    `taken` holds the ids in use; inserted elements get new ones, added to it.
    """
    for element in root.iter():  # Laneway's to write, never the upload's
        for attribute in KEPT_SCRIPTS if isinstance(element.tag, str) else ():
            element.attrib.pop(attribute, None)
    owners = _owners(root)
    prefix = _temp_prefix(root) if owners else ""
    # Gateways and processes last: their scripts go between the element and
    # the scripts of its flows' and start events' listeners, which fire
    # later (a flow's take after a gateway's end) or earlier (a flow's take
    # before the gateway's start, a start event's after the process's).
    for owner, listeners in sorted(
        owners.items(), key=lambda item: local_name(item[0]) in _LAST
    ):
        if local_name(owner) in _SCRIPTED:
            _on_task(owner, listeners, prefix)
        else:
            _elsewhere(owner, listeners, taken, prefix)


def _temp_prefix(root: etree._Element) -> str:
    """A prefix for translated scripts' temporary names that the diagram never uses."""
    text = etree.tostring(root, encoding="unicode")
    prefix, n = "listener_", 1
    while prefix in text:
        n += 1
        prefix = f"listener{n}_"
    return prefix
