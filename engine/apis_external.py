"""Camunda 7's external-task REST API under /engine-rest/external-task/.

Request and response shapes are Camunda's own (camelCase, typed variables, ISO
times with a numeric offset), so Camunda's published external-task clients work
unchanged. config/engine_rest.py mounts these views with HTTP basic and token
authentication and Camunda's error shape ``{"type", "message"}``; they are left
out of Laneway's OpenAPI schema, since Camunda documents them.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.errors import DefinitionNotFound, VersionNotFound
from processes.models import ProcessVersion
from processes.selectors import version_get

from .camunda_variables import VariableInvalid, variables_typed, variables_untyped
from .errors import (
    FormInvalid,
    MessageAmbiguous,
    MessageNotCorrelated,
    NoConditionalStart,
)
from .models import BUSINESS_KEY_MAX_LENGTH, Case, ReceiveWait, ServiceCall
from .selectors import receive_wait_get, receive_wait_list_for_user
from .services import (
    condition_evaluate,
    message_deliver,
    message_send_check,
    receive_signal,
    receive_signal_check,
)
from .services import external_tasks as service

# Bounds that keep bad input a 400: a lock or retry timeout of at most ten years
# (later times overflow), counts that fit PostgreSQL's integer.
MAX_MS = 10 * 365 * 24 * 3600 * 1000
MAX_INT = 2**31 - 1


def camunda_time(moment: datetime | None) -> str | None:
    """Return Camunda's date format: 2026-01-31T12:00:00.000+0000."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def external_task_dto(call: ServiceCall) -> dict[str, Any]:
    """Return an external task as Camunda's ExternalTaskDto."""
    case = call.case
    version = case.version
    failed = call.status == ServiceCall.Status.FAILED
    return {
        "id": str(call.pk),
        "topicName": call.operation,
        "workerId": call.worker_id or None,
        "lockExpirationTime": camunda_time(call.lock_expires_at),
        "createTime": camunda_time(call.created_at),
        "processInstanceId": str(case.pk),
        "executionId": str(call.spiff_task_id),
        "activityId": call.bpmn_id,
        "activityInstanceId": f"{call.bpmn_id}:{call.spiff_task_id}",
        "processDefinitionId": (
            f"{version.definition.key}:{version.number}:{version.pk}"
        ),
        "processDefinitionKey": version.definition.key,
        "processDefinitionVersionTag": None,
        "businessKey": case.business_key or None,
        "retries": 0 if failed else call.retries,
        "errorMessage": call.last_error or None,
        "suspended": case.status == case.Status.SUSPENDED,
        "tenantId": None,
        "priority": 0,
    }


def _invalid(message: str) -> FormInvalid:
    return FormInvalid(message, details={"fields": {}})


def _untyped(data: Any, field: str) -> dict[str, Any]:
    try:
        return variables_untyped(data, field=field)
    except VariableInvalid as exc:
        raise _invalid(str(exc)) from None


class EngineRestView(APIView):
    """A Camunda-shaped endpoint; config/engine_rest.py sets auth and errors."""

    schema = None  # Camunda's own REST reference documents it
    # Set by config (as_view): the exception handler giving Camunda's error shape.
    exception_handler: Callable[..., Any] | None = None

    def get_exception_handler(self):
        return self.exception_handler or super().get_exception_handler()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and throttles
        service.external_worker_check(request.user)  # 403 before reading the body

    def valid(self, serializer_class: type[serializers.Serializer]) -> dict:
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def query(
        self, serializer_class: type[serializers.Serializer], camunda: frozenset[str]
    ) -> dict:
        """Bind the query parameters `serializer_class` reads, as Camunda 7's
        AbstractQueryDto binds those it has a @CamundaQueryParam setter for:
        any other parameter is ignored (a cache buster, a client's extra), and
        a bad value of a read one is a 400 naming it (InvalidRequestException).

        Except the filters and sorting Camunda's query has and Laneway does not
        apply (`camunda`, less those read): ignored, the answer would hold more
        rows, or another order, than asked for, so they are a 400 naming them.
        """
        read = set(serializer_class().fields)
        unapplied = sorted((set(self.request.query_params) & camunda) - read)
        if unapplied:
            raise _invalid(
                f"Unsupported query parameter {', '.join(unapplied)}: Laneway "
                f"filters by {', '.join(sorted(read - _PAGING))} only "
                "(and pages by firstResult and maxResults)."
            )
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)


_PAGING = {"firstResult", "maxResults"}
# AbstractQueryDto's sorting, on every Camunda list query.
_CAMUNDA_SORTING = frozenset({"sortBy", "sortOrder"})


class _Topic(serializers.Serializer):
    topicName = serializers.CharField(max_length=255)
    lockDuration = serializers.IntegerField(min_value=1, max_value=MAX_MS)
    variables = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    businessKey = serializers.CharField(required=False, allow_null=True)
    processDefinitionKey = serializers.CharField(required=False, allow_null=True)
    processDefinitionKeyIn = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    processVariables = serializers.DictField(required=False, allow_null=True)


class _Fetch(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    maxTasks = serializers.IntegerField(min_value=0, max_value=1000, default=1)
    usePriority = serializers.BooleanField(required=False, allow_null=True)
    asyncResponseTimeout = serializers.IntegerField(
        min_value=0, max_value=MAX_MS, required=False, allow_null=True
    )
    topics = serializers.ListField(child=_Topic(), allow_empty=True)


def _topic(data: dict) -> service.TopicRequest:
    keys = data.get("processDefinitionKeyIn")
    if data.get("processDefinitionKey"):
        keys = [*(keys or []), data["processDefinitionKey"]]
    variables = data.get("variables")
    return service.TopicRequest(
        name=data["topicName"],
        lock_ms=data["lockDuration"],
        variables=None if variables is None else tuple(variables),
        business_key=data.get("businessKey"),
        process_keys=None if keys is None else tuple(keys),
        process_variables=_untyped(data.get("processVariables"), "processVariables")
        or None,
    )


class FetchAndLockApi(EngineRestView):
    """POST fetchAndLock: lock tasks of the topics for a worker (long polling)."""

    def post(self, request):
        body = self.valid(_Fetch)
        topics = [_topic(t) for t in body["topics"]]
        locked = service.external_tasks_fetch(
            user=request.user,
            worker_id=body["workerId"],
            topics=topics,
            max_tasks=body["maxTasks"],
            wait_seconds=(body.get("asyncResponseTimeout") or 0) / 1000,
        )
        return Response(
            [
                {
                    **external_task_dto(task.call),
                    "variables": variables_typed(task.variables),
                    "extensionProperties": {},
                }
                for task in locked
            ]
        )


class _Complete(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    variables = serializers.JSONField(required=False, allow_null=True)
    localVariables = serializers.JSONField(required=False, allow_null=True)


class CompleteApi(EngineRestView):
    """POST {id}/complete: the worker's variables become case variables.

    Its localVariables are set on the task's execution, as in Camunda 7: the
    task's own scope when it has camunda:inputOutput (its output parameters
    read them; gone when it completes unless an output maps them), else the
    process instance (case variables) or the embedded sub-process it runs in;
    refused (400) where Camunda would keep them on a parallel branch
    (`external_task_complete`).
    """

    def post(self, request, task_id: str):
        body = self.valid(_Complete)
        variables = _untyped(body.get("variables"), "variables")
        local = _untyped(body.get("localVariables"), "localVariables")
        service.external_task_complete(
            user=request.user,
            task_id=task_id,
            worker_id=body["workerId"],
            variables=variables,
            local_variables=local,
        )
        return Response(status=204)


class _Failure(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    errorMessage = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=10000
    )
    errorDetails = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=100000
    )
    retries = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    retryTimeout = serializers.IntegerField(min_value=0, max_value=MAX_MS, default=0)
    # Camunda 7 sets these on the task's execution before the retry; Laneway
    # does not, and says so rather than drop them.
    variables = serializers.JSONField(required=False, allow_null=True)
    localVariables = serializers.JSONField(required=False, allow_null=True)


class FailureApi(EngineRestView):
    """POST {id}/failure: retry after retryTimeout, or an incident at 0 retries."""

    def post(self, request, task_id: str):
        body = self.valid(_Failure)
        for field in ("variables", "localVariables"):
            if body.get(field):
                raise _invalid(
                    f"{field} on a failure are not supported: Laneway sets no "
                    "variables when a task fails (Camunda 7 would set them on "
                    "the task's execution). Report the failure without them, or "
                    "complete the task with them."
                )
        service.external_task_failure(
            user=request.user,
            task_id=task_id,
            worker_id=body["workerId"],
            error_message=body.get("errorMessage") or "",
            error_details=body.get("errorDetails") or "",
            retries=body["retries"],
            retry_timeout_ms=body["retryTimeout"],
        )
        return Response(status=204)


class _BpmnError(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    errorCode = serializers.CharField(max_length=255)
    errorMessage = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=10000
    )
    variables = serializers.JSONField(required=False, allow_null=True)


class BpmnErrorApi(EngineRestView):
    """POST {id}/bpmnError: thrown at the task for an error boundary to catch."""

    def post(self, request, task_id: str):
        body = self.valid(_BpmnError)
        service.external_task_bpmn_error(
            user=request.user,
            task_id=task_id,
            worker_id=body["workerId"],
            error_code=body["errorCode"],
            error_message=body.get("errorMessage") or "",
            variables=_untyped(body.get("variables"), "variables"),
        )
        return Response(status=204)


class _ExtendLock(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    newDuration = serializers.IntegerField(min_value=1, max_value=MAX_MS)


class ExtendLockApi(EngineRestView):
    """POST {id}/extendLock: the worker keeps its lock newDuration ms from now."""

    def post(self, request, task_id: str):
        body = self.valid(_ExtendLock)
        service.external_task_extend_lock(
            user=request.user,
            task_id=task_id,
            worker_id=body["workerId"],
            new_duration_ms=body["newDuration"],
        )
        return Response(status=204)


class _Lock(serializers.Serializer):
    workerId = serializers.CharField(max_length=255)
    lockDuration = serializers.IntegerField(min_value=1, max_value=MAX_MS)


class LockApi(EngineRestView):
    """POST {id}/lock: lock this task for the worker (unless another holds it)."""

    def post(self, request, task_id: str):
        body = self.valid(_Lock)
        service.external_task_lock(
            user=request.user,
            task_id=task_id,
            worker_id=body["workerId"],
            lock_ms=body["lockDuration"],
        )
        return Response(status=204)


class ErrorDetailsApi(EngineRestView):
    """GET {id}/errorDetails: the details of the last reported failure, as text."""

    def get(self, request, task_id: str):
        details = service.external_task_error_details(
            user=request.user, task_id=task_id
        )
        return HttpResponse(details, content_type="text/plain; charset=utf-8")


class UnlockApi(EngineRestView):
    """POST {id}/unlock: the task is fetchable again at once."""

    def post(self, request, task_id: str):
        service.external_task_unlock(user=request.user, task_id=task_id)
        return Response(status=204)


class _ListQuery(serializers.Serializer):
    externalTaskId = serializers.CharField(required=False)
    topicName = serializers.CharField(required=False)
    workerId = serializers.CharField(required=False)
    locked = serializers.BooleanField(required=False, default=False)
    notLocked = serializers.BooleanField(required=False, default=False)
    processInstanceId = serializers.UUIDField(required=False)
    activityId = serializers.CharField(required=False)
    withRetriesLeft = serializers.BooleanField(required=False, default=False)
    noRetriesLeft = serializers.BooleanField(required=False, default=False)
    firstResult = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT, default=0
    )
    maxResults = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT
    )


# ExternalTaskQueryDto's parameters (Camunda 7.x engine-rest).
_CAMUNDA_EXTERNAL_TASK_QUERY = _CAMUNDA_SORTING | {
    "externalTaskId",
    "externalTaskIdIn",
    "activityId",
    "activityIdIn",
    "lockExpirationBefore",
    "lockExpirationAfter",
    "topicName",
    "locked",
    "notLocked",
    "executionId",
    "processInstanceId",
    "processInstanceIdIn",
    "processDefinitionId",
    "active",
    "suspended",
    "withRetriesLeft",
    "noRetriesLeft",
    "workerId",
    "tenantIdIn",
    "priorityHigherThanOrEquals",
    "priorityLowerThanOrEquals",
}


def _filtered(view: EngineRestView) -> tuple[Any, dict]:
    request = view.request
    q = view.query(_ListQuery, _CAMUNDA_EXTERNAL_TASK_QUERY)
    where = service.ExternalTaskFilter(
        external_task_id=q.get("externalTaskId"),
        topic_name=q.get("topicName"),
        worker_id=q.get("workerId"),
        locked=q["locked"],
        not_locked=q["notLocked"],
        process_instance_id=q.get("processInstanceId"),
        activity_id=q.get("activityId"),
        with_retries_left=q["withRetriesLeft"],
        no_retries_left=q["noRetriesLeft"],
    )
    return service.external_task_list(user=request.user, where=where), q


def _page(rows: Any, q: dict) -> Any:
    """The rows Camunda's firstResult and maxResults select."""
    start = q["firstResult"]
    return rows[start : start + q["maxResults"] if "maxResults" in q else None]


class ExternalTaskListApi(EngineRestView):
    """GET the open external tasks (Camunda's filters, firstResult/maxResults)."""

    def get(self, request):
        rows, q = _filtered(self)
        return Response([external_task_dto(call) for call in _page(rows, q)])


class ExternalTaskCountApi(EngineRestView):
    """GET count: how many open external tasks match the filters."""

    def get(self, request):
        rows, _ = _filtered(self)
        return Response({"count": rows.count()})


class ExternalTaskDetailApi(EngineRestView):
    """GET {id}: one open external task."""

    def get(self, request, task_id: str):
        call = service.external_task_get(user=request.user, task_id=task_id)
        return Response(external_task_dto(call))


class _Condition(serializers.Serializer):
    variables = serializers.JSONField(required=False, allow_null=True)
    businessKey = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=BUSINESS_KEY_MAX_LENGTH,
    )
    processDefinitionId = serializers.CharField(
        required=False, allow_null=True, max_length=255
    )
    tenantId = serializers.CharField(required=False, allow_null=True)
    withoutTenantId = serializers.BooleanField(required=False, allow_null=True)


def _definition(definition_id: str) -> ProcessVersion:
    """The version a Camunda processDefinitionId (key:number:id) names."""
    key, _, rest = definition_id.partition(":")
    number, _, pk = rest.partition(":")
    try:
        version = version_get(key=key, number=int(number))
    except (ValueError, DefinitionNotFound, VersionNotFound):
        version = None
    if version is None or str(version.pk) != pk:
        raise NoConditionalStart(
            f"No deployed process definition found with id '{definition_id}'.",
            details={"processDefinitionId": definition_id},
        )
    return version


def process_instance_dto(case: Case) -> dict[str, Any]:
    """Return a case as Camunda's ProcessInstanceDto."""
    version = case.version
    return {
        "links": [],
        "id": str(case.pk),
        "definitionId": f"{version.definition.key}:{version.number}:{version.pk}",
        "businessKey": case.business_key or None,
        "caseInstanceId": None,
        "ended": case.ended_at is not None,
        "suspended": case.status == Case.Status.SUSPENDED,
        "tenantId": None,
    }


class ConditionEvaluateApi(EngineRestView):
    """POST /condition: start cases by their conditional start events.

    Camunda 7's ConditionRestService.evaluateCondition (engine.services
    .conditions): typed `variables`, `businessKey`, `processDefinitionId`;
    answers the list of process instances started. Laneway has no tenants: a
    `tenantId` finds no conditional start event. Needs the right to evaluate
    conditions, not the external-task worker's.
    """

    def initial(self, request, *args, **kwargs):
        APIView.initial(self, request, *args, **kwargs)  # no external-worker check

    def post(self, request):
        body = self.valid(_Condition)
        variables = _untyped(body.get("variables"), "variables")
        if body.get("tenantId") and body.get("withoutTenantId"):
            raise _invalid(
                "Parameter 'tenantId' cannot be used together with parameter "
                "'withoutTenantId'."
            )
        if body.get("tenantId"):
            raise NoConditionalStart(
                "No subscriptions were found during evaluation of the conditional "
                f"start events (Laneway has no tenant '{body['tenantId']}').",
            )
        definition_id = body.get("processDefinitionId")
        cases = condition_evaluate(
            user=request.user,
            variables=variables,
            business_key=body.get("businessKey") or "",
            version=_definition(definition_id) if definition_id else None,
        )
        return Response([process_instance_dto(case) for case in cases])


class _Message(serializers.Serializer):
    messageName = serializers.CharField(max_length=255)
    businessKey = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=BUSINESS_KEY_MAX_LENGTH,
    )
    processInstanceId = serializers.UUIDField(required=False, allow_null=True)
    correlationKeys = serializers.JSONField(required=False, allow_null=True)
    localCorrelationKeys = serializers.JSONField(required=False, allow_null=True)
    processVariables = serializers.JSONField(required=False, allow_null=True)
    processVariablesLocal = serializers.JSONField(required=False, allow_null=True)
    processVariablesToTriggeredScope = serializers.JSONField(
        required=False, allow_null=True
    )
    tenantId = serializers.CharField(required=False, allow_null=True)
    withoutTenantId = serializers.BooleanField(required=False, allow_null=True)
    all = serializers.BooleanField(required=False, default=False)
    resultEnabled = serializers.BooleanField(required=False, default=False)
    variablesInResultEnabled = serializers.BooleanField(required=False, default=False)


# What Laneway cannot do with a message: refused, never ignored.
_MESSAGE_UNSUPPORTED = {
    "localCorrelationKeys": "correlation by the local variables of the waiting "
    "element is not supported; use correlationKeys (process variables)",
    "processVariablesLocal": "variables local to the waiting element are not "
    "supported; use processVariables",
    "processVariablesToTriggeredScope": "variables on the triggered scope are "
    "not supported; use processVariables",
}


def _mismatch(name: str, why: str) -> Response:
    """Camunda 7's answer to a MismatchingMessageCorrelationException."""
    return Response(
        {
            "type": "RestException",
            "message": f"Cannot correlate message '{name}': {why}",
        },
        status=400,
    )


class MessageCorrelationApi(EngineRestView):
    """POST /message: correlate a message (Camunda 7's MessageRestService).

    `correlate()` (or `correlateAll()` with `all`) through
    engine.services.message_deliver: `businessKey`, `processInstanceId` and
    typed `correlationKeys` select the waiting cases, typed
    `processVariables` go to the case it reaches or starts. No match, or
    more than one without `all`, is Camunda's 400 and changes nothing.
    `resultEnabled` answers the results (200) instead of 204, with each
    case's variables after the correlation when `variablesInResultEnabled`.
    Laneway has no tenants (a `tenantId` matches nothing) and no
    element-local variables (refused with 400). Needs the right to send
    messages, not the external-task worker's.
    """

    def initial(self, request, *args, **kwargs):
        APIView.initial(self, request, *args, **kwargs)  # no external-worker check
        message_send_check(request.user)  # 403 before reading the body

    def post(self, request):
        body = self.valid(_Message)
        name = body["messageName"]
        for field, why in _MESSAGE_UNSUPPORTED.items():
            if body.get(field):
                raise _invalid(f"{field}: {why}.")
        correlation = _untyped(body.get("correlationKeys"), "correlationKeys")
        data = _untyped(body.get("processVariables"), "processVariables")
        if body.get("tenantId"):
            return _mismatch(
                name, "No process definition or execution matches the parameters"
            )
        try:
            result = message_deliver(
                user=request.user,
                name=name,
                correlation=correlation,
                data=data,
                deliver_all=body["all"],
                business_key=body.get("businessKey") or "",
                case_id=body.get("processInstanceId"),
            )
        except MessageNotCorrelated:
            return _mismatch(
                name, "No process definition or execution matches the parameters"
            )
        except MessageAmbiguous as exc:
            return _mismatch(name, exc.message)
        if not body["resultEnabled"]:
            return HttpResponse(status=204)
        with_variables = body["variablesInResultEnabled"]
        cases = Case.objects.select_related("version__definition").in_bulk(
            [*result.delivered, *result.started]
        )
        return Response(
            [
                _correlation_result(cases[pk], started=False, variables=with_variables)
                for pk in result.delivered
            ]
            + [
                _correlation_result(cases[pk], started=True, variables=with_variables)
                for pk in result.started
            ]
        )


def _correlation_result(case: Case, *, started: bool, variables: bool) -> dict:
    """Camunda's MessageCorrelationResult(WithVariables)Dto for one case."""
    if started:
        found: dict[str, Any] = {
            "resultType": "ProcessDefinition",
            "execution": None,
            "processInstance": process_instance_dto(case),
        }
    else:
        found = {
            "resultType": "Execution",
            "execution": {
                "id": str(case.pk),
                "processInstanceId": str(case.pk),
                "ended": case.ended_at is not None,
                "tenantId": None,
            },
            "processInstance": None,
        }
    if variables:
        found["variables"] = variables_typed(dict(case.data))
    return found


class _Signal(serializers.Serializer):
    variables = serializers.JSONField(required=False, allow_null=True)


class ExecutionSignalApi(EngineRestView):
    """POST /execution/{id}/signal: continue a receive task without a message
    (Camunda 7's ExecutionRestService, RuntimeService.signal).

    The execution id is the waiting task's (as `executionId` of an external
    task); typed `variables` become case variables first; 204. Nothing waiting
    as that execution (never, or already continued) answers 404. Needs the
    right to continue receive tasks, not the external-task worker's.
    """

    def initial(self, request, *args, **kwargs):
        APIView.initial(self, request, *args, **kwargs)  # no external-worker check
        receive_signal_check(request.user)  # 403 before reading the body

    def post(self, request, execution_id: str):
        body = self.valid(_Signal)
        data = _untyped(body.get("variables"), "variables")
        receive_signal(user=request.user, execution_id=execution_id, data=data)
        return HttpResponse(status=204)


def execution_dto(wait: ReceiveWait) -> dict[str, Any]:
    """Return a waiting receive task as Camunda's ExecutionDto."""
    return {
        "id": str(wait.spiff_task_id),
        "processInstanceId": str(wait.case_id),
        "ended": False,
        "tenantId": None,
    }


class _ExecutionQuery(serializers.Serializer):
    processInstanceId = serializers.UUIDField(required=False)
    activityId = serializers.CharField(required=False)
    businessKey = serializers.CharField(required=False)
    processDefinitionKey = serializers.CharField(required=False)
    firstResult = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT, default=0
    )
    maxResults = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT
    )


# ExecutionQueryDto's parameters (Camunda 7.x engine-rest).
_CAMUNDA_EXECUTION_QUERY = _CAMUNDA_SORTING | {
    "processDefinitionKey",
    "businessKey",
    "processDefinitionId",
    "processInstanceId",
    "activityId",
    "signalEventSubscriptionName",
    "messageEventSubscriptionName",
    "variables",
    "processVariables",
    "active",
    "suspended",
    "incidentId",
    "incidentType",
    "incidentMessage",
    "incidentMessageLike",
    "tenantIdIn",
}


def _executions(view: EngineRestView) -> tuple[Any, dict]:
    q = view.query(_ExecutionQuery, _CAMUNDA_EXECUTION_QUERY)
    rows = receive_wait_list_for_user(
        user=view.request.user,
        case_id=q.get("processInstanceId"),
        bpmn_id=q.get("activityId"),
        business_key=q.get("businessKey"),
        process_key=q.get("processDefinitionKey"),
    )
    return rows, q


class _ExecutionRead(EngineRestView):
    def initial(self, request, *args, **kwargs):
        APIView.initial(self, request, *args, **kwargs)  # no external-worker check


class ExecutionListApi(_ExecutionRead):
    """GET /execution: the executions waiting at a receive task without a message
    in the cases the caller may see (Camunda 7's ExecutionRestService.getExecutions),
    filtered by processInstanceId, activityId, businessKey, processDefinitionKey;
    firstResult/maxResults page. Camunda's other filters and its sorting are
    refused (400), not ignored; parameters Camunda does not know are ignored,
    as it ignores them (EngineRestView.query).
    """

    def get(self, request):
        rows, q = _executions(self)
        return Response([execution_dto(wait) for wait in _page(rows, q)])


class ExecutionCountApi(_ExecutionRead):
    """GET /execution/count: how many such executions match the filters."""

    def get(self, request):
        rows, _ = _executions(self)
        return Response({"count": rows.count()})


class ExecutionDetailApi(_ExecutionRead):
    """GET /execution/{id}: one waiting execution; 404 when nothing waits as it
    or the caller may not see its case (Camunda 7's ExecutionResource)."""

    def get(self, request, execution_id: str):
        wait = receive_wait_get(user=request.user, execution_id=execution_id)
        return Response(execution_dto(wait))
