"""What the engine runs and what the upload refuses: the tables, and their check.

Every BPMN 2.0 element and event definition, and every Camunda 7 / Operaton
attribute and extension element, has one row here: `runs` (with what it does
here when that differs from Camunda 7) or `refused` (with the reason the
analyst reads at upload). `support_problems` refuses, located, every construct
whose row says so; a Camunda/Operaton attribute or extension element without a
row is refused too, because the engine would ignore it. `docs/bpmn-coverage.md`
is generated from these tables (`coverage_markdown`), so it cannot drift.

Some refusals are made by older checks with messages of their own (`checks.py`,
`normalize.py`); their rows say `by="..."` and are not checked twice here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from .call_data import business_key_rule
from .compensation_checks import compensation_problems
from .conditional_events import conditional_filter_refusal
from .dates import check_due, check_priority
from .dialect import is_camunda_dialect
from .event_name_checks import START_REASON, name_problems
from .implicit_splits import ACTIVITIES
from .juel import (
    JuelError,
    composite_expression,
    is_checked_condition,
    is_juel,
)
from .links import is_link_flow
from .metadata import HUMAN_TAGS, human_task_meta
from .normalize import ZEEBE, describe
from .parameters import IO_ACTIVITIES
from .retry_cycle import RetryCycleInvalid, retry_cycle_elements, retry_cycle_parse
from .types import Problem
from .xml import (
    BPMN,
    NSMAP,
    SPIFF,
    VENDOR_NAMESPACES,
    compiled_xpath,
    local_name,
    vendor_attr,
    vendor_children,
)

RUNS, REFUSED = "runs", "refused"
_LOOPS = ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
SERVICE_LIKE = ("serviceTask", "sendTask", "businessRuleTask")


@dataclass(frozen=True, slots=True)
class Row:
    """How one construct is supported."""

    status: str  # RUNS | REFUSED
    note: str = ""
    on: tuple[str, ...] = ()  # a vendor name runs only on these BPMN elements
    values: tuple[str, ...] = ()  # ... and only with one of these values
    by: str = ""  # refused by another check (named), not by support_problems


def _runs(
    note: str = "", *, on: tuple[str, ...] = (), values: tuple[str, ...] = ()
) -> Row:
    return Row(RUNS, note, on=on, values=values)


def _refused(note: str, by: str = "") -> Row:
    return Row(REFUSED, note, by=by)


_NO_EFFECT = "accepted; no effect here"
_COMMITS = " (every step commits on its own)"
# Camunda 7 reads camunda:async, asyncBefore, asyncAfter and exclusive as the
# exact text "true" (BpmnParse.isAsyncBefore, isAsyncAfter, isExclusive), not
# parseBooleanAttribute's forms (yes, on, enabled, active); here no value
# changes what runs, so no form is read differently.
_ANY_VALUE = ", whatever its value (Camunda 7 reads only the exact text true)"
_HUMAN = ("userTask", "manualTask")
_FORMS = (*_HUMAN, "startEvent")  # Camunda Forms (form_checks.py)
_DATES = (
    "an ISO-8601 date(-time), an ISO-8601 duration from now (weeks to seconds), "
    "${variable} or ${dateTime().plusDays(n)...}; anything else is refused"
)
_COMPENSATION = (
    "Camunda 7 refuses a compensation event sub-process outside an embedded "
    "sub-process; a transaction's is not supported (its cancel end event's "
    "compensation is not specified with one)"
)
_BY_COMPENSATION = "compensation_checks.compensation_problems"

# BPMN 2.0 elements (Semantic.xsd), by local name.
ELEMENTS: dict[str, Row] = {
    "process": _runs("each executable process deploys as its own definition"),
    "startEvent": _runs("none, message, timer and signal starts"),
    "endEvent": _runs(),
    "intermediateCatchEvent": _runs(),
    "intermediateThrowEvent": _runs(),
    "boundaryEvent": _runs("interrupting and non-interrupting"),
    "event": _refused("an abstract element; draw a concrete event"),
    "implicitThrowEvent": _refused("a choreography element; not executable"),
    "task": _runs("passes through (an abstract task)"),
    "userTask": _runs(
        "an inbox task for its candidates; a name with ${...} is an expression "
        "resolved when the task is created (task_names.py)"
    ),
    "manualTask": _runs(
        "in a diagram drawn for Camunda 7 (or Flowable) it passes through "
        "without a task, audited as an element run, as Camunda 7 runs it "
        "(ManualTaskActivityBehavior); in a SpiffArena or plain BPMN diagram an "
        "inbox task like a user task, as SpiffArena shows it (dialect.py)"
    ),
    "serviceTask": _runs("runs its registered operation on the worker"),
    "sendTask": _runs(
        "with a Camunda implementation (topic, class, delegateExpression, "
        "expression, connector): exactly like a service task; with a message: "
        "throws the message"
    ),
    "receiveTask": _runs("waits for its message"),
    "scriptTask": _runs(
        "Python scripts in the sandbox; a JUEL script (scriptFormat juel, one "
        "expression) is translated to Python within the JUEL subset"
    ),
    "businessRuleTask": _runs(
        "a DMN decision from the uploaded DMN files (its output columns become "
        "variables); with a Camunda implementation instead: like a service task"
    ),
    "callActivity": _runs(
        "calls a process of the file or a deployed one (its version resolved "
        "when the call starts; calledElement may be a ${...} expression, "
        "evaluated then: the latest deployed version of the key it gives); "
        "variables pass as camunda:in/out say"
    ),
    "subProcess": _runs(
        "embedded and event sub-processes; a variable set inside is the case's; "
        "an end event is not needed: a path ends at an element without outgoing "
        "flow and the sub-process completes when its last path has ended, as in "
        "Camunda 7 (BPMN 2.0 \u00a710.5.3 implicit end; implicit_ends.py)"
    ),
    "transaction": _runs(
        "an embedded sub-process whose cancel end event interrupts it, "
        "compensates its completed tasks (waiting for the handlers) and leaves "
        "it on its cancel boundary event, as Camunda 7 (compensation.py)"
    ),
    "adHocSubProcess": _refused(
        "ad-hoc sub-processes are not supported; model the tasks with a parallel "
        "or inclusive gateway"
    ),
    "exclusiveGateway": _runs(
        "the first flow in document order whose condition is true, else the "
        "default flow, else an incident"
    ),
    "parallelGateway": _runs(
        "branches share one set of case variables (Camunda 7): each branch sees "
        "the others' writes and a join loses none; a join consumes one token per "
        "incoming flow, a second token on a flow waits for the next firing; two "
        "flows from one split into the join are two inputs, joined once (joins.py)"
    ),
    "inclusiveGateway": _runs(
        "a join fires once no token elsewhere can still reach one of its empty "
        "incoming flows (BPMN 2.0), asked again after every step (Camunda 7 asks "
        "only when a token arrives); a token that can reach only incoming flows "
        "that already hold one does not hold the join back, it fires the join "
        "again when it arrives (Camunda 7 waits for any token that can reach the "
        "join and joins them once); a boundary event that has not fired holds no "
        "token, so the join does not wait for its path; two flows from one split "
        "into the join are two inputs, joined once (joins.py)"
    ),
    "eventBasedGateway": _runs(),
    "complexGateway": _refused(
        "complex gateways are not supported; use inclusive or parallel gateways "
        "with conditions"
    ),
    "sequenceFlow": _runs(
        "several plain flows out of an activity all run (implicit parallel split); "
        "conditional flows out of an activity run as an inclusive split "
        "(implicit_splits.py)"
    ),
    "dataObject": _runs(
        "a SpiffWorkflow data object (a process-level variable); in a Camunda-dialect "
        "diagram (camunda:/operaton: and no spiffworkflow:) documentation, as in "
        "Camunda 7: its data associations are dropped (data_objects.py); an "
        "initial value (Flowable's / Activiti's value extension) is refused, as "
        "Camunda 7 would never set it; a data association naming a data object "
        "of no enclosing scope is refused"
    ),
    "dataObjectReference": _runs(),
    "dataStoreReference": _runs(
        "documentation, as in Camunda: it and its data associations are dropped "
        "from the normalized XML; in a SpiffArena diagram (spiffworkflow: "
        "extensions) one a task reads or writes is refused, located (SpiffArena "
        "runs it through a JSON/KKV store it registers; Laneway has none)"
    ),
    "dataStore": _runs(_NO_EFFECT),
    "callChoreography": _refused("choreographies are not executable"),
    "choreographyTask": _refused("choreographies are not executable"),
    "subChoreography": _refused("choreographies are not executable"),
    "choreography": _runs(_NO_EFFECT + " (not executable)"),
    "globalChoreographyTask": _runs(_NO_EFFECT + " (not executable)"),
    "globalTask": _refused("global tasks cannot be called; call a process instead"),
    "globalUserTask": _refused("global tasks cannot be called; call a process instead"),
    "globalManualTask": _refused(
        "global tasks cannot be called; call a process instead"
    ),
    "globalScriptTask": _refused(
        "global tasks cannot be called; call a process instead"
    ),
    "globalBusinessRuleTask": _refused(
        "global tasks cannot be called; call a process instead"
    ),
    "multiInstanceLoopCharacteristics": _runs(
        "parallel and sequential; instances share the case variables, their "
        "element variable and loopCounter are local; a boundary event of the "
        "activity catches what any instance throws (an interrupting one ends "
        "every instance); a collection that holds no list (text, a number, "
        "nothing, or an object for a camunda:collection) is an incident, as in "
        "Camunda 7 (a SpiffArena loopDataInputRef may hold a map: one instance "
        "per value); an output collection "
        "(loopDataOutputRef, SpiffArena) is a case variable collecting each "
        "instance's output item; loopCardinality with a collection is refused "
        "(Camunda 7 would run loopCardinality instances over the collection)"
    ),
    "standardLoopCharacteristics": _runs("loops while loopCondition holds"),
    "laneSet": _runs(),
    "lane": _runs("the lane name is the candidate group of its tasks"),
    "participant": _runs(
        "pools are drawing only; a black-box pool (collapsed, or its process not "
        "executable) is an outside party that messages may go to"
    ),
    "messageFlow": _runs(
        "messages are delivered by name; a message that nothing in Laneway takes "
        "went to the outside party when every message flow of its sender goes to "
        "a black-box pool and no process in use catches it (no incident, as Camunda "
        "7 runs a message throw without implementation as a none event; "
        "message_flows.py)"
    ),
    "documentation": _runs(
        "shown with the task; on a user task, ${...} is resolved when the task "
        "is created (Camunda 7's description expression, task_names.py)"
    ),
    "ioSpecification": _runs(
        "SpiffWorkflow data inputs and outputs: on a called process its data "
        "outputs come back to the caller; ignored in a Camunda-dialect diagram, as "
        "Camunda 7 ignores it (data_objects.py)"
    ),
    "dataInput": _runs(
        "a task's data input must be a variable when it starts; ignored in a "
        "Camunda-dialect diagram, as Camunda 7 ignores it"
    ),
    "dataOutput": _runs(
        "ignored in a Camunda-dialect diagram, as Camunda 7 ignores it"
    ),
    "dataInputAssociation": _runs(
        "SpiffWorkflow data objects: the data object's value is copied in; "
        "ignored in a Camunda-dialect diagram, as Camunda 7 ignores it"
    ),
    "dataOutputAssociation": _runs(
        "SpiffWorkflow data objects: the task's variable named like the data object "
        "moves into it (an incident when the task has no such variable); ignored in "
        "a Camunda-dialect diagram, as Camunda 7 ignores it"
    ),
    "association": _runs(_NO_EFFECT),
    "group": _runs(_NO_EFFECT),
    "textAnnotation": _runs(_NO_EFFECT),
    "category": _runs(_NO_EFFECT),
    "collaboration": _runs(
        "pools and message flows are drawing only, but for messages to outside "
        "parties (see messageFlow)"
    ),
    "globalConversation": _runs(_NO_EFFECT),
    "conversation": _runs(_NO_EFFECT),
    "subConversation": _runs(_NO_EFFECT),
    "callConversation": _runs(_NO_EFFECT),
    "message": _runs(),
    "signal": _runs(),
    "error": _runs(),
    "escalation": _runs(),
    "itemDefinition": _runs(_NO_EFFECT),
    "correlationProperty": _runs("message correlation (SpiffArena style)"),
    "interface": _runs(_NO_EFFECT),
    "endPoint": _runs(_NO_EFFECT),
    "partnerEntity": _runs(_NO_EFFECT),
    "partnerRole": _runs(_NO_EFFECT),
    "resource": _runs(_NO_EFFECT),
    "eventDefinition": _refused("an abstract element; use a concrete event definition"),
    "performer": _refused(
        "resource assignment is not read; use a lane or camunda:candidateGroups"
    ),
    "humanPerformer": _runs(
        "its formal expression is the assignee, as in Camunda 7; one without a "
        "resourceAssignmentExpression is refused (Camunda 7 refuses it too)"
    ),
    "potentialOwner": _runs(
        "its formal expression lists candidates as in Camunda 7: user(id), "
        "group(id), or a plain group id; one without a resourceAssignmentExpression "
        "is refused (Camunda 7 refuses it too)"
    ),
}

EVENT_DEFINITIONS: dict[str, Row] = {
    "messageEventDefinition": _runs("needs a messageRef"),
    "timerEventDefinition": _runs(
        "duration, date and cycle (ISO 8601, a Quartz cron as Camunda writes it "
        "(0 0 9 * * ?, or 0/5 * * * * ? with a seconds step; UTC), or an "
        "expression), each fired at its moment; a cycle repeating more than once "
        "a second (R/PT0.5S) is refused; a cycle on an intermediate catch "
        "(after an event-based gateway too) or interrupting boundary event, or on"
        " the start of an interrupting event sub-process, fires once, at its "
        "first occurrence; on a non-interrupting boundary event at every "
        "occurrence while the activity is open, on a non-interrupting event "
        "sub-process's start one instance per occurrence while its scope is "
        "active (missed ones are skipped); a cycle whose start has passed is due "
        "at its next occurrence, or once at once when all have passed (Camunda); "
        "a cron on an event sub-process's start is refused, and so is a cycle "
        "with an end (R3/PT1H/2030-01-01T00:00:00Z, R3/start/end: Camunda 7 "
        "counts it back from the end; from an expression an incident); months and"
        " years are calendar months, the day pinned to the month's end "
        "(2026-01-31 + P1M = 2026-02-28, as Camunda 7); an expression whose value"
        " is not ISO 8601 is an incident saying so; a timeDate holding a period "
        "(P1D, or ${...} holding one) is that long from when the timer starts "
        "waiting, as Camunda 7's due-date calendar reads it; a value written in "
        "the diagram that its kind cannot read (a date as timeDuration, a period "
        "as timeCycle, a cycle or cron as timeDate) is refused; in a diagram "
        "drawn for Camunda, timer text that is neither ISO 8601, a cron nor "
        "${...} (PT1X, tomorrow, amount*2) is refused, as Camunda 7 reads it as "
        "a literal and fails (a SpiffArena diagram's timer text is Python)"
    ),
    "signalEventDefinition": _runs(),
    "errorEventDefinition": _runs(
        "the most specific error boundary catches; an error nothing catches ends "
        "its path as a none end event (Camunda 7's default), audited (in an "
        "instance of a multi-instance activity: that instance, counted as "
        "completed); a service task's in a BPMN (non-Camunda) diagram opens an "
        "incident"
    ),
    "escalationEventDefinition": _runs(),
    "terminateEventDefinition": _runs(),
    "compensateEventDefinition": _runs(
        "on a boundary event of a task, sub-process or call activity: its "
        "handler is subscribed each time the activity completes (once per "
        "instance of a multi-instance one, when it has completed); on an "
        "intermediate throw or end event: the handlers of the completed "
        "activities of the event's scope (or of activityRef) start at once, last "
        "completed first, each subscription once, a completed sub-process "
        "without a handler compensating its own completed activities (or running "
        "its compensation event sub-process), and the event waits for them "
        "(Camunda 7 always waits); on the start event of an event sub-process "
        "in an embedded sub-process: see below (compensation.py)"
    ),
    "cancelEventDefinition": _runs(
        "a cancel end event directly in a transaction, and one cancel boundary "
        "event on the transaction"
    ),
    "conditionalEventDefinition": _runs(
        "on an intermediate catch event, a boundary event (interrupting or "
        "not), the start event of an event sub-process (interrupting or "
        "not) and a process's start event, as Camunda 7 runs them "
        "(conditional_events.py): the condition is evaluated when the event "
        "starts waiting (the catch reached, the "
        "activity entered, the scope started; true: it fires at once, an "
        "interrupting boundary event before its activity executes), then on "
        "each variable event of its scope (a variable created, updated or "
        "deleted), which camunda:variableName and camunda:variableEvents "
        "narrow; a non-interrupting one fires once per variable event that "
        "finds its condition true and stays armed; outer scopes first, and an "
        "interrupting one cancels what it interrupts at once, before anything "
        "in there runs or fires. A JUEL "
        "condition naming a variable that does not exist is false (Camunda "
        "7's tryEvaluate). The variable events are taken after each task the "
        "engine runs and after each command (a task completed, a message or "
        "signal with variables, a service result, the variables set in the "
        "cockpit; a suspended case's when it resumes), as differences of "
        "value, plus the variables a task's completion, an output mapping, a "
        "message's or signal's variables, a service result or the cockpit's "
        "edit set to the value they had (an update, as in Camunda 7's "
        "setVariable). Departure: a script or listener that sets a variable "
        "to the value it had makes no event here (Camunda 7 dispatches an "
        "update), and a variable a script changes twice is one event "
        "(Camunda 7: one per setVariable). A process's conditional start "
        "event starts a case through the condition evaluation only (see its "
        "row below); refused: one after an event-based gateway, one without a "
        "condition"
    ),
    "linkEventDefinition": _runs(
        "an intermediate link throw event continues at the link catch event of "
        "the same name in its own process or sub-process, as a sequence flow "
        "(several throws may share one catch); refused: a link on any other "
        "event, a nameless link, a throw without its catch at its level, two "
        "catches with one name in a file (Camunda 7 refuses it too), a flow into "
        "a catch or out of a throw, an execution listener on a throw (Camunda 7 "
        "never runs it) (links.py)"
    ),
}
CONDITIONAL_FLOWS = _refused(
    "conditions and default flows are evaluated only out of exclusive and inclusive "
    "gateways, activities and events: out of a parallel or event-based gateway "
    "the condition would be ignored (BPMN 2.0.2 draws none there, Camunda 7 "
    "ignores them out of a parallel gateway); put an exclusive or inclusive "
    "gateway after the element"
)
CONDITIONAL_PLACES = _refused(
    "conditional events run on an intermediate catch event, a boundary event, "
    "the start event of an event sub-process and a process's start event "
    "(BPMN 2.0.2 draws them "
    "nowhere else, and Camunda 7 runs them nowhere else)"
)
CONDITIONAL_START = _refused(
    "the condition of a process's conditional start event is a JUEL "
    "expression (${...}), as Camunda 7 evaluates it on the variables the "
    "condition evaluation gives; write the condition in JUEL"
)
CONDITIONAL_START_RUNS = _runs(
    "a case starts there only through the condition evaluation (POST "
    "/api/v1/conditions/, or Camunda 7's POST /engine-rest/condition): each "
    "conditional start event of the latest version of every process (or of "
    "the one named) whose camunda:variableName, if any, is one of the given "
    "variables and whose JUEL condition holds on those variables (an unknown "
    "name is false) starts one case with them; no conditional start event "
    "at all is refused (Camunda 7: no subscriptions), none holding starts "
    "nothing. Never evaluated inside a case: a case started by hand, by "
    "another event or by a call activity does not start there; "
    "camunda:variableEvents has no effect (Camunda 7 ignores it too) "
    "(conditional_starts.py)"
)
CONDITIONAL_AFTER_GATEWAY = _refused(
    "a conditional event after an event-based gateway is evaluated only when "
    "the gateway is reached (SpiffWorkflow), never on a later variable change; "
    "draw the condition as a boundary event or an intermediate conditional "
    "catch event instead"
)
CONDITION_MISSING = _refused(
    "a conditional event needs a condition (Camunda 7 refuses it too)"
)
BOOLEAN_FORM = _refused(
    "a boolean attribute (cancelActivity, isInterrupting, isSequential, ...) "
    'must read "true" or "false": BPMN\'s schema (xsd:boolean) also reads "1" '
    'and "0" and ignores surrounding spaces, Camunda 7 compares the exact text '
    '(cancelActivity="1" is non-interrupting there)'
)
MULTIPLE_EVENTS = _refused(
    "multiple and parallel-multiple events (several event definitions on one "
    "event) are not supported; use an event-based gateway or several events"
)
SEND_WITHOUT_IMPLEMENTATION = _refused(
    'it names neither an operation (camunda:topic with type "external", class, '
    "delegateExpression, expression or a connector) nor a message (messageRef), "
    "so it would be skipped (Camunda 7 refuses it too)"
)
RECEIVE_WITHOUT_MESSAGE = _refused(
    "it names no message (messageRef) and follows an event-based gateway, "
    "where nothing could continue it (Camunda 7 refuses any receive task "
    "there: 'Event based gateway can only be connected to elements of type "
    "intermediateCatchEvent'); give it a message, or draw a message catch event"
)
RECEIVE_SIGNALLED = _runs(
    "the case waits there until it is signalled by its execution id (Camunda "
    "7's RuntimeService.signal, ReceiveTaskActivityBehavior): POST "
    "/api/v1/executions/{id}/signal/ or /engine-rest/execution/{id}/signal, or "
    "the case page's Continue button, with variables set first; refused after "
    "an event-based gateway (receive_waits.py)"
)
SCRIPT_WITHOUT_SCRIPT = _refused(
    "it has no script, so it would be skipped (Camunda 7 refuses it too)"
)
NONE_STARTS = _refused(
    "a case starts at its process's none start event, and with several it is "
    "not said which: only the first would ever run (Camunda 7 refuses it too: "
    "multiple none start events not supported); keep one, or give the others a "
    "message, signal or timer"
)
SUBPROCESS_EVENT_START = _refused(
    "a sub-process starts when the token reaches it, so its start event is a none "
    "start event (BPMN 2.0.2 \u00a710.5.2, Table 10.85; Camunda 7 refuses other "
    "start events in a sub-process too); here it would wait for its event "
    "instead; remove the event definition, or make the sub-process an event "
    "sub-process (triggeredByEvent)"
)
EVENT_GATEWAY_TIMERS = _refused(
    "SpiffWorkflow keeps one due moment per event-based gateway, so the first "
    "timer after it would set it for all: a shorter timer would wait as long as "
    "the first and never win (BPMN 2.0.2 \u00a713.4.4: the first event to occur "
    "wins); keep one timer after the gateway, or chain two gateways"
)
BOUNDARY_NOT_ON_ACTIVITY = _refused(
    "a boundary event is attached to an activity (BPMN 2.0.2 \u00a710.5.4: "
    "attachedToRef is an Activity); here it would wait beside an element it "
    "cannot interrupt; attach it to a task, sub-process or call activity"
)
BOUNDARY_HOST_MISSING = _refused(
    "its attachedToRef names no activity of the process or sub-process it is "
    "drawn in, so it would never wait for anything (Camunda 7 refuses it too: "
    "'Invalid reference in boundary event'); attach it to an activity beside it"
)
MULTI_INSTANCE_SHAPE = _refused(
    "a multi-instance activity runs its instances over camunda:collection (or "
    "loopDataInputRef) or a loopCardinality; this one has an empty "
    "loopCardinality, or a camunda:elementVariable without a collection to "
    "take the elements from (Camunda 7 refuses both: "
    "'loopCardinality must be defined', 'collection must be set when using "
    "elementVariable'); here the instances would fail or lack the variable"
)
MULTI_INSTANCE_CARDINALITY_AND_COLLECTION = _refused(
    "a multi-instance activity with both a loopCardinality and a collection "
    "(camunda:collection or loopDataInputRef): Camunda 7 runs loopCardinality "
    "instances and gives each the collection's element at its loopCounter, "
    "failing when the collection is shorter "
    "(MultiInstanceActivityBehavior.resolveNrOfInstances); SpiffWorkflow's "
    "multi-instance holds one or the other, so it would run otherwise; keep "
    "only the collection, or only the loopCardinality"
)
UNNAMED_PART = _refused(
    "one of its camunda:inputParameter or camunda:outputParameter has no name, "
    "or one of its camunda:formField no id, so there is no variable to set "
    "(Camunda 7 refuses it too: the attribute is mandatory); name it"
)
EVENT_SUBPROCESS_LOOP = _refused(
    "an event sub-process starts one instance each time its start event's "
    "trigger occurs; loop or multi-instance characteristics on it are not "
    "supported here (SpiffWorkflow's parser failed on them without naming the "
    "element); loop inside it, with a multi-instance activity"
)
CATCH_WITHOUT_TRIGGER = _refused(
    "a catching intermediate or boundary event waits for its trigger, and this "
    "one has none (Camunda 7 refuses it too); give it an event definition, or "
    "draw an intermediate throw (none) event to mark a state"
)
SIGNAL_WITHOUT_REF = _refused(
    "it names no signal (signalRef): no signal could ever trigger it, so it "
    "would wait for ever (Camunda 7 refuses it too); choose a signal for it"
)
CALL_WITHOUT_NONE_START = _refused(
    "a called process starts at its none start event (BPMN 2.0.2 \u00a710.5.2: its "
    "message, signal and timer start events are not used when it is called; "
    "Camunda 7 fails the call), so the call activity names it"
)
EVENT_SUBPROCESS_SHAPE = _refused(
    "an event sub-process starts only when its start event's trigger occurs: it "
    "has no sequence flows in or out, no boundary events, and its start event "
    "has a trigger (BPMN 2.0.2 \u00a710.3.5; Camunda 7 refuses these too); here "
    "a none start would run it at once and a flow into it would be dropped"
)
EVENT_GATEWAY_TARGET = _refused(
    "an event-based gateway waits for the events after it, so each of its flows "
    "leads to an intermediate catch event or a receive task (BPMN 2.0.2 "
    "\u00a713.4.4; Camunda 7 refuses other targets too)"
)
EVENT_GATEWAY_TARGET_SHARED = _refused(
    "it waits after an event-based gateway, and another sequence flow leads "
    "into it too (BPMN 2.0.2 \u00a710.6.6: target elements in an event gateway "
    "configuration must not have any additional incoming sequence flow; Camunda "
    "7 refuses it too: 'Invalid incoming sequenceflow for intermediateCatchEvent "
    "connected to an event-based gateway'); here a token arriving by the other "
    "flow would wait beside the gateway's and one message could take both; "
    "catch the event on that path with an event of its own"
)
EVENT_GATEWAY_RECEIVE_BOUNDARY = _refused(
    "it is a receive task after an event-based gateway with a boundary event "
    "attached (BPMN 2.0.2 \u00a710.6.6: receive tasks used in an event gateway "
    "configuration must not have any attached intermediate events; Camunda 7 "
    "refuses a receive task there at all); draw the timer or message as "
    "another event after the gateway"
)
EVENT_GATEWAY_RECEIVE_LOOP = _refused(
    "it is a multi-instance or loop receive task after an event-based gateway: "
    "the gateway waits for one event, the first to occur (BPMN 2.0.2 "
    "\u00a713.4.4), and a receive task there stands for one message; "
    "SpiffWorkflow cannot wait for it there at all; receive the message after "
    "the gateway, then loop over the items"
)
CHOOSING_GATEWAY_DEAD_END = _refused(
    "an exclusive or inclusive gateway chooses among its outgoing sequence "
    "flows, and this one has none: reaching it could only stop the case at an "
    "incident (Camunda 7 fails it too: no outgoing sequence flow could be "
    "selected); draw its flows, or end the path with an end event"
)
NAME_EXPRESSION = _runs(
    "resolved as Camunda 7 resolves it: by a catch (intermediate catch event, "
    "receive task, boundary event, event after an event-based gateway, event "
    "sub-process start) against the case's variables when the element or its "
    "scope is reached, and fixed while it waits (order-${orderId} waits for "
    "order-42, whatever orderId becomes); by a throw (signal throw or end "
    "event, message throw or end event, send task) when it throws; ${...} "
    "parts are coerced to text (null is empty), a name that is one ${...} "
    "must be text; a name that cannot be resolved (a missing variable, a map "
    "or list, an empty name, one over 255 characters) is an incident on the "
    "element (event_names.py)"
)
NAME_EXPRESSION_AT_START = _refused(START_REASON)
ERROR_NON_INTERRUPTING = _refused(
    "an error always interrupts (BPMN 2.0.2 \u00a710.5.2 Table 10.86 and \u00a710.5.4: "
    "an error boundary event's cancelActivity and an error start event's "
    "isInterrupting are true; Camunda 7 runs them interrupting); here the "
    "failed scope would go on beside the error path; remove the attribute"
)
CANCEL_NON_INTERRUPTING = _refused(
    "a cancel boundary event always interrupts its transaction (BPMN 2.0.2 "
    "\u00a710.5.4: the transaction is cancelled, its completed activities "
    "compensated, and the case leaves on this event; BPMN draws no "
    "non-interrupting cancel event); here the transaction would also leave on "
    "its normal flow, running both paths; remove the attribute"
)
FLOW_OUT_OF_END = _refused(
    "a sequence flow out of an end event would let the token run on; end the "
    "path there or use an intermediate event"
)
FLOW_INTO_START = _refused(
    "a sequence flow into a start or boundary event would never be taken; "
    "connect it to an activity or gateway"
)
# Checks that are not about one element kind or attribute (for the coverage page).
CONSTRUCTS: dict[str, Row] = {
    'a boolean attribute written "1", "0" or with spaces (cancelActivity="0")': (
        BOOLEAN_FORM
    ),
    "several event definitions on one event (multiple, parallel multiple)": (
        MULTIPLE_EVENTS
    ),
    "a conditional event anywhere but on an intermediate catch event, a "
    "boundary event, an event sub-process's start event or a process's start "
    "event": (CONDITIONAL_PLACES),
    "a conditional start event of a process": CONDITIONAL_START_RUNS,
    "a conditional start event of a process whose condition is not JUEL": (
        CONDITIONAL_START
    ),
    "a conditional event after an event-based gateway": CONDITIONAL_AFTER_GATEWAY,
    "a conditional event without a condition": CONDITION_MISSING,
    "a conditional or default sequence flow out of a parallel or event-based gateway": (
        CONDITIONAL_FLOWS
    ),
    "conditional sequence flows out of a start, intermediate or boundary event": (
        _runs(
            "as out of an activity (below): Camunda 7 leaves an event as it "
            "leaves an activity (FlowNodeActivityBehavior.leave, conditions "
            "checked; ConditionalScriptSequenceFlowTest), though BPMN 2.0.2 "
            "draws none there; a default flow on an event is not BPMN (the "
            "schema refuses it) (implicit_splits.py)"
        )
    ),
    "conditional or default sequence flows out of an activity": _runs(
        "every flow whose condition holds and every plain flow run (implicit "
        "inclusive split), the default flow only when none holds; none holding "
        "and no default is an incident on the activity's conditional flows, as "
        "Camunda 7 fails it ('No conditional sequence flow leaving the Flow "
        "Node ... could be selected') (implicit_splits.py)"
    ),
    "several plain sequence flows out of an activity or event": _runs(
        "all of them run (implicit parallel split)"
    ),
    "several sequence flows into an activity": _runs(
        "the activity runs once per arriving token (uncontrolled merge)"
    ),
    "a sequence flow out of an end event": FLOW_OUT_OF_END,
    "several none start events in one process": NONE_STARTS,
    "a message, signal or timer start event in an embedded sub-process or "
    "transaction": SUBPROCESS_EVENT_START,
    "a sequence flow into a start or boundary event": FLOW_INTO_START,
    "several timer events after one event-based gateway": EVENT_GATEWAY_TIMERS,
    "a flow out of an event-based gateway to anything but an intermediate catch "
    "event or a receive task": EVENT_GATEWAY_TARGET,
    "an event or receive task after an event-based gateway with another incoming "
    "sequence flow": EVENT_GATEWAY_TARGET_SHARED,
    "a receive task after an event-based gateway with a boundary event": (
        EVENT_GATEWAY_RECEIVE_BOUNDARY
    ),
    "a multi-instance or loop receive task after an event-based gateway": (
        EVENT_GATEWAY_RECEIVE_LOOP
    ),
    "an exclusive or inclusive gateway without outgoing sequence flow": (
        CHOOSING_GATEWAY_DEAD_END
    ),
    "an event sub-process with a none start event, a sequence flow in or out, or "
    "a boundary event": EVENT_SUBPROCESS_SHAPE,
    "a boundary event attached to anything but an activity": (BOUNDARY_NOT_ON_ACTIVITY),
    "a boundary event whose attachedToRef names no element beside it": (
        BOUNDARY_HOST_MISSING
    ),
    "a multi-instance activity with an empty loopCardinality, or an element "
    "variable without a collection": MULTI_INSTANCE_SHAPE,
    "a multi-instance activity with both a loopCardinality and a collection": (
        MULTI_INSTANCE_CARDINALITY_AND_COLLECTION
    ),
    "a camunda:inputParameter or outputParameter without a name, a "
    "camunda:formField without an id": UNNAMED_PART,
    "loop or multi-instance characteristics on an event sub-process": (
        EVENT_SUBPROCESS_LOOP
    ),
    "an intermediate catch or boundary event without an event definition": (
        CATCH_WITHOUT_TRIGGER
    ),
    "a call activity calling a process without a none start event": (
        CALL_WITHOUT_NONE_START
    ),
    "an expression (${...}) in a message or signal name": NAME_EXPRESSION,
    "an expression (${...}) in the message or signal name of a process's start "
    "event": NAME_EXPRESSION_AT_START,
    'a non-interrupting error boundary or error start event (cancelActivity="false", '
    'isInterrupting="false")': ERROR_NON_INTERRUPTING,
    'a non-interrupting cancel boundary event (cancelActivity="false")': (
        CANCEL_NON_INTERRUPTING
    ),
    "a signal start, catch or boundary event without signalRef": (SIGNAL_WITHOUT_REF),
    "a send task without an operation or a message": SEND_WITHOUT_IMPLEMENTATION,
    "a receive task without a message": RECEIVE_SIGNALLED,
    "a receive task without a message after an event-based gateway": (
        RECEIVE_WITHOUT_MESSAGE
    ),
    "a script task without a script": SCRIPT_WITHOUT_SCRIPT,
    "a dueDate, followUpDate or priority that cannot be read": _refused(
        "an ISO-8601 date(-time), an ISO-8601 duration (weeks to seconds), "
        "${variable} or ${dateTime().plusDays(n)}; a priority is an integer or "
        "${variable}"
    ),
    "camunda:in / camunda:out mappings": _runs(
        'source/target, sourceExpression, variables="all" and businessKey run '
        "(the called process's business key for message correlation: "
        "#{execution.processBusinessKey} passes the case's, another expression "
        "is evaluated when the call starts; one reading the caller's key "
        "otherwise is refused); "
        "without a camunda:in no variable goes into the called process (a "
        "SpiffArena or plain BPMN diagram passes every variable, as SpiffWorkflow "
        "does), without a camunda:out none comes back; "
        'local="true" and incomplete mappings are refused'
    ),
    "a JUEL condition": _runs(
        "translated to Python with EL 2.1's operators and coercions (juel.py, "
        "sandbox/el.py): the whole condition must be a Boolean, as in Camunda 7 "
        '(null or a String such as "false" is an incident: condition '
        "expression returns null / non-Boolean), while the operands of !, &&, ||, "
        "? : are coerced as EL does; null is 0 in arithmetic, / is always a "
        "Double; a String compared with a number or a Boolean is coerced to it "
        '("5000" > 1000); '
        "a JSON object's missing key is null (a missing variable is an "
        "incident, but false in a conditional event's condition, as Camunda 7's "
        "tryEvaluate reads it); .equals(x), .contains(x), .size() and .isEmpty() "
        "on strings and collections; other method calls are refused. "
        "execution, task (in a task listener) and authenticatedUserId are "
        "Camunda 7's engine objects (VariableScopeElResolver), not variables: "
        "getVariable('x') / hasVariable('x') and the properties juel.py lists "
        "(ids, business key, definition, current activity, event name, task "
        "name, key and assignee) run; execution.getVariableLocal('x') / "
        "hasVariableLocal('x') (AbstractVariableScope: the execution's own "
        "scope) run where the execution is the process instance (an element "
        "directly in a process without concurrent paths, not a scope activity: "
        "execution_scope.py) and are refused elsewhere, naming why; "
        "task.getVariableLocal (a task-local scope Laneway does not keep), "
        "removeVariable (but as a listener's expression there), setVariables, "
        "setAssignee (but as a create task listener's expression) and anything "
        "else of them are refused"
    ),
    "a condition without ${...} in a diagram drawn for Camunda 7": _refused(
        "a sequence flow's, conditional event's or completion condition's text "
        "without ${...} (x > 5) is literal text to Camunda 7, which fails the "
        "step (condition expression returns non-Boolean); write ${x > 5}, or "
        'language="python" to have Laneway run it as Python (SpiffArena and '
        "plain BPMN diagrams run such text as Python, as SpiffWorkflow does)"
    ),
    "a Groovy or JavaScript condition (language on a conditionExpression)": _runs(
        "a sequence flow's or conditional event's condition with "
        'language="groovy" or "javascript" is a Camunda 7 ScriptCondition: '
        "translated to Python within the subset of listener scripts "
        "(listener_scripts.translate_expression: names, literals, !, &&, ||, ? :, "
        "comparisons, + - * /; JavaScript's loose == and !=, calls such as "
        "execution.getVariable(...) and statements are refused, located); its "
        "value must be a Boolean (condition script returns non-Boolean: an "
        "incident); an unset variable is an incident on a sequence flow and false "
        "in a conditional event (ScriptCondition.tryEvaluate). Departure: any other "
        "script failure in a conditional event (Groovy comparing a text with a "
        "number) is an incident here, false in Camunda 7"
    ),
    "SpiffArena script helpers in scripts": _runs(
        "get_current_user(), get_process_initiator_user(), get_group_members(group), "
        "get_last_user_completing_task(process, task), get_toplevel_process_info() "
        "and get_current_task_info(), answered from the case in the script sandbox "
        "(script_helpers.py); SpiffArena's other helpers, helpers in expressions and "
        "calls of undefined functions are refused, located"
    ),
    "SpiffArena's lane_owners variable": _runs(
        "a dict from lane name to usernames: those people get the lane's tasks "
        "(candidates.py); a lane it does not name goes to the group of that name"
    ),
    "a message throw or end event without messageRef or implementation": _runs(
        "a none event, as Camunda 7 runs it (hygiene.py); a message catch or "
        "start event without a message is refused (it could never be triggered)"
    ),
    "a flow without condition out of an exclusive or inclusive gateway": _runs(
        "always true, as in Camunda 7: an exclusive gateway takes the first true "
        "flow in model order, so it is taken when reached (normalize.py); an "
        "exclusive gateway with such a flow besides its default flow, or with two "
        "such flows, is refused (Camunda 7 refuses it too)"
    ),
    "a FEEL expression (=amount > 1000, Camunda 8)": _runs(
        "conditions, timers, loop cardinality and completion conditions that start "
        "with = (or declare the FEEL language) are translated through the FEEL "
        "subset of DMN cells (dmn_feel.py): names and paths, literals, arithmetic, "
        "comparisons, and/or/not(), date()/time(); FEEL beyond it (some/every, "
        "functions, names with spaces) is refused, located"
    ),
    "an error or escalation start event outside an event sub-process": _refused(
        "it would wait for ever", by="checks._event_subprocess_starts"
    ),
    "a compensation event sub-process in an embedded sub-process": _runs(
        "when the completed sub-process is compensated (a throw of its scope, or "
        "naming it in activityRef) it runs instead of compensating the "
        "activities inside, once per completed instance of a multi-instance "
        "one, and the throw waits for it; it sees the sub-process's variables as "
        "they were when it completed, and a compensation throw inside it "
        "compensates the sub-process's completed activities (all, or "
        "activityRef's); what it leaves uncompensated is never compensated "
        "(Camunda 7's event scope) (compensation.py)"
    ),
    "a compensation event sub-process elsewhere (in a process, a transaction or "
    "anywhere inside an event sub-process)": _refused(
        _COMPENSATION, by="checks._event_subprocess_starts"
    ),
    "two compensation event sub-processes in one sub-process, or one in a "
    "sub-process that also has a compensation boundary event": _refused(
        "Camunda 7 refuses both", by=_BY_COMPENSATION
    ),
    "a compensation boundary event on a sub-process or call activity": _runs(
        "its handler is subscribed each time the activity completes (once per "
        "instance of a multi-instance one) and runs like a task's; a called "
        "process's own tasks are not compensated (Camunda 7: the called instance "
        "has ended) (compensation.py)"
    ),
    "compensating a completed sub-process": _runs(
        "a compensation throw of its scope (or, without a handler of its own, "
        "naming it in activityRef) compensates its completed activities, at any "
        "depth and for each completed instance of a multi-instance one, last "
        "completed first, in its "
        "place among its scope's; their handlers see the sub-process's local "
        "variables as they were when it completed (Camunda 7's event scopes); a "
        "sub-process still running is not compensated (compensation.py)"
    ),
    "a compensation boundary event on a sub-process with compensation boundary "
    "events inside": _runs(
        "a throw naming the completed sub-process in activityRef runs its "
        "handler alone; a throw without activityRef runs its handler and "
        "compensates the activities inside, at once (Camunda 7) "
        "(compensation.py)"
    ),
    "the same on a multi-instance or ad-hoc sub-process": _refused(
        "not supported: keep either the handler on it or the ones inside",
        by=_BY_COMPENSATION,
    ),
    "a compensation throw directly in an event sub-process": _runs(
        "it compensates the completed activities of the scope the event "
        "sub-process is in (all, or activityRef's, an activity of that scope), "
        "as Camunda 7: an event sub-process does not consume compensation "
        "(compensation.py)"
    ),
    "other compensation inside an event sub-process (a compensation boundary "
    "event or handler, a throw in a sub-process inside it)": _refused(
        "the event sub-process's own subscriptions are not supported; "
        "compensate from the main flow",
        by=_BY_COMPENSATION,
    ),
    'a compensation throw with waitForCompletion="false"': _refused(
        "Camunda 7 ignores it and waits for the handlers, BPMN would not wait",
        by=_BY_COMPENSATION,
    ),
    "a compensation handler that is not a task, loops, has sequence flows or "
    "boundary events, or that no compensation boundary event names": _refused(
        "a handler is a task without flows, started by compensation",
        by=_BY_COMPENSATION,
    ),
    "two compensation boundary events on one activity": _refused(
        "Camunda 7 refuses them too; only one handler would run here",
        by=_BY_COMPENSATION,
    ),
    "a cancel end event outside a transaction, a cancel boundary event on "
    "anything else, a transaction with more than one cancel boundary event or a "
    "cancel end event and none, a multi-instance or loop transaction": _refused(
        "Camunda 7 refuses the first three; the last is not supported",
        by=_BY_COMPENSATION,
    ),
    "a sequence flow without an id": _runs(
        "given an id in the normalized XML (hygiene.py); the original stays as uploaded"
    ),
    "the ids Start and End": _runs(
        "renamed, with every reference, in the normalized XML (SpiffWorkflow "
        "uses them for its own specs)"
    ),
    "Flowable and Activiti attributes and extension elements": _runs(
        "read as their camunda: equivalents, under the same rules; Flowable's "
        "formFieldValidation has no effect (forms are always validated)"
    ),
    'a process with isExecutable="false" beside an executable one': _runs(
        "a pool of another party: neither checked nor run (dropped from the "
        "normalized XML)"
    ),
}

# BPMN attributes whose meaning the engine does not run.
BPMN_ATTRIBUTES: dict[str, Row] = {
    "isForCompensation": _runs(
        "a compensation handler: started only by a compensation throw, for each "
        "completion of the task whose compensation boundary event is associated "
        "with it",
        values=("true", "false"),
    ),
    "completionQuantity": _runs("one token per completion", values=("1",)),
    "startQuantity": _runs("one token starts the activity", values=("1",)),
    "eventGatewayType": _runs(
        "the first event after the gateway wins (a parallel event gateway, which "
        "waits for all of them, is not supported; Camunda 7 ignores the attribute)",
        values=("Exclusive",),
    ),
    "instantiate": _refused(
        "a receive task or event-based gateway that starts the process is not "
        "supported (Camunda 7 ignores the attribute, so it would never start a "
        "case); start the process with a message start event"
    ),
}

_EXTERNAL = (
    "the operation name; with no Python operation registered, an external task that "
    "waits for an outside worker (/engine-rest/external-task)"
)

# Camunda 7 / Operaton attributes (camunda:* and operaton:*), by local name.
VENDOR_ATTRIBUTES: dict[str, Row] = {
    "assignee": _runs(
        "the task's assignee: a name or ${variable}; `initiator` is the starter; "
        "any other expression is refused (checks.py)",
        on=_HUMAN,
    ),
    "candidateUsers": _runs(
        "a comma list, or ${variable} holding a list or a comma list (trimmed); "
        "any other expression is refused",
        on=_HUMAN,
    ),
    "candidateGroups": _runs(
        "a comma list, or ${variable} holding a list or a comma list (trimmed); "
        "any other expression is refused",
        on=_HUMAN,
    ),
    "dueDate": _runs(_DATES, on=_HUMAN),
    "followUpDate": _runs(_DATES, on=_HUMAN),
    "priority": _runs("an integer or ${variable}; anything else is refused", on=_HUMAN),
    "formKey": _runs(
        "kept on the task; camunda-forms:deployment:/app:<file>.form renders that "
        "uploaded Camunda Form (on a startEvent: the process's start form, see "
        "formRef)",
        on=_FORMS,
    ),
    "formRef": _runs(
        "the id of a Camunda Form uploaded with the diagram; on the process's none "
        "startEvent it is the start form (without file pickers); on a message, "
        "signal, timer or conditional start event or a sub-process's start event "
        "it is refused (nobody fills it)",
        on=_FORMS,
    ),
    "formRefBinding": _runs(
        "latest or deployment: the form uploaded with the diagram; version is refused",
        on=_FORMS,
    ),
    "formRefVersion": _runs("refused with formRefBinding=version", on=_FORMS),
    "candidateStarterGroups": _runs(on=("process",)),
    "candidateStarterUsers": _runs(on=("process",)),
    "collection": _runs(
        "multi-instance over a list variable", on=("multiInstanceLoopCharacteristics",)
    ),
    "elementVariable": _runs(on=("multiInstanceLoopCharacteristics",)),
    "decisionRef": _runs(on=("businessRuleTask",)),
    "topic": _runs(_EXTERNAL, on=SERVICE_LIKE),
    "type": _runs("external (with topic)", on=SERVICE_LIKE, values=("external",)),
    "class": _runs(_EXTERNAL, on=SERVICE_LIKE),
    "delegateExpression": _runs(_EXTERNAL, on=SERVICE_LIKE),
    "expression": _runs("the operation name", on=SERVICE_LIKE),
    "resultVariable": _runs(
        "the operation's whole result goes to this variable (without it, a dict "
        "result is merged into the case variables, as an external task's "
        "variables are; any other result is an incident)",
        on=SERVICE_LIKE,
    ),
    "mapDecisionResult": _runs(
        "Camunda's result shapes: singleEntry, singleResult, collectEntries, "
        "resultList (an empty output cell gives its rule no entry for that "
        "output)",
        on=("businessRuleTask",),
    ),
    "asyncBefore": _runs(_NO_EFFECT + _COMMITS + _ANY_VALUE),
    "asyncAfter": _runs(_NO_EFFECT + _COMMITS + _ANY_VALUE),
    "exclusive": _runs(_NO_EFFECT + _ANY_VALUE),
    "jobPriority": _runs(_NO_EFFECT),
    "taskPriority": _runs(_NO_EFFECT),
    "versionTag": _runs(
        "kept with each deployed version (shown on the version page and API); "
        'a call activity with calledElementBinding="versionTag" calls by it'
    ),
    "historyTimeToLive": _runs(_NO_EFFECT),
    "isStartableInTasklist": _runs(
        '"true" (any case) or absent: the start page offers the process; any '
        "other value (false): the start page neither lists nor starts it, and "
        "POST /api/v1/cases/, messages, signals, timers and conditions still "
        "start it (Camunda 7's Tasklist and REST)",
        on=("process",),
    ),
    "modelerTemplate": _runs(_NO_EFFECT),
    "modelerTemplateVersion": _runs(_NO_EFFECT),
    "errorMessage": _runs(
        "on a bpmn:error, the message an error end event throws: what an "
        "errorMessageVariable receives (plain text; an expression is refused "
        "when the file sets an error message variable)",
        on=("error",),
    ),
    "errorCodeVariable": _runs(
        "on a catching error event (boundary or error start event), the "
        "variable that receives the caught error's code (a case variable, as "
        "Camunda 7 sets it); on an error end event refused (Camunda 7 ignores it)",
        on=("errorEventDefinition",),
    ),
    "escalationCodeVariable": _runs(
        "on a catching escalation event (boundary or escalation start event), "
        "the variable that receives the caught escalation's code (a case "
        "variable, as Camunda 7 sets it); on a throwing escalation event refused "
        "(Camunda 7 ignores it)",
        on=("escalationEventDefinition",),
    ),
    "errorMessageVariable": _runs(
        "on a catching error event, the variable that receives the caught "
        "error's message: the thrown bpmn:error's camunda:errorMessage, or the "
        "message of a service's business error or an external task's bpmnError "
        "(null when there is none)",
        on=("errorEventDefinition",),
    ),
    "calledElementBinding": _runs(
        "resolved when the call starts, as in Camunda 7: latest calls the latest "
        "deployed version (a process of the file: the one in the file), "
        "deployment the one in the file (a process of another file is refused), "
        "version calledElementVersion, versionTag the one version whose "
        "camunda:versionTag is calledElementVersionTag (none or several: an "
        "incident)",
        on=("callActivity",),
        values=("latest", "deployment", "version", "versionTag"),
    ),
    "decisionRefBinding": _runs(
        "decisions come from the DMN files uploaded with the diagram",
        on=("businessRuleTask",),
        values=("latest", "deployment"),
    ),
    "calledElementVersion": _runs(
        'with calledElementBinding="version", the deployed version number a call '
        "runs (a number; anything else, a process of the same file and a key also "
        "called with another binding are refused)",
        on=("callActivity",),
    ),
    "calledElementVersionTag": _runs(
        'with calledElementBinding="versionTag", the camunda:versionTag of the '
        "version a call runs (a fixed text; an expression, a process of the same "
        "file and a key also called with another binding are refused)",
        on=("callActivity",),
    ),
    "decisionRefVersion": _refused(
        "decisions come from the DMN files uploaded with the diagram"
    ),
    "decisionRefVersionTag": _refused(
        "decisions come from the DMN files uploaded with the diagram"
    ),
    "initiator": _runs(
        "the variable set to the starter's username", on=("startEvent",)
    ),
    "diagramRelationId": _runs(_NO_EFFECT),
    "async": _runs(_NO_EFFECT + _COMMITS + _ANY_VALUE),
    "calledElementTenantId": _runs(_NO_EFFECT),
    "decisionRefTenantId": _runs(_NO_EFFECT),
    "formHandlerClass": _refused("Java form handlers do not run here"),
    "variableMappingClass": _refused("Java variable mappings do not run here"),
    "variableMappingDelegateExpression": _refused(
        "Java variable mappings do not run here"
    ),
    "resource": _refused(
        "external script resources are not supported; paste the script",
        by="normalize._scripts",
    ),
}
_MESSAGE_EXPRESSION = (
    "read as the diagram's dialect says (dialect.py): in a diagram drawn for "
    "Camunda, Camunda 7 runs camunda:expression on a message event as the "
    "event's implementation (as a service task runs it) and sends no message, "
    "and text without ${...} is a literal that does nothing; in a SpiffArena "
    "diagram SpiffArena does not read it (SpiffWorkflow's Camunda parser sent "
    "its Python value as the payload). For a payload, write "
    "spiffworkflow:messagePayload on the throw and spiffworkflow:messageVariable "
    "on the catch; for an operation, draw a send task"
)
_PAYLOAD_WAY = (
    "for a payload, write spiffworkflow:messagePayload on the throw and "
    "spiffworkflow:messageVariable on the catch"
)


def _message_expression_refusal(definition: etree._Element, name: str) -> str:
    """Why camunda:expression / camunda:resultVariable on a message event is
    refused, in the reading of the diagram's dialect (`_MESSAGE_EXPRESSION`)."""
    value = (vendor_attr(definition, name) or "").strip()
    if not is_camunda_dialect(definition):
        return (
            f"camunda:{name} {value!r} on a message event: SpiffArena does not "
            "read it (its parser reads spiffworkflow:messagePayload and "
            "spiffworkflow:messageVariable), while SpiffWorkflow's Camunda parser "
            f"read it as the message's Python payload; {_PAYLOAD_WAY}"
        )
    if name == "resultVariable":
        return (
            f"camunda:resultVariable {value!r} on a message event: Camunda 7 "
            "stores there the value of the event's camunda:expression "
            "implementation, which Laneway does not run on a message event "
            "(SpiffWorkflow's Camunda parser put a caught payload there); "
            f"{_PAYLOAD_WAY}"
        )
    if "${" in value or "#{" in value:
        return (
            f"camunda:expression {value!r} on a message event: Camunda 7 runs it "
            "as the event's implementation, as a service task runs it, and "
            "sends no message; Laneway runs implementations on service and send "
            "tasks only: draw a send task with this expression"
        )
    return (
        f"camunda:expression {value!r} on a message event: Camunda 7 runs it as "
        "the event's implementation instead of sending the message, and reads "
        "such text (no ${...}) as a literal that does nothing, so the event "
        "would do nothing; in a diagram drawn for Camunda it is not the Python "
        f"payload SpiffWorkflow's Camunda parser read it as; {_PAYLOAD_WAY}"
    )


def _message_expression_problems(root: etree._Element) -> Iterator[Problem]:
    for definition in root.iterfind(".//bpmn:messageEventDefinition", NSMAP):
        names = [n for n in _MESSAGE_NAMES if vendor_attr(definition, n)]
        if "expression" in names and is_camunda_dialect(definition):
            names = ["expression"]  # the implementation its result belongs to
        for name in names:
            why = _message_expression_refusal(definition, name)
            yield _problem(definition, _owner(definition), why)


_MESSAGE_NAMES = ("expression", "resultVariable")
_BY_MESSAGE = "support._message_expression_problems"

VENDOR_ATTRIBUTES_ON: dict[tuple[str, str], Row] = {
    ("conditionalEventDefinition", "variableName"): _runs(
        "the condition is evaluated on the variable events of this variable "
        "only (its creation, update or deletion; conditional_events.py)"
    ),
    ("conditionalEventDefinition", "variableEvents"): _runs(
        "a comma list of create, update, delete: the condition is evaluated "
        "on those variable events only; any other word is refused"
    ),
    ("messageEventDefinition", "expression"): _refused(
        _MESSAGE_EXPRESSION, by=_BY_MESSAGE
    ),
    ("messageEventDefinition", "resultVariable"): _refused(
        _MESSAGE_EXPRESSION, by=_BY_MESSAGE
    ),
    ("scriptTask", "resultVariable"): _runs(
        "with scriptFormat juel, the script's value (Camunda 7 evaluates a JUEL "
        "script as one expression); on a Python script it is refused "
        "(normalize._scripts: Camunda 7 stores what its Python engine returns, "
        "not the value of the script's last line); JavaScript and Groovy script "
        "tasks are refused whole"
    ),
    ("businessRuleTask", "resultVariable"): _runs(  # with a decisionRef
        "the decision's result, shaped as mapDecisionResult says (resultList)"
    ),
}
# Camunda 7 / Operaton extension elements, by local name.
VENDOR_ELEMENTS: dict[str, Row] = {
    "formData": _runs(
        "the task form; a field left out of a submission takes its defaultValue, "
        "else keeps its variable (Camunda 7's FormFieldHandler)"
    ),
    "formField": _runs(
        "a defaultValue written as an expression (${...}) is refused: it would "
        "be shown and kept as its text (checks._form_default_expressions)"
    ),
    "validation": _runs(),
    "constraint": _runs(
        "required, readonly (a value submitted for it is refused; left out, "
        "the field takes its defaultValue), min/max, minlength/maxlength (in "
        "UTF-16 units, as Java), and datePattern (a date field's Java pattern, "
        "dd/MM/yyyy when none is named)"
    ),
    "value": _runs(
        "enum options (a submitted value must be one of them, or null when "
        "the field is not required); the items of a camunda:list"
    ),
    "properties": _runs("task properties (e.g. separateFrom)"),
    "property": _runs(),
    "inputOutput": _runs(
        "input and output parameters of service-like tasks and their connectors; "
        "on a DMN business rule task, mapped around the decision (it reads the "
        "inputs; the outputs read its result variable); on a user task, script "
        "task or embedded sub-process, Camunda 7's variable scope of the "
        "activity (io_mapping.py): the inputs are local variables, mapped "
        "before its start listeners and seen by its form, listeners, assignee, "
        "candidate, date and priority expressions, script and (a sub-process) "
        "every activity inside it; the outputs are evaluated when it completes, "
        "after its end listeners, and set on the enclosing scope; its local "
        "variables then end. On a call activity the inputs are its local "
        "variables, which camunda:in reads; the outputs are evaluated after "
        "camunda:out. On a multi-instance activity the inputs are mapped per "
        "instance (its element variable and loopCounter readable); output "
        "parameters there, and the mapping on an event sub-process, a start or "
        "boundary event or a gateway, are refused as Camunda 7 refuses them; "
        "a manual, receive or plain task maps it as a user task does (a "
        "receive task's outputs read what its message delivered); on an "
        "intermediate catch event the inputs are mapped when it is entered, "
        "the outputs when it is triggered (they read the message's payload); "
        "its timer, message or signal name reading its own input, "
        "an event after an event-based gateway, a link event, a standard loop "
        "refused, located (support._io_problems). On a none, message or "
        "signal throw or end event the inputs are mapped before the throw, "
        "which reads them; an end event's outputs are refused as Camunda 7 "
        "refuses them; other throws refused",
        on=(*SERVICE_LIKE, "connector", *IO_ACTIVITIES),
    ),
    "inputParameter": _runs(
        "text, ${...}, camunda:list or camunda:map; no text is null; a "
        "camunda:script (ScriptValueProvider) runs when it is one inline Groovy "
        "or JavaScript expression (or Groovy's return of one) within the subset "
        "of listener scripts (listener_scripts.translate_expression), other "
        "scripts are refused; as in Camunda 7 a variable local to the "
        "activity, mapped in "
        "order (a later one reads an earlier one); on a service-like task an "
        "operation parameter: a result variable of that name stays with the "
        "task unless an output parameter maps it; on a user or script task, a "
        "form field, listener or script setting that name sets the local "
        "variable, gone with the activity unless an output parameter maps it",
        on=("inputOutput",),
    ),
    "outputParameter": _runs(
        "text, ${...}, camunda:list, camunda:map or a one-expression Groovy or "
        "JavaScript camunda:script, as an input parameter; "
        "on a service-like task set on the case after the operation's result "
        "is merged, overriding it (evaluated over the case, the input "
        "parameters, the result's variables and an external task's "
        "localVariables), as in Camunda 7; a connector's "
        "response reaches the case only through its output parameters (one "
        "named like an input parameter of the task stays in the task's scope); "
        "a connector's input parameters read the task's input parameters. On a "
        "user task, script task or sub-process, evaluated in the activity's "
        "scope when it completes and set on the enclosing scope (not when an "
        "interrupting event cancels it)",
        on=("inputOutput",),
    ),
    "in": _runs(
        'call activity input: source/target, sourceExpression or variables="all" '
        '(local="true" with variables="all" or source on a call activity with '
        "camunda:inputOutput: its input parameters only, a source it does not "
        "hold being null), all of them in their "
        "order; a call activity of a Camunda diagram without one passes no "
        "variable, as in Camunda 7; on a signal throw event's "
        "signalEventDefinition, the variables the signal passes to the cases it "
        "reaches and starts",
        on=("callActivity", "signalEventDefinition"),
    ),
    "out": _runs(
        'call activity output: source/target, sourceExpression or variables="all" '
        '(local="true" on a call activity with camunda:inputOutput: set on its '
        "own scope, gone with it unless an output parameter maps it)",
        on=("callActivity",),
    ),
    "connector": _runs("the connector id is the operation name", on=SERVICE_LIKE),
    "connectorId": _runs(),
    "failedJobRetryTimeCycle": _runs(
        "on a service, send or business-rule task calling an operation: R3/PT10M "
        "runs it at most 3 times, 10 minutes apart (Camunda counts the first "
        "call), then an incident; PT1M,PT5M waits each in turn (one attempt per "
        "duration more); expressions and cycles without a count are refused. "
        "Elsewhere (timers, async continuations) no effect: those steps are not "
        "retried automatically"
    ),
    "field": _refused("Java field injection does not run here; use input parameters"),
    "string": _refused("Java field injection does not run here; use input parameters"),
    "expression": _refused(
        "Java field injection does not run here; use input parameters"
    ),
    "executionListener": _runs(
        "${execution.setVariable('x', value)} (or setVariableLocal, or "
        "removeVariable('x'), where the execution is the process instance: "
        "execution_scope.py; refused elsewhere, located), an inline Python "
        "camunda:script "
        "(assigning variables by name) or an inline JavaScript/Groovy one within "
        "the subset translated to Python (listener_scripts.py): on a task "
        "(start/end, as its pre/post script), a sequence flow (take, as a script "
        "task on the flow), a none start event, an intermediate event or a none "
        "end event (as a script task after or before it), an exclusive, "
        "parallel or inclusive gateway (start: on each incoming flow, for every "
        "token that arrives; end: after an exclusive gateway's choice on each "
        "outgoing flow, before its take listeners, or before a parallel or "
        "inclusive split), the process (start: after each start event, before "
        "the start events' own; end: when the instance ends, after the last end "
        "event's end listeners, after what a terminate end event cancelled, or "
        "last when the case or the call activity around a called instance is "
        "cancelled, unless custom listeners are skipped: process_end.py), in "
        "the drawn order within an event and in "
        "Camunda 7's lifecycle order (start, take, end; on a task start, "
        "create, assignment, complete, end), per instance on a multi-instance "
        "activity (listeners.py, listener_places.py); the end listener of a "
        "task or intermediate catch event also runs when it is cancelled, "
        "innermost first, as Camunda 7 deletes it with its listeners "
        "(ExecutionListenerTest.testOnCancellingBoundaryEvents; "
        "cancel_listeners.py): by an interrupting boundary event or event "
        "sub-process, a terminate end event on a parallel path, a parallel "
        "multi-instance completion condition (what it sets is seen by the path "
        "that goes on), its call activity cancelled (the end listeners of the "
        "activities active in the called instance and in the instances it "
        "calls), or the case cancelled by an operator without skipping custom "
        "listeners (the cockpit's instance modification runs none); refused "
        "are a joining parallel or "
        "inclusive gateway's end listener "
        "(Camunda 7 runs it for every joined token), an inclusive split's end "
        "listener setting what its conditions read, an event-based gateway's; "
        "Java, scripts outside the subset and other places are refused, located, "
        "naming the construct (checks._listeners); on a service-like task with "
        "camunda:inputOutput (Camunda 7 runs it in the task's scope) one using an "
        "input parameter, or setting what the inputs (start) or the outputs (end) "
        "read, is refused (checks._listener_scopes); on a user task, script task "
        "or sub-process with one it runs in the activity's scope, after the "
        "inputs are mapped and before the outputs (io_mapping.py)",
    ),
    "taskListener": _runs(
        "${task.setVariable('x', value)}, an inline Python camunda:script or an "
        "inline JavaScript/Groovy one within the translated subset "
        "(listener_scripts.py: setVariable, getVariable, getAssignee, if, ? :; "
        "`if (x) task.setAssignee(x)` on create becomes the assignee; so does "
        "${task.setAssignee('name')} as a create listener's expression on a "
        "task that names no assignee) on create, "
        "assignment or complete (create and complete as the task's pre/post "
        "script, listeners.py; assignment whenever the assignee is set: after "
        "create when the task is created with one, and on claim, assign, "
        "delegate, unclaim, engine.services.case_task_assigned); per instance on "
        "a multi-instance activity; a create listener setting a variable the "
        "task's assignee, candidates, dates or priority read is refused (Camunda "
        "7 resolves them before it runs); delete when the task is cancelled "
        "uncompleted (an interrupting boundary event or event sub-process, a "
        "terminate end event, a completion condition, its call activity or the "
        "case cancelled unless custom listeners are skipped), before its end "
        "execution listeners, never on completion (cancel_listeners.py; "
        "task.assignee / getAssignee() there refused); a value reading task, "
        "execution or authenticatedUserId (Camunda 7's engine objects, not "
        "variables) is refused; Java, scripts outside the subset and the update "
        "and timeout events (Camunda 7 runs them on a property change, on a "
        "timer while it is open) are refused, located, "
        "naming the construct; a listener without an event or with another word, "
        "as Camunda 7 refuses it, and one on anything but a user task, which "
        "Camunda 7 ignores (checks._listeners)"
    ),
    "script": _refused(
        "script parameter values cannot be evaluated here; use text, ${...}, "
        "camunda:list or camunda:map",
        by="normalize._operator_parameters",
    ),
    "list": _runs(
        "a list parameter value (nested as Camunda allows: values, lists, maps)"
    ),
    "map": _runs("a map parameter value (nested as Camunda allows)"),
    "entry": _runs(),
    "potentialStarter": _refused(
        "use camunda:candidateStarterGroups / candidateStarterUsers"
    ),
    "errorEventDefinition": _refused(
        "error event definitions of external tasks are not supported; throw a "
        "business error from the operation (or bpmnError from the external worker)"
    ),
    "formProperty": _refused("legacy form properties are not read; use formData"),
}

# SpiffArena extension elements (spiffworkflow:*), by local name.
SPIFF_ELEMENTS: dict[str, Row] = {
    "serviceTaskOperator": _runs("the operation a service task runs on the worker"),
    "parameters": _runs(),
    "parameter": _runs("an operation parameter (a Python expression)"),
    "outputParameter": _runs(
        "maps the operation's result to a variable (a Python expression over "
        "the result's variables; normalized from camunda:outputParameter)"
    ),
    "retry": _runs("retries and backoff of the operation"),
    "calledDecisionId": _runs("the DMN decision of a business rule task"),
    "preScript": _runs("a Python script before the task (sandboxed)"),
    "postScript": _runs("a Python script after the task (sandboxed)"),
    "assignmentScript": _runs(
        "a task's assignment listeners, translated (listeners.py); run whenever "
        "its assignee is set (sandboxed)"
    ),
    "properties": _runs("task properties (candidates, separateFrom, ...)"),
    "property": _runs(),
    "messagePayload": _runs("the payload a message throw sends"),
    "messageVariable": _runs("the variable a message catch fills"),
    "processVariableCorrelation": _runs("message correlation"),
    "propertyId": _runs("the correlation property"),
    "expression": _runs("the correlation value (a Python expression)"),
    "taskMetadataValues": _runs(_NO_EFFECT),
    "taskMetadataValue": _runs(_NO_EFFECT),
    "instructionsForEndUser": _runs(_NO_EFFECT),
    "unitTests": _runs(_NO_EFFECT),
    "unitTest": _runs(_NO_EFFECT),
    "inputJson": _runs(_NO_EFFECT),
    "expectedOutputJson": _runs(_NO_EFFECT),
    "variableName": _runs(
        "on a bpmn:signal: the variable a catch puts the signal's payload in"
    ),
    "payloadExpression": _runs(
        "on a bpmn:signal: the payload a signal throw sends (a Python expression)",
        on=("signal",),
    ),
    "category": _runs(_NO_EFFECT),
    "signalButtonLabel": _runs(_NO_EFFECT),
    "allowGuest": _runs(_NO_EFFECT),
    "guestConfirmation": _runs(_NO_EFFECT),
}
_ZEEBE_ONLY = "a Camunda 8 (Zeebe) extension this engine does not read"
# Camunda 8 (zeebe:*) extension elements: only the task type is read.
ZEEBE_ELEMENTS: dict[str, Row] = {
    "taskDefinition": _runs("its type is the operation name", on=SERVICE_LIKE),
    **{
        name: _refused(_ZEEBE_ONLY)
        for name in (
            "assignmentDefinition",
            "calledDecision",
            "calledElement",
            "formDefinition",
            "header",
            "input",
            "ioMapping",
            "loopCharacteristics",
            "output",
            "properties",
            "property",
            "subscription",
            "taskHeaders",
            "userTask",
            "userTaskForm",
        )
    },
}
SPIFF_ATTRIBUTES: dict[str, Row] = {
    "endListener": _runs(
        "set by Laneway on a task or catch event whose end listener runs after it "
        "waited (with endListenerScript)"
    ),
    "endListenerScript": _runs(
        "set by Laneway beside endListener: the end listener's lines, which run "
        "when the element is cancelled (an interrupting event, a terminate end "
        "event, a completion condition, the call or the case around it; Camunda 7 "
        "deletes it with its listeners)"
    ),
    "deleteListenerScript": _runs(
        "set by Laneway on a user task with delete task listeners: their lines, "
        "which run when the task is cancelled uncompleted, before its end "
        "listeners (Camunda 7 fires delete as the task is deleted)"
    ),
    "processEndListenerScript": _runs(
        "set by Laneway on a process with end execution listeners: their lines, "
        "which run when its instance ends, completed, terminated or cancelled "
        "(Camunda 7's PvmAtomicOperationProcessEnd)"
    ),
    "scriptsOnInstances": _runs("pre/post scripts run on each multi-instance instance"),
    "listenerScripts": _runs(
        "set by Laneway on a script task whose execution listeners became its "
        "pre/post scripts: they run (SpiffWorkflow reads none on a script task)"
    ),
    "assigneeIfSet": _runs(
        "on a human task (`true`): its assignee's variable may be missing, the "
        "task is then unassigned (a create listener's `if (x) task.setAssignee(x)` "
        "becomes it); without it a missing variable is an incident, as in Camunda 7"
    ),
}


def _problem(element: etree._Element, owner: etree._Element, why: str) -> Problem:
    return Problem(
        f"The {describe(owner)} is refused: {why}.",
        element.sourceline,
        owner.get("id"),
    )


_PARTS = frozenset({"performer", "humanPerformer", "potentialOwner"})


def _owner(element: etree._Element) -> etree._Element:
    """Return the flow element (task, event, flow, process) a part belongs to."""
    node: etree._Element | None = element
    while node is not None and (
        not node.get("id")
        or etree.QName(node).namespace != BPMN
        or local_name(node) not in ELEMENTS
        or local_name(node) in _PARTS
    ):
        node = node.getparent()
    return node if node is not None else element


def _element_problems(root: etree._Element) -> Iterator[Problem]:
    tags = _refused_tags()
    if not tags:
        return
    for element in root.iter(*tags):  # only the refused kinds, found by lxml
        name = local_name(element)
        row = ELEMENTS.get(name) or EVENT_DEFINITIONS.get(name)
        if row is not None and row.status == REFUSED and not row.by:
            owner = (
                _owner(element)
                if name in _PARTS or name in EVENT_DEFINITIONS
                else element
            )
            yield _problem(element, owner, row.note)


def _multiple_events(root: etree._Element) -> Iterator[Problem]:
    if not _several_definitions(root):
        return
    for element in root.iter(f"{{{BPMN}}}*"):
        definitions = [
            c
            for c in element
            if isinstance(c.tag, str) and local_name(c) in EVENT_DEFINITIONS
        ]
        if len(definitions) > 1:
            yield _problem(element, element, MULTIPLE_EVENTS.note)


# The attributes BPMN 2.0's schema (Semantic.xsd) types xsd:boolean.
XSD_BOOLEANS = (
    "cancelActivity",
    "cancelRemainingInstances",
    "instantiate",
    "isClosed",
    "isCollection",
    "isExecutable",
    "isForCompensation",
    "isImmediate",
    "isInterrupting",
    "isSequential",
    "mustUnderstand",
    "parallelMultiple",
    "testBefore",
    "triggeredByEvent",
    "waitForCompletion",
)


def _boolean_form_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse a boolean attribute written other than "true" or "false".

    The schema accepts "1", "0" and spaces around the word; Camunda 7 (and
    every check here) compares the exact text, so such a value has two readings.
    """
    for element in _having_attributes(root, XSD_BOOLEANS):
        for name in XSD_BOOLEANS:
            value = element.get(name)
            if value is not None and value not in ("true", "false"):
                yield _problem(
                    element, _owner(element), f"{name}={value!r}: {BOOLEAN_FORM.note}"
                )


def _bpmn_attribute_problems(root: etree._Element) -> Iterator[Problem]:
    for element in _having_attributes(root, tuple(BPMN_ATTRIBUTES)):
        for name, row in BPMN_ATTRIBUTES.items():
            value = (element.get(name) or "").strip()
            if row.status == REFUSED and value == "true":
                yield _problem(element, _owner(element), row.note)
            elif row.status == RUNS and value and value not in row.values:
                yield _problem(
                    element, _owner(element), f"{name}={value!r}: {row.note}"
                )


def _vendor_row(element: etree._Element, owner_kind: str, name: str) -> Row | None:
    if owner_kind == "businessRuleTask" and not vendor_attr(element, "decisionRef"):
        owner_kind = "serviceTask"  # runs as a service task (normalize.py)
    return VENDOR_ATTRIBUTES_ON.get((owner_kind, name)) or VENDOR_ATTRIBUTES.get(name)


def _vendor_attribute_problems(root: etree._Element) -> Iterator[Problem]:
    for element in _having_attributes(root, ("camunda:*", "operaton:*")):
        for key, value in element.items():
            if not key.startswith(_VENDOR_KEYS):
                continue
            qname = etree.QName(key)
            kind = local_name(element)
            row = _vendor_row(element, kind, qname.localname)
            why = _vendor_refusal(row, kind, qname.localname, value)
            if why:
                yield _problem(element, _owner(element), why)


def _vendor_refusal(row: Row | None, kind: str, name: str, value: str) -> str:
    if row is None:
        return f"the attribute {name!r} would be ignored here"
    if row.status == REFUSED:
        return "" if row.by else f"{name}: {row.note}"
    if row.on and kind not in row.on:
        return f"{name} would be ignored on a {kind} (it works on {', '.join(row.on)})"
    if row.values and value.strip() not in row.values:
        return f"{name}={value.strip()!r}: {row.note} (only {', '.join(row.values)})"
    return ""


def _spiff_problems(root: etree._Element) -> Iterator[Problem]:
    for element in root.iter(f"{{{SPIFF}}}*"):
        name = local_name(element)
        if name not in SPIFF_ELEMENTS:
            why = f"the extension element {name!r} would be ignored here"
            yield _problem(element, _owner(element), why)
    for element in _having_attributes(root, ("spiffworkflow:*",)):
        for key in element.keys():
            if not key.startswith(_SPIFF_KEY):
                continue
            qname = etree.QName(key)
            if qname.namespace == SPIFF and qname.localname not in SPIFF_ATTRIBUTES:
                why = f"the attribute {qname.localname!r} would be ignored here"
                yield _problem(element, _owner(element), why)


def _extension_kind(element: etree._Element) -> str:
    """Return the BPMN element an extension element sits on (or its parent's name)."""
    parent = element.getparent()
    if parent is None:
        return ""
    if local_name(parent) == "extensionElements":
        holder = parent.getparent()
        return local_name(holder) if holder is not None else ""
    return local_name(parent)


# Where Camunda 7 itself refuses camunda:inputOutput (BpmnParse): on a start
# or boundary event (ensureNoIoMappingDefined: "camunda:inputOutput mapping
# unsupported for element type 'startEvent'"; its reference lists "All Events
# (except Start and Boundary Events)"), and on anything but a task, an event,
# a sub-process, a transaction or a call activity
# (checkActivityInputOutputSupported).
_IO_REFUSED_BY_CAMUNDA = ("startEvent", "boundaryEvent")


def _io_elsewhere(kind: str) -> str:
    """Why camunda:inputOutput on a `kind` is refused, as precisely as known."""
    if kind in _IO_REFUSED_BY_CAMUNDA:
        return (
            f"camunda:inputOutput on a {kind} is not supported: Camunda 7 "
            'refuses it too ("camunda:inputOutput mapping unsupported for '
            f"element type '{kind}'\"); map the variables in the activity "
            "after it"
        )
    return (
        f"camunda:inputOutput on a {kind} is not supported: Camunda 7 refuses "
        f'it too ("camunda:inputOutput mapping unsupported for element type '
        f"'{kind}'\")"
    )


def _extension_problems(
    root: etree._Element, namespace: str, table: dict[str, Row]
) -> Iterator[Problem]:
    """Refuse the extension elements the table refuses or does not know.

    Inside a refused element nothing more is reported (one problem per construct).
    """
    refused: set[etree._Element] = set()
    for element in root.iter(f"{{{namespace}}}*"):
        if element.getparent() in refused:
            refused.add(element)
            continue
        name = local_name(element)
        row = table.get(name)
        kind = _extension_kind(element)
        why = _vendor_refusal(row, kind, name, "")
        if row is None:
            why = f"the extension element {name!r} would be ignored here"
        elif why and name == "inputOutput":
            why = _io_elsewhere(kind)
        if why:
            refused.add(element)
            yield _problem(element, _owner(element), why)


def _vendor_element_problems(root: etree._Element) -> Iterator[Problem]:
    for namespace in VENDOR_NAMESPACES:
        yield from _extension_problems(root, namespace, VENDOR_ELEMENTS)
    yield from _extension_problems(root, ZEEBE, ZEEBE_ELEMENTS)


def _has_message(task: etree._Element) -> bool:
    return bool(task.get("messageRef")) or (
        task.find("bpmn:messageEventDefinition", NSMAP) is not None
    )


def _calls_operation(task: etree._Element) -> bool:
    path = "bpmn:extensionElements/spiffworkflow:serviceTaskOperator"
    return task.find(path, NSMAP) is not None


def _task_problems(root: etree._Element) -> Iterator[Problem]:
    """Tasks that would be skipped or wait forever: nothing to send, receive or run."""
    for task in root.iterfind(".//bpmn:sendTask", NSMAP):
        if not _calls_operation(task) and not _has_message(task):
            yield _problem(task, task, SEND_WITHOUT_IMPLEMENTATION.note)
    for task in root.iterfind(".//bpmn:receiveTask", NSMAP):
        if not _has_message(task) and _after_event_gateway(task):
            yield _problem(task, task, RECEIVE_WITHOUT_MESSAGE.note)
    for task in root.iterfind(".//bpmn:scriptTask", NSMAP):
        script = task.find("bpmn:script", NSMAP)
        text = (script.text or "").strip() if script is not None else ""
        if not text and not any(
            task.get(f"{{{ns}}}resource") for ns in VENDOR_NAMESPACES
        ):
            yield _problem(task, task, SCRIPT_WITHOUT_SCRIPT.note)


_CONDITIONAL_SOURCES = ("exclusiveGateway", "inclusiveGateway")


def _conditional_flow_problems(root: etree._Element) -> Iterator[Problem]:
    """Conditions and defaults SpiffWorkflow would ignore (outside gateways)."""
    nodes = {i: e for e in root.iter(f"{{{BPMN}}}*") if (i := e.get("id"))}
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        source = nodes.get(flow.get("sourceRef"))
        target = nodes.get(flow.get("targetRef"))
        if source is not None and source.tag == _END_EVENT:
            yield _problem(flow, flow, FLOW_OUT_OF_END.note)
        if target is not None and target.tag in _STARTS:
            yield _problem(flow, flow, FLOW_INTO_START.note)
        if source is None or source.tag in _CONDITIONAL_SOURCE_TAGS:
            continue
        if next(flow.iterchildren(_CONDITION), None) is not None:
            yield _problem(flow, flow, CONDITIONAL_FLOWS.note)
        elif source.get("default") == flow.get("id"):
            yield _problem(flow, flow, CONDITIONAL_FLOWS.note)


def _none_start_problems(root: etree._Element) -> Iterator[Problem]:
    """Every none start event of a process after its first (a sub-process with
    several start events is refused by SpiffWorkflow's parser)."""
    for process in root.iterfind("bpmn:process", NSMAP):
        if process.get("isExecutable") == "false":
            continue  # another party's pool: dropped, never run (hygiene.py)
        starts = [
            start
            for start in process.iterfind("bpmn:startEvent", NSMAP)
            if not any(
                isinstance(c.tag, str) and local_name(c) in EVENT_DEFINITIONS
                for c in start
            )
        ]
        for start in starts[1:]:
            yield _problem(start, start, NONE_STARTS.note)


def _after_event_gateway(event: etree._Element) -> bool:
    container = event.getparent()
    gateways = {
        g.get("id") for g in container.iterfind("bpmn:eventBasedGateway", NSMAP)
    }
    return any(
        f.get("targetRef") == event.get("id") and f.get("sourceRef") in gateways
        for f in container.iterfind("bpmn:sequenceFlow", NSMAP)
    )


# Error, escalation, conditional and link starts there are refused by their own checks.
_SUBPROCESS_START_KINDS = frozenset(
    {"messageEventDefinition", "signalEventDefinition", "timerEventDefinition"}
)


def _subprocess_start_problems(root: etree._Element) -> Iterator[Problem]:
    """Start events with a trigger inside a sub-process that is not an event one."""
    for sub in root.xpath(
        ".//bpmn:subProcess[not(@triggeredByEvent='true')] | .//bpmn:transaction",
        namespaces=NSMAP,
    ):
        for start in sub.iterfind("bpmn:startEvent", NSMAP):
            if any(
                isinstance(c.tag, str) and local_name(c) in _SUBPROCESS_START_KINDS
                for c in start
            ):
                yield _problem(start, start, SUBPROCESS_EVENT_START.note)


_ACTIVITIES = ACTIVITIES | {"adHocSubProcess"}


_CATCHING = frozenset({"startEvent", "intermediateCatchEvent", "boundaryEvent"})


def _link_catch(catch: etree._Element) -> bool:
    """Whether it is a link catch event, left without its definition by normalize."""
    container = catch.getparent()
    return any(
        flow.get("targetRef") == catch.get("id") and is_link_flow(flow, container)
        for flow in container.iterfind("bpmn:sequenceFlow", NSMAP)
    )


def _event_subprocess_problems(root: etree._Element) -> Iterator[Problem]:
    esps = {
        sub.get("id"): sub
        for sub in root.xpath(
            ".//bpmn:subProcess[@triggeredByEvent='true']", namespaces=NSMAP
        )
    }
    for sub in esps.values():
        for start in sub.iterfind("bpmn:startEvent", NSMAP):
            if not any(
                isinstance(c.tag, str) and local_name(c) in EVENT_DEFINITIONS
                for c in start
            ):
                yield _problem(start, start, EVENT_SUBPROCESS_SHAPE.note)
        loop = sub.xpath(
            "bpmn:multiInstanceLoopCharacteristics | bpmn:standardLoopCharacteristics",
            namespaces=NSMAP,
        )
        if loop:
            yield _problem(loop[0], sub, EVENT_SUBPROCESS_LOOP.note)
    if not esps:
        return  # no event sub-process: no flow or boundary event can touch one
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP):
        if flow.get("sourceRef") in esps or flow.get("targetRef") in esps:
            yield _problem(flow, flow, EVENT_SUBPROCESS_SHAPE.note)
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NSMAP):
        if boundary.get("attachedToRef") in esps:
            yield _problem(boundary, boundary, EVENT_SUBPROCESS_SHAPE.note)


def _event_gateway_problems(
    root: etree._Element, nodes: dict[str | None, etree._Element]
) -> Iterator[Problem]:
    for gateway in root.iterfind(".//bpmn:eventBasedGateway", NSMAP):
        targets = [
            nodes.get(flow.get("targetRef"))
            for flow in gateway.getparent().iterfind("bpmn:sequenceFlow", NSMAP)
            if flow.get("sourceRef") == gateway.get("id")
        ]
        timers = [
            t
            for t in targets
            if t is not None
            and local_name(t) == "intermediateCatchEvent"
            and t.find("bpmn:timerEventDefinition", NSMAP) is not None
        ]
        for timer in timers[1:]:
            yield _problem(timer, timer, EVENT_GATEWAY_TIMERS.note)
        for target in targets:
            if target is not None and local_name(target) not in (
                "intermediateCatchEvent",
                "receiveTask",
            ):
                yield _problem(gateway, gateway, EVENT_GATEWAY_TARGET.note)
            elif target is not None and _flow_count(target, "targetRef") > 1:
                yield _problem(target, target, EVENT_GATEWAY_TARGET_SHARED.note)
            if target is not None and local_name(target) == "receiveTask":
                if any(
                    target.find(f"bpmn:{loop}", NSMAP) is not None for loop in _LOOPS
                ):
                    yield _problem(target, target, EVENT_GATEWAY_RECEIVE_LOOP.note)
                for event in target.getparent().iterfind("bpmn:boundaryEvent", NSMAP):
                    if event.get("attachedToRef") == target.get("id"):
                        yield _problem(
                            target, target, EVENT_GATEWAY_RECEIVE_BOUNDARY.note
                        )


def _flow_count(element: etree._Element, end: str) -> int:
    """The sequence flows of its container whose `end` (sourceRef, targetRef)
    is `element`."""
    return sum(
        1
        for flow in element.getparent().iterfind("bpmn:sequenceFlow", NSMAP)
        if flow.get(end) == element.get("id")
    )


def _container_id(element: etree._Element) -> str | None:
    parent = element.getparent()
    return parent.get("id") if parent is not None else None


def _multi_instance_shape_problems(root: etree._Element) -> Iterator[Problem]:
    for loop in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics", NSMAP):
        cardinality = loop.find("bpmn:loopCardinality", NSMAP)
        empty = cardinality is not None and not (cardinality.text or "").strip()
        collection = bool(vendor_attr(loop, "collection")) or (
            loop.find("bpmn:loopDataInputRef", NSMAP) is not None
        )
        element = bool(vendor_attr(loop, "elementVariable"))
        if empty or (element and not collection):
            activity = loop.getparent()
            yield _problem(loop, activity, MULTI_INSTANCE_SHAPE.note)
        elif cardinality is not None and collection:
            note = MULTI_INSTANCE_CARDINALITY_AND_COLLECTION.note
            yield _problem(loop, loop.getparent(), note)


_NAMED_PARTS = {"inputParameter": "name", "outputParameter": "name", "formField": "id"}


def _unnamed_part_problems(root: etree._Element) -> Iterator[Problem]:
    for namespace in VENDOR_NAMESPACES:
        for part, attribute in _NAMED_PARTS.items():
            for element in root.iter(f"{{{namespace}}}{part}"):
                if not (element.get(attribute) or "").strip():
                    owner = _owner(element)
                    yield _problem(element, owner, UNNAMED_PART.note)


def _dead_end_gateway_problems(root: etree._Element) -> Iterator[Problem]:
    for gateway in root.xpath(
        ".//bpmn:exclusiveGateway | .//bpmn:inclusiveGateway", namespaces=NSMAP
    ):
        if _flow_count(gateway, "sourceRef") == 0:
            yield _problem(gateway, gateway, CHOOSING_GATEWAY_DEAD_END.note)


def _event_problems(root: etree._Element) -> Iterator[Problem]:
    """Events that wait for nothing, beside nothing, or for the wrong moment."""
    # Only event gateways and boundary events look elements up by id.
    looked_up = root.iter(f"{{{BPMN}}}eventBasedGateway", f"{{{BPMN}}}boundaryEvent")
    nodes = (
        {e.get("id"): e for e in root.iter(f"{{{BPMN}}}*") if e.get("id")}
        if next(looked_up, None) is not None
        else {}
    )
    for event in root.xpath(
        ".//bpmn:boundaryEvent[@cancelActivity='false'][bpmn:errorEventDefinition]"
        " | .//bpmn:startEvent[@isInterrupting='false'][bpmn:errorEventDefinition]",
        namespaces=NSMAP,
    ):
        yield _problem(event, event, ERROR_NON_INTERRUPTING.note)
    for event in root.xpath(
        ".//bpmn:boundaryEvent[@cancelActivity='false'][bpmn:cancelEventDefinition]",
        namespaces=NSMAP,
    ):
        yield _problem(event, event, CANCEL_NON_INTERRUPTING.note)
    yield from name_problems(root)
    yield from _event_gateway_problems(root, nodes)
    yield from _event_subprocess_problems(root)
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NSMAP):
        host = nodes.get(boundary.get("attachedToRef"))
        if host is None or _container_id(host) != _container_id(boundary):
            yield _problem(boundary, boundary, BOUNDARY_HOST_MISSING.note)
        elif local_name(host) not in _ACTIVITIES:
            yield _problem(boundary, boundary, BOUNDARY_NOT_ON_ACTIVITY.note)
    for catch in root.xpath(
        ".//bpmn:intermediateCatchEvent | .//bpmn:boundaryEvent", namespaces=NSMAP
    ):
        if not any(
            isinstance(c.tag, str) and local_name(c) in EVENT_DEFINITIONS for c in catch
        ) and not _link_catch(catch):
            yield _problem(catch, catch, CATCH_WITHOUT_TRIGGER.note)
    for definition in root.iterfind(".//bpmn:signalEventDefinition", NSMAP):
        event = definition.getparent()
        if not definition.get("signalRef") and local_name(event) in _CATCHING:
            yield _problem(event, event, SIGNAL_WITHOUT_REF.note)


def _conditional_event_problems(root: etree._Element) -> Iterator[Problem]:
    """Conditional events where they would not be evaluated (conditional_events.py)."""
    for definition in root.iterfind(".//bpmn:conditionalEventDefinition", NSMAP):
        event = definition.getparent()
        condition = definition.find("bpmn:condition", NSMAP)
        why = _conditional_place_refusal(event)
        if why:
            yield _problem(definition, event, why)
        elif condition is None or not (condition.text or "").strip():
            yield _problem(definition, event, CONDITION_MISSING.note)
        else:
            why = conditional_filter_refusal(definition)
            if why:
                yield _problem(definition, event, why)


def _conditional_place_refusal(event: etree._Element) -> str:
    """Why a conditional event there cannot run as Camunda 7 runs it ('' if it can)."""
    kind = local_name(event)
    container = event.getparent()
    if kind == "boundaryEvent":
        return ""
    if kind == "intermediateCatchEvent":
        return CONDITIONAL_AFTER_GATEWAY.note if _after_event_gateway(event) else ""
    if kind == "startEvent" and local_name(container) == "process":
        condition = event.find("bpmn:conditionalEventDefinition/bpmn:condition", NSMAP)
        text = (condition.text or "") if condition is not None else ""
        juel = is_juel(text) or is_checked_condition(text.strip())
        return "" if not text.strip() or juel else CONDITIONAL_START.note
    if kind == "startEvent" and container.get("triggeredByEvent") == "true":
        return ""
    return CONDITIONAL_PLACES.note


def _business_key_refusal(element: etree._Element) -> str:
    """The called process runs inside the same case; its business key is what
    message correlation by business key reads (call_data.py)."""
    try:
        business_key_rule(element)
    except JuelError as exc:
        return f"businessKey {element.get('businessKey')!r}: {exc}"
    return ""


def _mapping_refusal(element: etree._Element, *, scope: bool = False) -> str:
    """Why a camunda:in / camunda:out cannot run (or ""). `scope`: it is on a
    call activity with camunda:inputOutput, whose execution is a scope of its
    own, so local="true" reads (in, with variables="all" or source) or sets
    (out) that scope's variables (Camunda 7 reference, Call Activity,
    "Combination with Input/Output parameters"; CallableElementParameter)."""
    attrs = {k: (v or "").strip() for k, v in element.attrib.items()}
    local = attrs.get("local", "false")
    if local not in ("false", "true"):
        return f'local must be "true" or "false", not {local!r}'
    if local == "true":
        if not scope:
            return (
                'local="true" is supported only on a call activity with '
                "camunda:inputOutput (then the call activity's own variables "
                "are exactly its input parameters)"
            )
        if local_name(element) == "in" and attrs.get("sourceExpression"):
            return (
                'local="true" on camunda:in is supported with variables="all" or '
                "source (a sourceExpression would read only the call activity's "
                "own variables, as Camunda 7's VariableScopeLocalAdapter does)"
            )
    if "variables" in attrs:
        return "" if attrs["variables"] == "all" else 'variables must be "all"'
    if "businessKey" in attrs:
        return _business_key_refusal(element)
    if not attrs.get("target") or not (
        attrs.get("source") or attrs.get("sourceExpression")
    ):
        return "a mapping needs a target and a source or sourceExpression"
    expression = attrs.get("sourceExpression", "")
    if expression and is_juel(expression):
        try:
            composite_expression(expression)
        except JuelError as exc:
            return (
                f"sourceExpression {expression!r} cannot be translated from JUEL: {exc}"
            )
    return ""


def _call_mapping_problems(root: etree._Element) -> Iterator[Problem]:
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        scope = bool(vendor_children(call, "bpmn:extensionElements/x:inputOutput"))
        for ext in call.iterfind("bpmn:extensionElements", NSMAP):
            for element in ext:
                if (
                    isinstance(element.tag, str)
                    and etree.QName(element).namespace in VENDOR_NAMESPACES
                    and local_name(element) in ("in", "out")
                ):
                    why = _mapping_refusal(element, scope=scope)
                    if why:
                        yield _problem(
                            element, call, f"camunda:{local_name(element)}: {why}"
                        )


_SIGNAL_THROWERS = ("intermediateThrowEvent", "endEvent")


def _signal_mapping_problems(root: etree._Element) -> Iterator[Problem]:
    """camunda:in on a signal: only on a throw, only what runs (Camunda 7's payload)."""
    for definition in root.iterfind(".//bpmn:signalEventDefinition", NSMAP):
        event = definition.getparent()
        for ext in definition.iterfind("bpmn:extensionElements", NSMAP):
            for element in ext:
                if not (
                    isinstance(element.tag, str)
                    and etree.QName(element).namespace in VENDOR_NAMESPACES
                    and local_name(element) == "in"
                ):
                    continue
                if local_name(event) not in _SIGNAL_THROWERS:
                    why = "only a signal throw event passes variables"
                elif "businessKey" in element.attrib:
                    why = (
                        "a business key for the cases a signal starts is not supported"
                    )
                else:
                    why = _mapping_refusal(element)
                if why:
                    yield _problem(element, event, f"camunda:in: {why}")


def _date_problems(root: etree._Element) -> Iterator[Problem]:
    """Due/follow-up dates and priorities that could never be read (never dropped)."""
    for tag in HUMAN_TAGS:
        for task in root.iterfind(f".//bpmn:{tag}", NSMAP):
            meta = human_task_meta(task, None)
            if not (meta.due_date or meta.follow_up_date or meta.priority):
                continue  # nothing to read (most tasks)
            for name, value, check in (
                ("dueDate", meta.due_date, check_due),
                ("followUpDate", meta.follow_up_date, check_due),
                ("priority", meta.priority, check_priority),
            ):
                why = check(value)
                if why:
                    yield Problem(
                        f"The {name} {value!r} of {describe(task)} cannot be read: "
                        f"{why}.",
                        task.sourceline,
                        task.get("id"),
                    )


def _retry_cycle_problems(root: etree._Element) -> Iterator[Problem]:
    for element in root.iter(*(f"{{{BPMN}}}{kind}" for kind in SERVICE_LIKE)):
        for cycle in retry_cycle_elements(element):
            try:
                retry_cycle_parse(cycle.text or "")
            except RetryCycleInvalid as exc:
                yield _problem(
                    cycle,
                    element,
                    f"camunda:failedJobRetryTimeCycle {(cycle.text or '').strip()!r} "
                    f"cannot be read: {exc}",
                )


def _output_names(node: etree._Element) -> set[str]:
    path = "bpmn:extensionElements/x:inputOutput/x:outputParameter"
    return {p.get("name", "") for p in vendor_children(node, path)}


_EXPRESSION = re.compile(r"[$#]\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_]\w*")
_PYTHON_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _event_expressions(node: etree._Element) -> Iterator[tuple[str, set[str]]]:
    """The names each expression of an event's definition that Camunda 7
    evaluates before the inputs are mapped reads, as (what, names): its timer
    (Python after normalize), the name of the message or signal it names
    (`${...}`). Not a condition: Camunda 7 evaluates it on the event's own
    execution after the mapping (IntermediateConditionalEventBehavior.execute
    and leaveOnSatisfiedCondition), so it reads the inputs, as Laneway does."""
    root = node.getroottree().getroot()
    for expr in node.iterfind("bpmn:timerEventDefinition/*", NSMAP):
        yield "timer", set(_NAME.findall(_PYTHON_STRING.sub("", expr.text or "")))
    for kind in ("message", "signal"):
        for definition in node.iterfind(f"bpmn:{kind}EventDefinition", NSMAP):
            ref = definition.get(f"{kind}Ref", "")
            for target in root.iterfind(f".//bpmn:{kind}", NSMAP):
                if target.get("id") == ref:
                    found = _EXPRESSION.findall(target.get("name", ""))
                    yield f"{kind} name", {n for e in found for n in _NAME.findall(e)}


# Throw and end events whose mapping Laneway runs: Camunda 7's
# InputOutputEventTest covers none and message throws and message end events;
# a signal throw reads its name and camunda:in in the event's scope the same way.
_IO_THROWS = ("", "messageEventDefinition", "signalEventDefinition")


def _io_event_refusal(node: etree._Element) -> str:
    """Why camunda:inputOutput on this event (or receive task) is refused."""
    kind = local_name(node)
    if kind == "endEvent" and _output_names(node):
        return (
            "camunda:outputParameter on an end event is not supported: Camunda "
            '7 refuses it too ("camunda:outputParameter not allowed for element '
            "type 'endEvent'\", InputOutputEventTest.testNoneEndEvent)"
        )
    if kind in ("endEvent", "intermediateThrowEvent"):
        definitions = [
            local_name(c)
            for c in node
            if isinstance(c.tag, str) and local_name(c).endswith("EventDefinition")
        ]
        if (definitions[0] if definitions else "") not in _IO_THROWS:
            return (
                f"camunda:inputOutput on a {definitions[0]} {kind} is not "
                "supported here (Laneway maps it on none, message and signal "
                "throw and end events): move the mapping to the activity before"
            )
    if node.find("bpmn:linkEventDefinition", NSMAP) is not None:
        return (
            "camunda:inputOutput on a link event is not supported here "
            "(nothing Laneway could verify says how Camunda 7 maps it across "
            "the link): move the mapping to the activity before or after it"
        )
    if _after_event_gateway(node):
        return (
            "camunda:inputOutput on an event after an event-based gateway is "
            "not supported here: Camunda 7 enters the event, and maps its "
            "inputs, only when it is triggered, Laneway when the gateway is "
            "reached; move the mapping to the activity after it"
        )
    what, read = _event_reads_inputs(node)
    if read:
        return (
            f"its {what} reads its own input parameter {', '.join(read)}: "
            "Camunda 7 creates the event's timer or subscription before it maps "
            "the inputs, so the expression does not see them "
            "(InputOutputEventTest.FAILING_testTimerCatchEvent), and Laneway "
            "would read the input: compute the value in the activity before "
            "the event"
        )
    return ""


def _event_reads_inputs(node: etree._Element) -> tuple[str, list[str]]:
    """The first expression of an event's definition that reads one of its
    own input parameters, and those names."""
    path = "bpmn:extensionElements/x:inputOutput/x:inputParameter"
    inputs = {p.get("name", "") for p in vendor_children(node, path)}
    for what, names in _event_expressions(node):
        if read := sorted(names & inputs):
            return what, read
    return "", []


def _instance_variables(node: etree._Element) -> set[str]:
    """The variables local to an instance of the multi-instance sub-processes
    around `node` (loopCounter, the element variable)."""
    names: set[str] = set()
    for holder in node.iterancestors(f"{{{BPMN}}}subProcess"):
        loop = holder.find("bpmn:multiInstanceLoopCharacteristics", NSMAP)
        if loop is None:
            continue
        names.add("loopCounter")
        if element := vendor_attr(loop, "elementVariable"):
            names.add(element.strip())
        for item in loop.iterfind("bpmn:inputDataItem", NSMAP):
            names.update(n for n in (item.get("name"), item.get("id")) if n)
    return names


# Camunda 7 (BpmnParse.checkActivityOutputParameterSupported) fails the
# deployment of an output parameter on a multi-instance activity; its User
# Guide ("Multi-instance IO Mapping"): "The engine does not support output
# mappings for multi-instance constructs".
_MI_OUTPUTS = (
    "camunda:outputParameter on a multi-instance activity is not supported: "
    'Camunda 7 refuses it too ("camunda:outputParameter not allowed for '
    'multi-instance constructs"; each instance would overwrite what the '
    "previous one set); map the value inside the instance, or collect the "
    "instances' results with an output collection"
)
# Camunda 7 (BpmnParse.checkActivityInputOutputSupported) fails the deployment
# of camunda:inputOutput on an event sub-process.
_ESP_IO = (
    "camunda:inputOutput on an event sub-process is not supported: Camunda 7 "
    'refuses it too ("camunda:inputOutput mapping unsupported for element '
    "type 'subProcess' with attribute 'triggeredByEvent = true'\"); map the "
    "variables in its first activity"
)


def _io_problems(root: etree._Element) -> Iterator[Problem]:
    """Refuse camunda:inputOutput where this module does not map it as Camunda 7.

    On a multi-instance activity the inputs are mapped per instance (the
    instance's element variable and loopCounter readable), as Camunda 7's
    User Guide says; its output parameters Camunda 7 refuses at deployment,
    and so does Laneway, on every kind of activity. A standard loop: Camunda
    7 does not run standardLoopCharacteristics, so nothing says how the
    mapping applies to an iteration. An event sub-process: Camunda 7 refuses
    it. An output parameter named like a variable of the instance of a
    multi-instance sub-process around the activity (`io_mapping` sets outputs
    on sub-process scopes and the case, not on an instance).
    """
    for io in vendor_children(root, ".//bpmn:*/bpmn:extensionElements/x:inputOutput"):
        node = io.getparent().getparent()
        kind = local_name(node)
        if node.find("bpmn:multiInstanceLoopCharacteristics", NSMAP) is not None:
            outputs = vendor_children(io, "x:outputParameter")
            if outputs:
                yield Problem(
                    f"The {describe(node)} is refused: {_MI_OUTPUTS}.",
                    outputs[0].sourceline,
                    node.get("id"),
                )
        if kind not in IO_ACTIVITIES:
            continue
        why = ""
        if node.find("bpmn:standardLoopCharacteristics", NSMAP) is not None:
            why = (
                "camunda:inputOutput on a standard loop activity is not "
                "supported: Camunda 7 does not run standard loops, so nothing "
                "says how the mapping applies to each iteration; draw the "
                "activity, with the mapping, inside an embedded sub-process "
                "that is the loop"
            )
        elif node.get("triggeredByEvent") == "true":
            why = _ESP_IO
        elif event_why := _io_event_refusal(node):
            why = event_why
        elif shadowed := sorted(_instance_variables(node) & _output_names(node)):
            why = (
                f"its output parameter {', '.join(shadowed)} names a variable "
                "of the instance of the multi-instance sub-process around it, "
                "which Camunda 7 sets on that instance; Laneway would set it on "
                "the case: rename the output"
            )
        if why:
            yield Problem(
                f"The {describe(node)} is refused: {why}.",
                io.sourceline,
                node.get("id"),
            )


def support_problems(root: etree._Element) -> list[Problem]:
    """Return every construct the tables refuse (or do not know), located."""
    return [
        *_task_problems(root),
        *_date_problems(root),
        *_conditional_flow_problems(root),
        *_none_start_problems(root),
        *_subprocess_start_problems(root),
        *_event_problems(root),
        *_dead_end_gateway_problems(root),
        *_multi_instance_shape_problems(root),
        *_unnamed_part_problems(root),
        *_conditional_event_problems(root),
        *_call_mapping_problems(root),
        *_retry_cycle_problems(root),
        *_signal_mapping_problems(root),
        *_io_problems(root),
        *_element_problems(root),
        *_multiple_events(root),
        *_bpmn_attribute_problems(root),
        *_boolean_form_problems(root),
        *_vendor_attribute_problems(root),
        *_message_expression_problems(root),
        *_vendor_element_problems(root),
        *_spiff_problems(root),
        *compensation_problems(root),
    ]


# Tags and prefixes the checks above compare with (plain string tests, no parsing).
_VENDOR_KEYS = tuple(f"{{{ns}}}" for ns in VENDOR_NAMESPACES)
_SPIFF_KEY = f"{{{SPIFF}}}"
_END_EVENT = f"{{{BPMN}}}endEvent"
_STARTS = frozenset(f"{{{BPMN}}}{k}" for k in ("startEvent", "boundaryEvent"))
_CONDITIONAL_SOURCE_TAGS = frozenset(f"{{{BPMN}}}{k}" for k in _CONDITIONAL_SOURCES)
_CONDITION = f"{{{BPMN}}}conditionExpression"


def _refused_tags() -> tuple[str, ...]:
    """The BPMN tags `_element_problems` refuses (read from the tables each time)."""
    return tuple(
        f"{{{BPMN}}}{name}"
        for table in (ELEMENTS, EVENT_DEFINITIONS)
        for name, row in table.items()
        if row.status == REFUSED and not row.by
    )


def _several_definitions(root: etree._Element) -> bool:
    """Whether any element has two event definitions (of any namespace) as children."""
    seen: set[etree._Element] = set()
    for definition in root.iter(*(f"{{*}}{name}" for name in EVENT_DEFINITIONS)):
        parent = definition.getparent()
        if parent in seen:
            return True
        seen.add(parent)
    return False


def _having_attributes(
    root: etree._Element, names: tuple[str, ...]
) -> list[etree._Element]:
    """The BPMN elements (root included) with any of these attributes, in order.

    XPath walks in C instead of a Python loop over every element's attributes.
    """
    if not names:
        return []
    if not all(_XPATH_NAME.fullmatch(name) for name in names):  # e.g. "{ns}name"
        return [
            e
            for e in root.iter(f"{{{BPMN}}}*")
            if any(e.get(name) is not None for name in names)
        ]
    path = " | ".join(f"descendant-or-self::bpmn:*/@{name}" for name in names)
    found = compiled_xpath(path)(root)  # attributes, in document order
    return list(dict.fromkeys(attribute.getparent() for attribute in found))


# An attribute name an XPath can test (name, prefix:name or prefix:*).
_XPATH_NAME = re.compile(r"[A-Za-z_][\w.-]*(:(\*|[A-Za-z_][\w.-]*))?")
