"""Engine services: everything that changes a case, around one advance core.

- advance: lock a case, apply an engine outcome (save, project, audit), incidents
- cases: start, complete a human task of, cancel
- calls: the service-call outbox (begin, execute, apply, sweep)
- messages: deliver a message or start a case with one
- timers: fire due timers
- conditions: start cases by their conditional start events
- signals: broadcast signals to waiting cases, start processes with them
- timer_starts: schedule timer start events, start their cases
- incidents: retry, skip (complete with data) or cancel behind an incident
- receive_waits: continue a receive task without a message (signal by execution id)
- repairs: set case variables, move tokens (cancel / start before / start after)
"""

from .advance import (
    case_advance,
    case_audit,
    case_lock,
    incident_open,
    incident_resolve,
    service_calls_enqueue,
    service_time_limits,
)
from .calls import (
    service_call_apply,
    service_call_backoff,
    service_call_begin,
    service_call_execute,
    service_call_max_attempts,
    service_call_sweep,
    service_call_variables,
)
from .cases import (
    case_cancel,
    case_complete_user_task,
    case_start,
    case_task_assigned,
)
from .conditions import condition_evaluate
from .incidents import (
    incident_cancel_case,
    incident_fixable_after_end,
    incident_retry,
    incident_skip,
)
from .messages import (
    MessageResult,
    message_deliver,
    message_send_check,
    subscription_matches,
)
from .receive_waits import receive_signal, receive_signal_check
from .repairs import (
    CaseModified,
    case_conditions_evaluate,
    case_elements_modify,
    case_migrate,
    case_variables_set,
)
from .signals import SignalResult, signal_broadcast, signal_send
from .timer_starts import timer_start_fire, timer_starts_due, timer_starts_schedule
from .timers import case_fire_timers, case_timer_wake_queue, timers_due

__all__ = [
    "case_migrate",
    "case_conditions_evaluate",
    "case_variables_set",
    "CaseModified",
    "case_elements_modify",
    "MessageResult",
    "case_advance",
    "case_audit",
    "case_cancel",
    "case_complete_user_task",
    "case_fire_timers",
    "case_timer_wake_queue",
    "case_lock",
    "case_start",
    "case_task_assigned",
    "incident_cancel_case",
    "incident_open",
    "incident_resolve",
    "incident_fixable_after_end",
    "incident_retry",
    "incident_skip",
    "message_deliver",
    "receive_signal",
    "receive_signal_check",
    "service_call_apply",
    "service_call_backoff",
    "service_call_begin",
    "service_call_execute",
    "service_call_max_attempts",
    "service_call_variables",
    "service_call_sweep",
    "service_calls_enqueue",
    "service_time_limits",
    "SignalResult",
    "condition_evaluate",
    "signal_broadcast",
    "signal_send",
    "message_send_check",
    "subscription_matches",
    "timer_start_fire",
    "timer_starts_due",
    "timer_starts_schedule",
    "timers_due",
]
