"""Differential tests: production's pruned, reloaded case against references.

For every deployable conformance diagram (tests/conformance/bpmn) and corpus
diagram (shared/corpus), seeded random walks complete ready user tasks with
random data (see differential.py): values around the constants its conditions
compare with, of the right type for its form fields, and the values its
scenarios use. After every step the ready user tasks, the case data and
completion must agree. Production prunes and reloads its state after every
step, each time onto a freshly compiled spec (as another process would).

1. Against the same corrected specs in one workflow kept in memory, never
   pruned nor reloaded, for every diagram: prune and reload must never change
   behaviour. A disagreement is a Laneway bug (KNOWN_BUGS, strict xfail).
2. Against plain SpiffWorkflow 3.2 (its parser, workflow and script engine):
   where Laneway claims no departure they must agree. Where SpiffWorkflow
   departs from BPMN / Camunda 7 and Laneway corrects it on purpose, the
   diagram is in DEPARTURES with the reason; the walk must then diverge
   (strict xfail), so an entry that no longer differs is noticed and removed.
   The scenarios (test_scenarios.py) assert the BPMN behaviour there.

Diagrams the upload refuses are not walked (there is nothing to run):
conformance diagrams are compiled with the operations the scenario runner
registers, corpus diagrams with their own.
"""

import functools
import itertools
from pathlib import Path

import pytest
from lxml import etree

from engine.spiff import (
    BpmnParseError,
    bundle_compile,
    called_elements,
    calls_configured,
    service_operations,
)
from tests.processes.test_corpus import CORPUS, _dmn_for

from .differential import (
    NS,
    Diagram,
    Diverged,
    InMemory,
    Plain,
    Production,
    adapter_process,
    condition_values,
    form_values,
    in_memory_calls,
    people_values,
    plain_workflow,
    referenced_values,
    walk,
)
from .runner import OPERATIONS
from .scenario import DIAGRAMS, ScenarioError, scenario_files, scenario_load

SEEDS = (0, 1, 2)
# The prune-and-reload comparison walks two of them: it reloads at every step
# already, and its reference is Laneway's own engine (the walks against plain
# SpiffWorkflow take all three).
RELOAD_SEEDS = SEEDS[:2]
MAX_STEPS = 15
_CALL_DATA = (
    "SpiffWorkflow copies every variable into and out of a called process; "
    "in a Camunda diagram Laneway maps camunda:in/out as Camunda 7 does "
    "(nothing without a mapping; engine/spiff/call_data.py)"
)
_MOST_SPECIFIC = (
    "SpiffWorkflow fires every matching error/escalation catcher; BPMN fires only "
    "the innermost, most specific one (engine/spiff/events.py)"
)
_EVENT_SCOPE = (
    "SpiffWorkflow arms an event sub-process's start event at once (and, when it "
    "fires, gives it the variables of the moment it was armed); Laneway arms it "
    "with its scope and passes the scope's current variables "
    "(engine/spiff/events.py)"
)
_LOOP_JOIN = (
    "a parallel/inclusive join inside a loop fires early in round two in "
    "SpiffWorkflow (it counts round one's arrivals); Laneway counts each round's "
    "tokens (engine/spiff/joins.py)"
)
_JOIN_TOKENS = (
    "a parallel join consumes one token per incoming flow (BPMN 2.0 13.4.1); "
    "SpiffWorkflow consumes every token that arrived, so two tokens on one flow "
    "make one firing (engine/spiff/joins.py)"
)
_MI_BOUNDARY = (
    "an error thrown in one instance of a multi-instance activity is caught by "
    "the activity's boundary event, which ends every instance (BPMN 2.0, Camunda "
    "7); SpiffWorkflow then fails looking up the removed instances' tasks "
    "(engine/spiff/events.py engine_steps)"
)
_MI_CARDINALITY = (
    "Camunda 7 reads a loopCardinality String holding an integer as that "
    "number and fails a negative one; SpiffWorkflow passes the value to "
    "range() (a String fails, a negative is zero instances) "
    "(scripting.loop_cardinality)"
)
_MI_NOT_A_LIST = (
    "a multi-instance collection holding text is an incident, as Camunda 7 "
    "refuses a collection that is not a Collection; SpiffWorkflow runs one "
    "instance per character (engine/spiff/multi_instance.py)"
)
_MI_LOCALS = (
    "Camunda 7's multi-instance: the element variable and loopCounter are local "
    "to the instance (SpiffWorkflow merges them into the case and refuses a "
    "sequential activity's second item) and nrOfInstances, nrOfCompletedInstances "
    "and nrOfActiveInstances are defined (SpiffWorkflow has none) "
    "(engine/spiff/multi_instance.py)"
)
_SEND_AS_SERVICE = (
    "a send or business-rule task with a Camunda operation (camunda:type external, "
    "delegateExpression, class) calls it like a service task; SpiffWorkflow "
    "skips it (issue 7 found 7; engine/spiff/service_tasks.py)"
)
_DMN = (
    "Laneway decides as DMN 1.3 and Camunda 7 say (engine/spiff/dmn.py: S-FEEL "
    "cells, every hit policy, camunda:resultVariable and mapDecisionResult, "
    "requirement graphs); SpiffWorkflow's DMN engine fails on S-FEEL cells, takes "
    "the first match under UNIQUE and ignores the result shapes (issue 8)"
)
_EXTERNAL_TASK_RESULT = (
    "a Camunda task's result without camunda:resultVariable is merged into the "
    "case variables (but for its input parameters, local to the task) and its "
    "output parameters are applied after, as Camunda 7 completes an external "
    "task; SpiffWorkflow stores it in spiff__<id>_result "
    "(engine/spiff/service_tasks.py)"
)
_CONNECTOR_SCOPE = (
    "a connector's input parameters are evaluated over its task's scope (the "
    "task's input parameters), and its output parameters are set on that scope "
    "(a name that is a task input stays local, read by the task's outputs), as "
    "Camunda 7's ConnectorVariableScope does; SpiffWorkflow evaluates every "
    "parameter over the case (engine/spiff/service_tasks.py)"
)
_SHARED_VARIABLES = (
    "Camunda 7 has one set of process variables per process instance: a value "
    "set in a parallel branch, a multi-instance instance or an embedded "
    "sub-process is seen at once everywhere and no join puts a branch's stale "
    "copy back; SpiffWorkflow gives each branch and instance its own copy and "
    "the last merge wins (engine/spiff/variables.py)"
)
_COMPENSATION = (
    "SpiffWorkflow 3.2 has no compensation (its parser refuses a compensation "
    "boundary event); Laneway runs compensation boundary events, handlers and "
    "compensation throws as Camunda 7 does (engine/spiff/compensation.py)"
)
_IO_SCOPE = (
    "camunda:inputOutput on a task, an embedded sub-process, a call activity "
    "(per instance on a multi-instance one) or an intermediate or end event: "
    "Camunda 7 maps the "
    "inputs into local variables of the activity's scope (a call activity's "
    "camunda:in reads them) and its outputs onto the enclosing scope when it "
    "completes; SpiffWorkflow ignores the extension (engine/spiff/io_mapping.py)"
)
_IMPLICIT_END = (
    "a case whose last path ends at an activity without outgoing flow (BPMN's "
    "implicit end) completes with its variables; SpiffWorkflow copies a path's "
    "data into the workflow's only at an end event, so it ends with none "
    "(engine/spiff/runtime.py _case_data)"
)
_OUTPUT_COLLECTION = (
    "a multi-instance output collection (loopDataOutputRef) is a case variable "
    "from the moment the activity starts, shared like any other (BPMN 2.0.2 "
    "10.2.8: a data reference of the process); SpiffWorkflow keeps it on the "
    "activity until it completes (engine/spiff/multi_instance.py)"
)
# Diagrams where SpiffWorkflow departs from BPMN / Camunda 7 and Laneway
# corrects it on purpose: the walk against plain SpiffWorkflow must diverge.
_NON_FINITE = (
    "case data is JSON, which has no Infinity or NaN: a script result holding one "
    "(inside a list too) fails the step with an incident; SpiffWorkflow keeps the "
    "float (engine/spiff/scripting.py)"
)
_PEOPLE = (
    "Camunda 7 fails to create a user task whose assignee is not text or whose "
    "candidates are neither a text nor a collection (null included); Laneway "
    "makes it an incident on the task, SpiffWorkflow has no people "
    "(engine/spiff/people.py)"
)
_EVENT_NAME = (
    "a message or signal name with ${...} is resolved when the event is reached, "
    "as Camunda 7 resolves it; a variable it reads that the walk does not set "
    "fails the event with an incident, where SpiffWorkflow waits for the "
    "literal name (engine/spiff/event_names.py)"
)
_RECEIVE_WAIT = (
    "a receive task without a message is a wait state continued by a signal to "
    "its execution, as Camunda 7 runs it (ReceiveTaskActivityBehavior); "
    "SpiffWorkflow passes it at once (a none event fires when reached; "
    "engine/spiff/receive_waits.py)"
)
DEPARTURES: dict[str, str] = {
    **dict.fromkeys(
        ("receive_task_without_message.bpmn", "p15_receive_without_message.bpmn"),
        _RECEIVE_WAIT,
    ),
    **dict.fromkeys(
        (
            "message_name_expression.bpmn",
            "signal_name_expression.bpmn",
            "sigexpr.bpmn",
        ),
        _EVENT_NAME,
    ),
    **dict.fromkeys(
        (
            "eo_execution_listener_expression.bpmn",
            "eo_task_listener_expression.bpmn",
            "eo_execution_local_variable.bpmn",
            "eo_task_listener_set_assignee.bpmn",
            "eo_execution_remove_variable.bpmn",
        ),
        "JUEL reading Camunda 7's engine objects (task.name, execution.eventName, "
        "execution.getVariable, ...) reads what the engine gives the running "
        "element (engine/spiff/engine_objects.py); plain SpiffWorkflow has none",
    ),
    "p7d_implicit_end_keeps_data.bpmn": _IMPLICIT_END,
    "p12_timers.bpmn": _SHARED_VARIABLES,
    "p12_caller_other_file.bpmn": _CALL_DATA,
    "callvars_spiff_inputs.bpmn": (
        "a SpiffArena called process with data inputs and no data outputs: what "
        "it set comes back over the caller's variables and the caller's others "
        "stay (one set of case variables); SpiffWorkflow replaces the caller's data"
    ),
    "p12_io_spec_spiff.bpmn": (
        "a SpiffArena task's ioSpecification says what it reads and produces "
        "(BPMN 2.0.2 §10.3.1): Laneway keeps the case's other variables and adds "
        "the data outputs; SpiffWorkflow leaves only the outputs in the task data, "
        "so later tasks lose every other variable"
    ),
    "p12_data_object_nested.bpmn": (
        "a task two sub-processes deep reads the process's data object: "
        "SpiffWorkflow 3.2's parser loops for ever resolving it "
        "(NodeParser._resolve_data_object_ref; the walk's plain side raises "
        "instead), Laneway finds it in the nearest enclosing scope declaring it, "
        "as BPMN 2.0.2 §10.4.1 (data_objects.DataObjectScopeMixin)"
    ),
    "p7d_start_event_listener_order.bpmn": _IMPLICIT_END,
    "p7d_listener_inclusive_split.bpmn": _IMPLICIT_END,
    "p7d_spiff_mi_output.bpmn": _IMPLICIT_END,
    "p7d_listener_places.bpmn": _SHARED_VARIABLES,
    "p7d_listener_process_end.bpmn": _SHARED_VARIABLES,
    "p7d_mi_probes.bpmn": _SHARED_VARIABLES,
    "people_expressions.bpmn": _SHARED_VARIABLES,  # three parallel branches
    "spiff/arena-multiinstance-user-task-with-timer.bpmn": _OUTPUT_COLLECTION,
    "p4_mi_negative_cardinality.bpmn": _MI_CARDINALITY,
    "people_null.bpmn": _PEOPLE,
    "script_infinity_in_list.bpmn": _NON_FINITE,
    "parallel_join_two_tokens_per_flow.bpmn": _JOIN_TOKENS,
    "p6b_join_one_branch_twice.bpmn": _JOIN_TOKENS,
    "inclusive_join_second_token_same_flow.bpmn": _JOIN_TOKENS,
    "error_in_mi_instance.bpmn": _MI_BOUNDARY,
    "compensation_activity_ref.bpmn": _COMPENSATION,
    "compensation_after_error.bpmn": _COMPENSATION,
    "compensation_end_event.bpmn": _COMPENSATION,
    "compensation_handler_fails.bpmn": _COMPENSATION,
    "compensation_in_subprocess.bpmn": _COMPENSATION,
    "compensation_loop.bpmn": _COMPENSATION,
    "compensation_multi_instance.bpmn": _COMPENSATION,
    "compensation_throw.bpmn": _COMPENSATION,
    "compensation_user_handlers.bpmn": _COMPENSATION,
    "compensation_without_throw.bpmn": _COMPENSATION,
    "operaton/error-compensation--book-travel.bpmn": _COMPENSATION,
    "operaton/travel-booking.bpmn": _COMPENSATION,
    "transaction_cancel.bpmn": _COMPENSATION,
    "p8_compensation_in_mi_sub_process.bpmn": _COMPENSATION,
    "p8_transaction_nested_sub_process.bpmn": _COMPENSATION,
    "p8_compensation_end_in_sub_process.bpmn": _COMPENSATION,
    "p8_compensation_handler_service.bpmn": _COMPENSATION,
    "p8_compensation_in_called_process.bpmn": _COMPENSATION,
    "p8_compensation_sequential_mi.bpmn": _COMPENSATION,
    "p8_pending_compensation_does_not_hold_the_case.bpmn": _COMPENSATION,
    "p8_compensation_mi_completion_condition.bpmn": _COMPENSATION,
    "p8_compensation_receive_task_handler.bpmn": _COMPENSATION,
    "compensation_call_activity_handler.bpmn": _COMPENSATION,
    "compensation_mi_sub_process_ref.bpmn": _COMPENSATION,
    "compensation_sub_process_handler.bpmn": _COMPENSATION,
    "compensation_sub_process_inner.bpmn": _COMPENSATION,
    "compensation_sub_process_running.bpmn": _COMPENSATION,
    "compensation_throw_into_sub_process.bpmn": _COMPENSATION,
    "compensation_transaction_nested_sub_process.bpmn": _COMPENSATION,
    "compensation_event_sub_process.bpmn": _COMPENSATION,
    "compensation_event_sub_process_consume.bpmn": _COMPENSATION,
    "compensation_event_sub_process_mi.bpmn": _COMPENSATION,
    "compensation_event_sub_process_rethrow.bpmn": _COMPENSATION,
    "compensation_ref_from_event_sub_process.bpmn": _COMPENSATION,
    "compensation_thrown_in_event_sub_process.bpmn": _COMPENSATION,
    "compensation_sub_process_handler_and_inner.bpmn": _COMPENSATION,
    "compensation_sub_process_handler_and_inner_ref.bpmn": _COMPENSATION,
    "p8_inclusive_join_other_branch_boundary.bpmn": (
        "an inclusive join does not wait for the path of a boundary event that "
        "has not fired (Camunda 7 follows outgoing sequence flows only); "
        "SpiffWorkflow counts the waiting boundary event as a token "
        "(engine/spiff/joins.py)"
    ),
    "io_input_fails.bpmn": _IO_SCOPE,
    "io_input_fails_after_fork.bpmn": _IO_SCOPE,
    "mi_collection_text_after_fork.bpmn": _MI_NOT_A_LIST,
    "io_in_mi_subprocess.bpmn": _IO_SCOPE,
    "io_nested_scopes.bpmn": _IO_SCOPE,
    "p9_sub_scope_writes.bpmn": _IO_SCOPE,
    "p9_sub_terminate_outputs.bpmn": _IO_SCOPE,
    "p9_throw_end_listener.bpmn": (
        "an escalation throw event's end listener runs when the interrupting "
        "boundary on its sub-process catches the escalation, as Camunda 7 runs "
        "end listeners of cancelled activity instances; SpiffWorkflow's walk "
        "cancels the throw's path before its listener (engine/spiff/events.py)"
    ),
    "p16_catch_end_listener_cancelled.bpmn": (
        "the end listener of an activity a terminate end event cancels runs, as "
        "Camunda 7 deletes it with its custom listeners; SpiffWorkflow runs no "
        "script when it cancels a task (engine/spiff/cancel_listeners.py)"
    ),
    "c7_process_end_delete_listeners.bpmn": (
        "a process's end listeners run when its instance ends, and a user task's "
        "delete listeners when it is cancelled, as in Camunda 7; SpiffWorkflow "
        "runs neither (engine/spiff/process_end.py, cancel_listeners.py)"
    ),
    "io_output_fails.bpmn": _IO_SCOPE,
    "io_script_task.bpmn": _IO_SCOPE,
    "io_sub_input_fails_after_fork.bpmn": _IO_SCOPE,
    "io_subprocess.bpmn": _IO_SCOPE,
    "io_user_task.bpmn": _IO_SCOPE,
    "io_user_task_interrupted.bpmn": _IO_SCOPE,
    "io_call_input_fails.bpmn": _IO_SCOPE,
    "io_call_inputs.bpmn": _IO_SCOPE,
    "io_call_local.bpmn": _IO_SCOPE,
    "io_call_local_source.bpmn": _IO_SCOPE,
    "io_call_output_fails.bpmn": _IO_SCOPE,
    "io_transaction_inputs.bpmn": _IO_SCOPE,
    "io_tasks.bpmn": _IO_SCOPE,
    "io_receive_input_fails.bpmn": _IO_SCOPE,
    "io_throw_events.bpmn": _IO_SCOPE,
    "io_probe_catch.bpmn": _IO_SCOPE,
    "io_probe_throw_fails.bpmn": _IO_SCOPE,
    "io_probe_conditional_loop.bpmn": _IO_SCOPE,
    "io_mi_call_inputs.bpmn": _IO_SCOPE,
    "io_mi_input_fails.bpmn": _IO_SCOPE,
    "io_mi_parallel_inputs.bpmn": _IO_SCOPE,
    "io_mi_sequential_inputs.bpmn": _IO_SCOPE,
    "io_mi_subprocess_inputs.bpmn": _IO_SCOPE,
    "script_parameters.bpmn": _IO_SCOPE,
    "end_join_list.bpmn": _SHARED_VARIABLES,
    # Their parallel branches' variables differ before an error or escalation
    # is thrown (which catcher fires then differs too: _MOST_SPECIFIC).
    "ev_boundary_error_catch_all_first.bpmn": _SHARED_VARIABLES,
    "ev_boundary_escalation_nested.bpmn": _SHARED_VARIABLES,
    # The branch's variable never reaches SpiffWorkflow's copy in the sub-process.
    "conditional_catch_subprocess.bpmn": _SHARED_VARIABLES,
    "dmn_any_single_entry.bpmn": _DMN,
    "dmn_cells_single_entry.bpmn": _DMN,
    "dmn_collect_count_single_entry.bpmn": _DMN,
    "dmn_collect_max_single_entry.bpmn": _DMN,
    "dmn_collect_min_single_entry.bpmn": _DMN,
    "dmn_collect_outputs.bpmn": _DMN,
    "dmn_collect_result_list.bpmn": _DMN,
    "dmn_collect_single_entry.bpmn": _DMN,
    "dmn_collect_sum_single_entry.bpmn": _DMN,
    "dmn_drg_collect_entries.bpmn": _DMN,
    "dmn_first_single_entry.bpmn": _DMN,
    "dmn_literal_expression_single_entry.bpmn": _DMN,
    "dmn_priority_single_entry.bpmn": _DMN,
    "dmn_rule_order_collect_entries.bpmn": _DMN,
    "dmn_unique_overlap_single_entry.bpmn": _DMN,
    "dmn_unique_result_list.bpmn": _DMN,
    "dmn_unique_single_entry.bpmn": _DMN,
    "dmn_unique_single_result.bpmn": _DMN,
    "p6c_dmn_binding_deployment.bpmn": _DMN,
    "p6c_dmn_collect_empty.bpmn": _DMN,
    "p15_dmn_any_typed.bpmn": _DMN,
    "p15_dmn_collect_null.bpmn": _DMN,
    "dmnmi_empty_outputs.bpmn": _DMN,
    "dmnmi_typed.bpmn": _DMN,
    "p6c_dmn_collect_empty_list.bpmn": _DMN,
    "p6c_dmn_literals.bpmn": _DMN,
    "p6c_dmn_null.bpmn": _DMN,
    "p6c_dmn_ns11.bpmn": _DMN,
    "p6c_dmn_ns12.bpmn": _DMN,
    "p6c_dmn_types.bpmn": _DMN,
    "p6c_dmn_values.bpmn": _DMN,
    "p6a_dmn_collectEntries.bpmn": _DMN,
    "p14_dmn_sum_numeric_text.bpmn": _DMN,
    # also: the task's camunda:inputOutput maps around the decision (Camunda 7)
    "p6a_dmn_io.bpmn": _DMN,
    "p6a_dmn_singleEntry.bpmn": _DMN,
    "p6a_dmn_singleResult.bpmn": _DMN,
    "p6a_io_interrupted.bpmn": _EXTERNAL_TASK_RESULT,
    # also: Camunda 7 maps inputs in order, a later one reading an earlier one
    "p6a_io_service.bpmn": _EXTERNAL_TASK_RESULT,
    "refused_script_input_parameter.bpmn": _EXTERNAL_TASK_RESULT,
    # What a task's start and create listeners (its pre-script) set is shared
    # when the task starts, as Camunda 7's listeners set process variables;
    # SpiffWorkflow keeps it in the task's copy until the task completes.
    **dict.fromkeys(
        (
            "p6a_listener_mi_parallel.bpmn",
            "p6a_listener_multi_instance.bpmn",
            "p6a_listener_order.bpmn",
            "p6a_listener_sets_assignee.bpmn",
            "p6a_listener_subprocess.bpmn",
        ),
        _SHARED_VARIABLES,
    ),
    # SpiffWorkflow evaluates a conditional event only when it starts waiting
    # (a JUEL condition naming a missing variable fails it), never on a later
    # variable change; a non-interrupting one fires once; an event
    # sub-process's never fires from inside. Laneway evaluates them on each
    # variable event, outer scope first, as Camunda 7 (conditional_events.py).
    **dict.fromkeys(
        (
            "cond_boundary_delete.bpmn",
            "cond_boundary_multi_instance.bpmn",
            "cond_boundary_noninterrupting.bpmn",
            "cond_boundary_noninterrupting_create.bpmn",
            "cond_boundary_noninterrupting_named.bpmn",
            "cond_boundary_subprocess.bpmn",
            "cond_esp_in_subprocess.bpmn",
            "cond_esp_interrupting.bpmn",
            "cond_esp_noninterrupting.bpmn",
            "cond_same_value_writes.bpmn",
        ),
        "SpiffWorkflow evaluates a conditional event only when it starts "
        "waiting; Camunda 7 (and Laneway) on every variable event of its scope",
    ),
    # Walked since user tasks without candidates deploy (issue 9).
    "camunda/TaskServiceTest.handleUserTaskEscalation.bpmn": (
        "escalation event sub-processes wait for their escalation (events.py); "
        "SpiffWorkflow starts them at once"
    ),
    **dict.fromkeys(
        (
            "xor_conditions.bpmn",
            # its gateway's flow without condition is always true (Camunda 7),
            # so which true flow comes first decides (issue 9)
            "spiff/spm-C.4.0.1.bpmn",
        ),
        "SpiffWorkflow tries a gateway's conditions in the order of the targets' "
        "y coordinates in the drawing; BPMN and Laneway in model order",
    ),
    **dict.fromkeys(
        ("implicit_end_sub_processes.bpmn", "subprocess_no_end.bpmn"),
        "a sub-process without end event completes when its last path has "
        "ended (BPMN 2.0 \u00a710.5.3, Camunda 7); SpiffWorkflow refuses it "
        "('A SubWorkflow Must contain an End event') (engine/spiff/implicit_ends.py)",
    ),
    "manual_task.bpmn": (
        "in a Camunda diagram a manual task passes through as Camunda 7 runs it "
        "(ManualTaskActivityBehavior); SpiffWorkflow waits for it "
        "(engine/spiff/service_tasks.py _ManualTaskParser)"
    ),
    **dict.fromkeys(
        ("implicit_split.bpmn", "implicit_split_merge.bpmn"),
        "SpiffWorkflow refuses several plain outgoing flows of a task; BPMN (and "
        "Laneway) split implicitly",
    ),
    **dict.fromkeys(
        (
            "caller_mapped.bpmn",
            "caller_plain.bpmn",
            "call_data_in_missing.bpmn",
            "call_data_out_expression.bpmn",
            "call_data_out_source.bpmn",
            "call_data_unmapped.bpmn",
            "call_vars_probe.bpmn",
            "callvars_camunda.bpmn",
            "p6c_call_in_mi.bpmn",
            "p6c_call_mi_timer.bpmn",
            # camunda:out also runs when an error / escalation leaves the callee
            "p6c_call_out_on_events.bpmn",
            "p6c_call_out_service_error.bpmn",
            "p6c_call_out_nested.bpmn",
            "p9_activity_flows.bpmn",
            # camunda:in / out only (and external task variables stay in the child)
            "p14_call_external_error.bpmn",
        ),
        _CALL_DATA,
    ),
    **dict.fromkeys(
        ("ev_boundary_error_specific.bpmn",),
        _MOST_SPECIFIC,
    ),
    **dict.fromkeys(
        (
            "call_error.bpmn",
            "p8_call_error_scopes.bpmn",
            "p8_call_mi_error.bpmn",
            # also: camunda:errorCodeVariable / errorMessageVariable (Camunda 7)
            "p8_error_variables_call.bpmn",
            "p8_error_variables_event_sub_process.bpmn",
            "ev_esp_error_scopes.bpmn",
            "ev_esp_error_vs_boundary.bpmn",
            "ev_esp_escalation_interrupting.bpmn",
            "ev_esp_escalation_non_interrupting.bpmn",
            "ev_esp_signal_interrupting.bpmn",
            "ev_esp_timer_interrupting.bpmn",
            "ev_esp_timer_non_interrupting.bpmn",
            "p9_escalations.bpmn",
            "p9_escalation_rethrow.bpmn",
            "p9_callee_esp_timer.bpmn",
            "p9_time_date_duration.bpmn",
        ),
        _EVENT_SCOPE,
    ),
    **dict.fromkeys(
        (
            "parallel_join_loop.bpmn",
            "inclusive_join_loop.bpmn",
            "link_parallel_join.bpmn",  # the loop back is a link
        ),
        _LOOP_JOIN,
    ),
    **dict.fromkeys(
        (
            "mi_boundaries.bpmn",
            "mi_collection_changed.bpmn",
            "mi_completion_first.bpmn",
            "mi_parallel_active_instances_condition.bpmn",
            "mi_parallel_collection_changed.bpmn",
            "mi_sequential_loop_counter_condition.bpmn",
            "mi_parallel_assignee.bpmn",
            "p8_mi_loop_data_input_ref_camunda.bpmn",
            "mi_parallel_condition.bpmn",
            "mi_parallel_script.bpmn",
            "mi_sequential_cardinality.bpmn",
            "mi_sequential_collection.bpmn",
            "mi_subprocess_element_variable_assignee.bpmn",
            "mi_sequential_condition.bpmn",
            "mi_sequential_script.bpmn",
            "terminate_mi_subprocess.bpmn",
            "operaton/multi-instance--document-review.bpmn",
            "p4_mi_message_boundary.bpmn",
            "p5_call_all_mi.bpmn",
            "vars_mi_append.bpmn",
            "p6b_mi_par_ratio.bpmn",
            "p6b_mi_collection_name.bpmn",
            "p6b_mi_subprocess_joins.bpmn",
            "p6b_mi_task_conditions.bpmn",
            "p6b_mi_seq_active.bpmn",
            "p6b_mi_seq_item_replaced.bpmn",
            "p6b_terminate_seq_mi.bpmn",
            "p9_mi_condition_true_at_start.bpmn",
            "p9_mi_data.bpmn",
            "p9_links.bpmn",
            "p9_end_listener_kept.bpmn",
            "p9_mi_terminate_count.bpmn",
            "p9_mi_cycle.bpmn",
            "p9_mi_nested_conditions.bpmn",
            "p9_end_listener_cancelled.bpmn",
            "p11_conditional_flows.bpmn",
            "p13_mi_probes.bpmn",
            "p16_task_name_expressions.bpmn",
        ),
        _MI_LOCALS,
    ),
    **dict.fromkeys(
        (
            "escalation.bpmn",
            "inclusive.bpmn",
            "inclusive_join_3.bpmn",
            "subprocess_embedded.bpmn",
            "subprocess_message_boundary.bpmn",
            "other/flowable-sveltekit-project-approval.bpmn",
            "vars_call_parallel.bpmn",
            "vars_parallel_counter.bpmn",
            "vars_parallel_scripts.bpmn",
            "p6b_incl_nested.bpmn",
            "p6b_task_conditions_join.bpmn",
            # two branches out of the start event's conditional flows meet
            # at an exclusive merge: the second reads the first's variables
            "p6b_event_conditions.bpmn",
        ),
        _SHARED_VARIABLES,
    ),
    **dict.fromkeys(
        (
            "business_rule_external.bpmn",
            "send_task_delegate.bpmn",
            "send_task_external.bpmn",
            # deploys since its take listener runs (issue 9); its rejection mail
            # is a send task with a delegate expression
            "operaton/leave-request.bpmn",
        ),
        _SEND_AS_SERVICE,
    ),
    **dict.fromkeys(
        (
            "service_chain.bpmn",
            "service_down.bpmn",
            "service_external_io.bpmn",
            "service_output_parameters.bpmn",
            "service_result_merged.bpmn",
            "c7_external_error_uncaught.bpmn",
            "mi_uncaught_error.bpmn",
            "vars_external_local.bpmn",
            "vars_external_local_boundary.bpmn",
            "vars_external_local_branch.bpmn",
            "camunda/TwitterDemoProcess.bpmn",
            "camunda/camunda-testing-job-announcement-publication.bpmn",
            "camunda/loanApproval_spring-rest.bpmn",
            "camunda/spring-boot-webapp-sample.bpmn",
            "operaton/call-activity--notify-customer.bpmn",
            "operaton/command-interceptor--supply-chain-approval.bpmn",
            "operaton/distribution-tomcat--document-approval.bpmn",
            "operaton/employee-onboarding--grant-system-access.bpmn",
            "operaton/employee-onboarding--provision-equipment.bpmn",
            "operaton/engine-plugin--purchase-request.bpmn",
            "operaton/external-task-worker--order-fulfillment.bpmn",
            "operaton/incident-management.bpmn",
            "operaton/inclusive-gateway--insurance-claim.bpmn",
            "operaton/integration-mail--job-application.bpmn",
            "operaton/order-fulfillment.bpmn",
            "operaton/process-migration--loan-application-v2.bpmn",
            "operaton/runtime-quarkus--order-approval.bpmn",
            "operaton/signal-events--stock-watcher.bpmn",
            "operaton/supply-chain-tracking.bpmn",
            "operaton/unit-testing--expense-approval.bpmn",
        ),
        _EXTERNAL_TASK_RESULT,
    ),
    "service_connector_scope.bpmn": _CONNECTOR_SCOPE,
    # Probe round 7c: the event sub-processes' timers arm with their scope, a
    # cycle on one runs as on a boundary (timers.EventSubprocessCycleTimer).
    **dict.fromkeys(
        (
            "p7c_cycles.bpmn",
            "p7c_errors.bpmn",
            "p7c_more.bpmn",
            "p7c_timers.bpmn",
            "p7c_timers2.bpmn",
        ),
        _EVENT_SCOPE,
    ),
    "p7c_signals.bpmn": (
        "SpiffWorkflow parses a signal end event as a none end event (nothing "
        "thrown); Laneway throws its signal (engine/spiff/end_events.py)"
    ),
    "p7c_transactions.bpmn": _COMPENSATION,
    "p11_transactions.bpmn": _COMPENSATION,
    "p11_compensation_interrupted.bpmn": _COMPENSATION,
}
# Known Laneway bugs the walk against the in-memory workflow shows (strict
# xfail: fixing one fails the test until its line is removed).
KNOWN_BUGS: dict[str, str] = {}
# A floor, so a change that makes every diagram undeployable cannot pass unseen.
MIN_DIAGRAMS = 40


def _label(path: Path) -> str:
    return path.name if path.parent == DIAGRAMS else str(path.relative_to(CORPUS))


def _operations(path: Path, xml: bytes) -> set[str]:
    """The operations registered when the diagram is deployed.

    The scenario runner's for a conformance diagram (so a diagram a scenario
    expects refused for an unknown operation is refused here too); a corpus
    file's own (tests/processes/test_corpus.py registers them).
    """
    if path.parent == DIAGRAMS:
        return set(OPERATIONS)
    return set(service_operations(xml))


def _normalized(path: Path, called=()) -> bytes:
    xml = path.read_bytes()
    return bundle_compile(
        xml,
        filename=path.name,
        dmn_files=_dmn_for(path),
        known_operations=_operations(path, xml),
        extra_bpmn=called,
    ).normalized_xml


def _executable_keys(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [
        p.get("id")
        for p in root.iterfind("bpmn:process", NS)
        if p.get("isExecutable") == "true"
    ]


@functools.cache
def _conformance_index() -> dict[str, Path]:
    index = {}
    for path in sorted(DIAGRAMS.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            if process.get("isExecutable") == "true":
                index.setdefault(process.get("id"), path)
    return index


def _called(path: Path) -> tuple[tuple[str, bytes], ...]:
    """The normalized XML of the conformance files defining the processes called."""
    if path.parent != DIAGRAMS:
        return ()
    index = _conformance_index()
    return tuple(
        (index[key].name, _normalized(index[key]))
        for key in called_elements(path.read_bytes())
        if key in index
    )


@functools.cache
def _diagram(path: Path) -> tuple[Diagram, bytes] | None:
    """Return the diagram and its normalized XML, or None when the upload refuses it."""
    try:
        called = _called(path)
        diagram = Diagram(
            _label(path), path.read_bytes(), tuple(_dmn_for(path)), called
        )
        return diagram, _normalized(path, called)
    except BpmnParseError:
        return None


def _scenario_values(path: Path) -> dict[str, list]:
    """The start and step data the scenarios of a conformance diagram use."""
    values: dict[str, list] = {}
    if path.parent != DIAGRAMS:
        return values
    for file in scenario_files():
        try:
            scenario = scenario_load(file)[0]
        except ScenarioError:
            continue
        if scenario.bpmn != path.name:
            continue
        steps = [a.data for s in scenario.steps for a in s.actions]
        for data in [scenario.start, *steps]:
            for key, value in data.items():
                if value not in values.setdefault(key, []):
                    values[key].append(value)
    return values


def _deployable() -> list[Path]:
    paths = [*sorted(DIAGRAMS.glob("*.bpmn")), *sorted(CORPUS.rglob("*.bpmn"))]
    return [p for p in paths if _diagram(p) is not None]


def _values(path: Path, diagram: Diagram, normalized: bytes) -> dict[str, list]:
    return {
        **referenced_values(normalized, diagram.dmn),
        **condition_values(normalized),
        **_scenario_values(path),
    }


def _params(marks: dict[str, str], **xfail) -> list:
    return [
        pytest.param(
            p,
            id=_label(p),
            marks=[pytest.mark.xfail(reason=marks[_label(p)], strict=True, **xfail)]
            if _label(p) in marks
            else [],
        )
        for p in _deployable()
    ]


def _walk_all(
    path: Path, reference, *, with_locals: bool, seeds: tuple[int, ...] = SEEDS
) -> None:
    """Walk every executable process of the diagram against `reference`.

    `reference(diagram, normalized, key, process)` returns the factory of the
    reference side (start data -> Side).
    """
    diagram, normalized = _diagram(path)
    values = _values(path, diagram, normalized)
    with calls_configured(**in_memory_calls(diagram)):
        _walk_keys(path, reference, diagram, normalized, values, with_locals, seeds)


def _walk_keys(
    path, reference, diagram, normalized, values, with_locals, seeds
) -> None:
    for key in _executable_keys(normalized):
        process = adapter_process(diagram, normalized, key)
        fresh = _two_processes(
            functools.partial(adapter_process, diagram, normalized, key)
        )
        for seed in seeds:
            walk(
                functools.partial(Production, fresh),
                reference(diagram, normalized, key, process),
                seed=seed,
                values=_with_people(process, {**form_values(process), **values}),
                max_steps=MAX_STEPS,
                with_locals=with_locals,
            )


def _two_processes(compile_one):
    """Two specs compiled apart, used in turn: each step reloads the stored state
    onto the other one, as two web processes each with its own cached spec
    (production's `spec_for`) would. A behaviour carried by the spec object
    rather than the stored state shows at the next step, as with a spec
    compiled afresh per step, without compiling the diagram at every step."""
    specs = (compile_one(), compile_one())
    turns = itertools.count()
    return lambda: specs[next(turns) % 2]


def _with_people(process, values: dict[str, list]) -> dict[str, list]:
    return {**values, **people_values(process, values)}


def _in_memory(diagram, normalized, key, process):
    return functools.partial(InMemory, process)


def _plain(diagram, normalized, key, process):
    return functools.partial(
        Plain, functools.partial(plain_workflow, diagram, normalized, key)
    )


@pytest.mark.parametrize("path", _params(KNOWN_BUGS))
def test_pruned_reloaded_case_agrees_with_the_case_kept_in_memory(path: Path):
    _walk_all(path, _in_memory, with_locals=True, seeds=RELOAD_SEEDS)


@pytest.mark.parametrize("path", _params(DEPARTURES, raises=Diverged))
def test_adapter_agrees_with_plain_spiffworkflow(path: Path):
    _walk_all(path, _plain, with_locals=False)


def test_enough_diagrams_are_walked():
    assert len(_deployable()) >= MIN_DIAGRAMS


def test_diagrams_the_scenarios_expect_refused_are_not_walked():
    refused = set()
    for file in scenario_files():
        try:
            refused.update(s.bpmn for s in scenario_load(file) if s.refused)
        except ScenarioError:
            continue
    walked = {p.name for p in _deployable() if p.parent == DIAGRAMS}
    assert refused and not refused & walked
