"""Frozen values that cross the adapter boundary (no SpiffWorkflow objects leave it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]


class FailureKind(StrEnum):
    """What stopped a task: its own script or condition, or an engine bound."""

    SCRIPT = "script"
    ENGINE_LIMIT = "engine_limit"


class EngineLimit(StrEnum):
    """The engine bound that stopped a case (a TaskFailure's error_type)."""

    TREE_TOO_DEEP = "TreeTooDeep"
    STEP_LIMIT = "EngineStepLimit"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an uploaded diagram, located where possible."""

    message: str
    line: int | None = None
    element_id: str | None = None

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "message": self.message,
            "line": self.line,
            "element_id": self.element_id,
        }


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a start or user-task form (Camunda `formField` semantics)."""

    id: str
    label: str
    type: str = "string"  # string | long | double | boolean | date | enum | text
    required: bool = False
    readonly: bool = False
    default: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    widget: str = ""
    date_pattern: str = ""  # a date field's Java pattern (Camunda: dd/MM/yyyy)


@dataclass(frozen=True, slots=True)
class FormRef:
    """How a user task names its Camunda Form (from the BPMN)."""

    form_id: str = ""  # camunda:formRef
    binding: str = "latest"  # camunda:formRefBinding
    version: str = ""  # camunda:formRefVersion
    file: str = ""  # camunda:formKey="camunda-forms:deployment:<file>"
    # SpiffArena: spiffworkflow:property formJsonSchemaFilename (`file`, a JSON
    # schema) and formUiSchemaFilename (`ui_file`, its react-jsonschema-form layout)
    json_schema: bool = False
    ui_file: str = ""

    @property
    def label(self) -> str:
        if self.json_schema:
            return f"JSON-schema form '{self.file}'"
        return f"form id '{self.form_id}'" if self.form_id else f"form '{self.file}'"


@dataclass(frozen=True, slots=True)
class HumanTaskMeta:
    """What the diagram says about one user/manual task (or a start event's form)."""

    bpmn_id: str
    name: str
    lane: str | None = None
    documentation: str = ""
    assignee: str = ""
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()
    form_key: str = ""
    form: tuple[FormField, ...] = ()
    form_ref: FormRef | None = None  # a Camunda Form (form-js) file it renders
    due_date: str = ""
    follow_up_date: str = ""
    priority: str = ""
    separate_from: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    # The Python of its assignment listeners (listeners.py), run whenever the
    # assignee is set, and the name their task.getAssignee() reads.
    assignment_script: str = ""
    assignment_assignee: str = ""


@dataclass(frozen=True, slots=True)
class SequenceFlow:
    """A sequence flow of the diagram: its id, name and the elements it joins."""

    id: str
    name: str
    source: str
    target: str
    # The flow a link throw/catch pair stands for (links.py): not drawn, so no
    # one chooses it, but a token leaving the throw takes it.
    link: bool = False


@dataclass(frozen=True, slots=True)
class ParsedProcess:
    """An executable process found in an uploaded file."""

    key: str
    name: str
    lanes: tuple[str, ...]
    start: HumanTaskMeta | None
    human_tasks: tuple[HumanTaskMeta, ...]
    candidate_starter_groups: tuple[str, ...] = ()
    candidate_starter_users: tuple[str, ...] = ()
    element_names: tuple[tuple[str, str], ...] = ()
    initiator_variable: str = ""  # camunda:initiator: the variable set to the starter
    sequence_flows: tuple[SequenceFlow, ...] = ()
    version_tag: str = ""  # camunda:versionTag
    # camunda:isStartableInTasklist: whether the start page offers the process
    # (the API, messages, signals and timers start it either way).
    startable_in_tasklist: bool = True


@dataclass(frozen=True, slots=True)
class ReadyUserTask:
    """A user or manual task waiting for a person."""

    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    meta: HumanTaskMeta
    # Variables local to this instance of a multi-instance task (its element
    # variable, loopCounter); they shadow case data in its expressions.
    local_data: JsonObject = field(default_factory=dict)
    # The version of another file's process the task belongs to (the host's
    # reference, called.py); None: the case's own version.
    called: JsonObject | None = None
    # Its documentation resolved as Camunda 7's description expression
    # (task_names.py); None: the documentation as drawn.
    documentation: str | None = None


@dataclass(frozen=True, slots=True)
class PendingServiceCall:
    """A service task the engine left STARTED for a worker to run."""

    task_id: str
    bpmn_id: str
    operation: str
    params: JsonObject
    result_variable: str
    # <spiffworkflow:retry retries="n" backoff_base="s">: n + 1 attempts, s seconds.
    max_attempts: int | None = None
    backoff_seconds: float | None = None
    # camunda:failedJobRetryTimeCycle: the waits between attempts, in order (the
    # last one repeats); None: exponential backoff from backoff_seconds.
    retry_intervals: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A task the engine finished during an advance (for the audit timeline)."""

    task_id: str
    bpmn_id: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """A script, condition or engine error that stopped a task."""

    task_id: str
    bpmn_id: str
    name: str
    error_type: str
    message: str
    kind: FailureKind = FailureKind.SCRIPT


@dataclass(frozen=True, slots=True)
class WaitingReceive:
    """A receive task without a message, waiting to be signalled (Camunda 7's
    `RuntimeService.signal(executionId)`): `task_id` is its execution id."""

    task_id: str
    bpmn_id: str
    name: str


@dataclass(frozen=True, slots=True)
class WaitingMessage:
    """A message a case waits for at one catch event, task or boundary event.

    `correlation` holds the SpiffWorkflow correlation properties the case already
    has for this message (property name -> value; empty for Camunda diagrams).
    `called`: it waits inside a called process, a process instance of its own
    in Camunda 7: correlation keys read that instance's `variables`, and a
    business key its `business_key` (None: none), unless `inherits_key` (the
    call activity passed the caller's: the case's).
    """

    name: str
    bpmn_id: str
    correlation: JsonObject = field(default_factory=dict)
    called: bool = False
    variables: JsonObject = field(default_factory=dict)
    business_key: str | None = None
    inherits_key: bool = True


@dataclass(frozen=True, slots=True)
class ThrownSignal:
    """A signal a throw event threw, with what it carries to other cases.

    `payload`: the `camunda:in` variables (an object), a SpiffArena
    `payloadExpression`'s value (any JSON), or None (nothing passed).
    """

    name: str
    payload: Any = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message a send task or message throw event sent out of its case."""

    name: str
    payload: JsonObject
    correlation: JsonObject
    bpmn_id: str = ""  # the sending element (a send task or throw event)
    element_name: str = ""
    # The outside parties its message flows go to (black-box pools), when all
    # of them do (message_flows.py); "" otherwise.
    outside: str = ""


@dataclass(frozen=True, slots=True)
class UncaughtError:
    """A BPMN error nothing caught; the path that threw it ended (uncaught_errors)."""

    code: str
    message: str = ""
    bpmn_id: str = ""  # the throwing element (an error end event, a service task)
    element_name: str = ""


@dataclass(frozen=True, slots=True)
class AdvanceOutcome:
    """The result of one engine command: the new state and what changed."""

    state: JsonObject
    completed: bool
    data: JsonObject
    ready_user_tasks: tuple[ReadyUserTask, ...] = ()
    pending_service_calls: tuple[PendingServiceCall, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    failure: TaskFailure | None = None
    # Other tasks that failed as they were reached in this command, after
    # `failure` (reached_failures): each an incident too, now, not at the
    # next command.
    also_failed: tuple[TaskFailure, ...] = ()
    next_timer_at: str | None = None
    active_elements: tuple[str, ...] = field(default=())
    waiting_messages: tuple[WaitingMessage, ...] = ()
    # the receive tasks without a message that wait to be signalled
    waiting_receives: tuple[WaitingReceive, ...] = ()
    # (signal name, element id) of every element waiting for a signal
    waiting_signals: tuple[tuple[str, str], ...] = ()
    # names of the signals this command's throw events threw (for other cases)
    thrown_signals: tuple[ThrownSignal, ...] = ()
    # messages sent that nothing in the case caught (for other cases)
    sent_messages: tuple[SentMessage, ...] = ()
    # BPMN errors nothing caught in this command (each ended its path)
    uncaught_errors: tuple[UncaughtError, ...] = ()
    # (call activity id, the host's reference of the version it called) of
    # every call of another file's process this command started
    called_versions: tuple[tuple[str, JsonObject], ...] = ()
    # Whether a called version a child of the case runs (or ran in this
    # command) has a message or signal event: its subscriptions are looked at.
    called_may_wait: bool = False
