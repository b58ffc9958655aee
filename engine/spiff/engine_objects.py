"""What Camunda 7's engine objects in JUEL read here (juel.py, "Engine objects").

Camunda 7's VariableScopeElResolver gives an expression `execution` (the
DelegateExecution / ExecutionEntity it runs in), `task` in a task listener (the
DelegateTask / TaskEntity) and `authenticatedUserId` (the user of the command).
Translated JUEL reads their properties from `engine_facts`, computed for the
running SpiffWorkflow task only when an expression or script reads one
(`ENGINE_FACTS` in its text), and handed to the sandbox as data:

* `execution.processInstanceId`, `task.processInstanceId`: the case id (what
  Laneway's APIs call the process instance: `processInstanceId` of
  /engine-rest); in a called process, which Camunda 7 runs as an instance of
  its own, the id of the call activity's run (a Laneway task id), not the
  case's.
* `execution.id` (and `task.executionId`): the process instance id (above)
  where Camunda 7's execution is the process instance itself: an element
  directly in its process (not inside an embedded sub-process or a
  multi-instance); elsewhere the running element's own id (its SpiffWorkflow
  task id, which the external-task API reports as `executionId`). Camunda 7
  also gives a concurrent path after a parallel split an execution of its own;
  here such an element still reports the process instance id.
* `execution.processBusinessKey`, `execution.businessKey`: the case's business
  key (null when it has none); in a called process the key its call activity's
  `camunda:in businessKey` gave it, else null (Camunda 7: a called instance
  has no business key unless one is passed), or the case's where the called
  process keeps it (SpiffArena and plain diagrams: `waiting.catcher_instance`).
* `execution.processDefinitionId`, `task.processDefinitionId`: the case's
  version as /engine-rest writes it, `key:number:version-id` (Camunda 7's
  `key:version:id` format); in a called process it fails (an incident).
* `execution.currentActivityId` / `currentActivityName`, `task.taskDefinitionKey`
  / `task.name`: the running element's id and name as drawn.
* `task.id`: the user task's SpiffWorkflow task id (the human task's
  `spiff_task_id`).
* `authenticatedUserId`: the username of the person whose action runs the
  step (who completes the task, starts the case, sends the message), null
  where no person acts (a timer, a result of a service, a case's own throw),
  as Camunda 7's job executor has no authenticated user.

`execution.eventName` / `task.eventName` are known at upload (the listener's
event) and translated to text. Nothing else of these objects is callable.
"""

from __future__ import annotations

from typing import Any

from .multi_instance import loop_variables
from .script_helpers import current_host
from .variables import instance_scope
from .waiting import catcher_instance


def _execution_id(task: Any, instance_id: str, scope: Any) -> str:
    if task.workflow is scope and not loop_variables(task):
        return instance_id
    return str(task.id)


def engine_facts(task: Any) -> dict[str, Any]:
    """The properties translated JUEL reads (module doc), for `task`."""
    host = current_host()
    case = host.case_facts() if host is not None else {}
    facts: dict[str, Any] = {
        "authenticatedUserId": host.authenticated_user() if host else None
    }
    if task is None:
        return facts
    scope, owner = instance_scope(task.workflow)
    key = case.get("business_key")
    if owner is None:
        instance_id = case.get("id")
        if case.get("definition_id"):
            facts["execution.processDefinitionId"] = case["definition_id"]
            facts["task.processDefinitionId"] = case["definition_id"]
    else:
        instance_id = str(owner.id)
        instance = catcher_instance(task, top_variables=False)
        key = key if instance.inherits_key else instance.business_key
    spec = task.task_spec
    element = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    execution = _execution_id(task, instance_id, scope) if instance_id else str(task.id)
    if instance_id:
        facts["execution.processInstanceId"] = instance_id
        facts["task.processInstanceId"] = instance_id
    facts.update(
        {
            "execution.id": execution,
            "execution.processBusinessKey": key or None,
            "execution.businessKey": key or None,
            "execution.currentActivityId": element,
            "execution.currentActivityName": name,
            "task.id": str(task.id),
            "task.executionId": execution,
            "task.name": name,
            "task.taskDefinitionKey": element,
        }
    )
    return facts
