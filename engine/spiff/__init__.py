"""The SpiffWorkflow adapter: the only package that imports SpiffWorkflow.

It takes BPMN bytes and state dicts in and returns frozen dataclasses out.
"""

from SpiffWorkflow import version as _spiff_version

from . import calendar_durations as _calendar_durations  # noqa: F401 - replaces SpiffWorkflow's month arithmetic
from . import timer_values as _timer_values  # noqa: F401 - unreadable timer values are incidents
from .called import (
    CalledProcess,
    CallNotResolved,
    calls_configure,
    calls_configured,
)
from .candidates import Candidates, has_candidates, resolve_candidates
from .compiled import CompiledBundle, CompiledProcess
from .conditional_starts import (
    ConditionNotEvaluable,
    conditional_start_ids,
    workflow_conditions_holding,
    workflow_start_by_condition,
)
from .coverage import coverage_markdown
from .dates import (
    CAMUNDA_DATE_PATTERN,
    PRIORITY_RANGE,
    form_date,
    resolve_due,
    resolve_priority,
    unreadable_value,
)
from .errors import (
    AssignmentListenerFailed,
    BpmnParseError,
    LocalVariablesRefused,
    ServiceErrorNotCaught,
    ServiceResultRejected,
    SpiffAdapterError,
    StateCorrupt,
    TaskNotReady,
)
from .formjs import (
    field_labels,
    file_fields,
    form_find,
    formjs_clean,
    value_at,
    value_set,
)
from .jsonforms import JSON_SCHEMA_KEY, json_schema_form, json_schema_validator
from .juel import TRANSLATOR_VERSION, JuelError, juel_to_python
from .limits import EngineLimits, limits_configure
from .messages import (
    MessageCatchersAmbiguous,
    MessageNotCaught,
    message_catches,
    message_start_names,
    workflow_deliver_message,
    workflow_start_by_message,
    workflow_waiting_messages,
)
from .migration import (
    MigrationProblem,
    MigrationRefused,
    migration_problems,
    workflow_migrate,
)
from .modify import Instruction, ModificationRefused, Modified, workflow_modify
from .parsing import (
    bundle_compile,
    call_site,
    called_elements,
    called_version_tags,
    called_versions,
    compile_process,
    executable_keys,
    processes_compile,
    service_operations,
)
from .receive_signal import ReceiveNotWaiting, workflow_signal_receive
from .receive_waits import process_has_receive_waits
from .runtime import (
    has_assignment_listener,
    workflow_apply_service_result,
    workflow_assign,
    workflow_cancel,
    workflow_complete_failed_task,
    workflow_complete_user_task,
    workflow_fire_timers,
    workflow_retry,
    workflow_service_scope_names,
    workflow_set_data,
    workflow_start,
    workflow_throw_service_error,
)
from .script_helpers import ScriptHost, script_host
from .scripting import ScriptError, check_expression, check_script
from .service_tasks import service_scope_names
from .signals import (
    SignalNotCaught,
    process_waits_for_events,
    signal_start_names,
    workflow_deliver_signal,
    workflow_start_by_signal,
)
from .timer_starts import (
    TimerSchedule,
    TimerStart,
    TimerStartInvalid,
    event_starts_only,
    timer_schedule_first,
    timer_schedule_next,
    timer_starts_in,
    workflow_start_by_timer,
)
from .types import (
    AdvanceOutcome,
    EngineLimit,
    FailureKind,
    FormField,
    FormRef,
    HumanTaskMeta,
    ParsedProcess,
    PendingServiceCall,
    Problem,
    ReadyUserTask,
    SequenceFlow,
    StepRecord,
    TaskFailure,
    WaitingMessage,
    WaitingReceive,
)

ADAPTER_VERSION = f"2-juel{TRANSLATOR_VERSION}"
SPIFF_VERSION: str = _spiff_version.__version__

__all__ = [
    "CalledProcess",
    "CallNotResolved",
    "calls_configure",
    "calls_configured",
    "FormRef",
    "file_fields",
    "form_find",
    "formjs_clean",
    "JSON_SCHEMA_KEY",
    "json_schema_form",
    "json_schema_validator",
    "field_labels",
    "value_at",
    "value_set",
    "Instruction",
    "ModificationRefused",
    "Modified",
    "SequenceFlow",
    "workflow_modify",
    "ConditionNotEvaluable",
    "conditional_start_ids",
    "workflow_conditions_holding",
    "workflow_start_by_condition",
    "SignalNotCaught",
    "signal_start_names",
    "workflow_deliver_signal",
    "workflow_start_by_signal",
    "TimerSchedule",
    "TimerStart",
    "TimerStartInvalid",
    "event_starts_only",
    "timer_schedule_first",
    "timer_schedule_next",
    "timer_starts_in",
    "workflow_start_by_timer",
    "MessageCatchersAmbiguous",
    "MessageNotCaught",
    "WaitingMessage",
    "WaitingReceive",
    "ReceiveNotWaiting",
    "workflow_signal_receive",
    "process_has_receive_waits",
    "message_catches",
    "message_start_names",
    "workflow_deliver_message",
    "workflow_start_by_message",
    "workflow_waiting_messages",
    "process_waits_for_events",
    "ADAPTER_VERSION",
    "AdvanceOutcome",
    "EngineLimit",
    "FailureKind",
    "BpmnParseError",
    "Candidates",
    "CompiledBundle",
    "CompiledProcess",
    "EngineLimits",
    "JuelError",
    "TRANSLATOR_VERSION",
    "FormField",
    "HumanTaskMeta",
    "ParsedProcess",
    "PendingServiceCall",
    "Problem",
    "ReadyUserTask",
    "ScriptError",
    "ServiceErrorNotCaught",
    "ServiceResultRejected",
    "LocalVariablesRefused",
    "SPIFF_VERSION",
    "SpiffAdapterError",
    "StateCorrupt",
    "StepRecord",
    "TaskFailure",
    "TaskNotReady",
    "AssignmentListenerFailed",
    "has_assignment_listener",
    "service_scope_names",
    "workflow_assign",
    "bundle_compile",
    "called_elements",
    "executable_keys",
    "call_site",
    "called_version_tags",
    "called_versions",
    "ScriptHost",
    "script_host",
    "check_expression",
    "CAMUNDA_DATE_PATTERN",
    "form_date",
    "check_script",
    "compile_process",
    "processes_compile",
    "has_candidates",
    "juel_to_python",
    "limits_configure",
    "resolve_candidates",
    "resolve_due",
    "unreadable_value",
    "PRIORITY_RANGE",
    "resolve_priority",
    "coverage_markdown",
    "service_operations",
    "workflow_apply_service_result",
    "workflow_cancel",
    "workflow_complete_user_task",
    "workflow_fire_timers",
    "workflow_complete_failed_task",
    "workflow_retry",
    "workflow_service_scope_names",
    "workflow_set_data",
    "workflow_migrate",
    "migration_problems",
    "MigrationProblem",
    "MigrationRefused",
    "workflow_start",
    "workflow_throw_service_error",
]
