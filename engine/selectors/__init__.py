"""Read cases, startable processes and event targets.

Split by topic; callers import from here.
"""

from .cases import (
    CaseCounts,
    Choice,
    TimelineEntry,
    WaitingEvent,
    case_can_cancel,
    case_counts_for_user,
    case_element_states,
    case_flow_elements,
    case_get,
    case_list_for_user,
    case_timeline,
    case_waiting_list,
    cases_visible,
    element_outgoing_flows,
    incident_get,
    incident_list_for_case,
    incident_list_for_user,
    incident_open_count,
)
from .events import (
    buffered_message_list,
    case_processes,
    version_list_called,
    version_list_catching,
    version_list_conditional_starts,
    version_list_started_by,
)
from .executions import receive_wait_get, receive_wait_list_for_user
from .starts import (
    StartableProcess,
    StartForm,
    process_hand_start_refusal,
    process_list_startable_for_user,
    process_start_form_for_user,
    process_start_form_get,
    process_tasklist_start_check,
)

__all__ = [
    "CaseCounts",
    "Choice",
    "TimelineEntry",
    "WaitingEvent",
    "case_can_cancel",
    "case_counts_for_user",
    "case_element_states",
    "case_flow_elements",
    "case_get",
    "case_list_for_user",
    "case_timeline",
    "case_waiting_list",
    "cases_visible",
    "receive_wait_get",
    "receive_wait_list_for_user",
    "element_outgoing_flows",
    "incident_get",
    "incident_list_for_case",
    "incident_list_for_user",
    "incident_open_count",
    "StartForm",
    "StartableProcess",
    "process_hand_start_refusal",
    "process_list_startable_for_user",
    "process_start_form_for_user",
    "process_start_form_get",
    "process_tasklist_start_check",
    "buffered_message_list",
    "case_processes",
    "version_list_called",
    "version_list_catching",
    "version_list_conditional_starts",
    "version_list_started_by",
]
