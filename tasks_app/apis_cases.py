"""The case API: list and start cases, a start form, one case with your open
tasks, cancel.

It lives in tasks_app, not engine, because a case shows its human tasks.
"""

from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response
from common.sql import select_compiled
from engine import selectors as case_selectors
from engine import services as case_services
from engine.apis import CaseOutput, IncidentOutput, idempotency_key_of
from engine.errors import FormInvalid
from engine.json_safety import StorableJSONField, json_object
from engine.models import BUSINESS_KEY_MAX_LENGTH, Case, CaseStarted

from . import selectors
from .apis import TaskOfCaseOutput, TaskOutput


def visible_open_tasks(case, user, started: CaseStarted | None = None) -> list[dict]:
    if case.started_by_id == user.pk:  # e.g. the start's answer
        if started is not None:
            rows = _open_tasks_started(case, started)
        else:
            rows = selectors.open_tasks_of_starter(case=case)
        return list(TaskOfCaseOutput(rows, many=True).data)
    tasks = [t for t in selectors.task_list_for_case(case=case, user=user) if t.is_open]
    return list(TaskOutput(tasks, many=True).data)


def _open_tasks_started(case, started: CaseStarted) -> list:
    """The rows open_tasks_of_starter reads, from the tasks the start offered."""
    tasks = sorted(
        (t for t in started.tasks if t.is_open),
        key=lambda t: t.created_at,
        reverse=True,
    )
    for task in tasks:
        task.process_key = case.version.definition.key
        task.assignee_username = task.assignee.username if task.assignee else None
    return tasks


def case_detail(case, user) -> dict:
    """Serialize a case with its data, the caller's visible open tasks and incidents.

    The answer of the start that created `case` comes from what the start did
    (Case.started), read from nothing (issue #16).
    """
    started = case.started if case.started and case.started.advances == 1 else None
    if started is not None:
        incidents = sorted(started.incidents, key=lambda i: i.created_at, reverse=True)
        incidents.sort(key=lambda i: i.status)  # open first, as the statement reads
    else:
        incidents = select_compiled(  # compiled once (issue #16)
            ("incident_list_for_case",),
            lambda pk: case_selectors.incident_list_for_case(case=Case(pk=pk)),
            UUID(str(case.pk)),
        )
    for incident in incidents:
        incident.case = case
    return {
        **CaseOutput(case).data,
        "data": case.data,
        "active_elements": case.active_elements,
        "elements": case_selectors.case_element_states(
            case=case,
            incidents=incidents,
            completed=started.completed if started is not None else None,
        ),
        "tasks": visible_open_tasks(case, user, started),
        "incidents": IncidentOutput(incidents, many=True).data,
        "receive_waits": ReceiveWaitOutput(
            started.receive_waits if started is not None else case.receive_waits.all(),
            many=True,
        ).data,
    }


class ReceiveWaitOutput(serializers.Serializer):
    """A receive task without a message the case waits at, until signalled."""

    execution = serializers.UUIDField(
        source="spiff_task_id",
        help_text="The execution id POST /api/v1/executions/{id}/signal/ (and "
        "/engine-rest/execution/{id}/signal) continues.",
    )
    element = serializers.CharField(source="bpmn_id", help_text="The element id.")
    name = serializers.CharField(source="element_name")
    since = serializers.DateTimeField(source="created_at")


class CaseDetailOutput(CaseOutput):
    """The shape `case_detail` returns (for the OpenAPI schema)."""

    # A field named "data" shadows Serializer.data in the stubs only.
    data = serializers.JSONField()  # type: ignore[assignment]
    active_elements = serializers.ListField(child=serializers.CharField())
    elements = serializers.JSONField()
    tasks = TaskOutput(many=True)
    incidents = IncidentOutput(many=True)
    receive_waits = ReceiveWaitOutput(
        many=True,
        help_text="The receive tasks without a message the case waits at "
        "(running or suspended), oldest first; each continues when its "
        "execution is signalled.",
    )


class CaseListStartApi(APIView):
    """List the cases you may see; start a case (honours an Idempotency-Key header)."""

    class StartInput(serializers.Serializer):
        process = serializers.CharField()
        # A field named "data" shadows Serializer.data in the stubs only.
        data = StorableJSONField(  # type: ignore[assignment]
            required=False,
            default=dict,
            help_text="The start form's variables, checked against the start "
            "event's formData fields or its Camunda Form (400 naming the fields; "
            "nothing starts).",
        )
        business_key = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=BUSINESS_KEY_MAX_LENGTH,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="A case status."),
            OpenApiParameter("process", str, description="A process key."),
        ],
        responses={200: paginated(CaseOutput)},
        operation_id="v1_cases_list",
    )
    def get(self, request):
        qs = case_selectors.case_list_for_user(
            user=request.user,
            status=request.query_params.get("status"),
            key=request.query_params.get("process"),
        )
        return paginated_response(
            request=request, view=self, items=qs, serializer=CaseOutput
        )

    @extend_schema(
        request=StartInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Repeat a start safely: one key, one case.",
            )
        ],
        responses={200: CaseDetailOutput, 201: CaseDetailOutput},
    )
    def post(self, request):
        idempotency_key = idempotency_key_of(request)
        data = self.StartInput(data=request.data)
        data.is_valid(raise_exception=True)
        case, created = case_services.case_start(
            user=request.user,
            key=data.validated_data["process"],
            data=json_object(data.validated_data["data"]),
            business_key=data.validated_data["business_key"],
            idempotency_key=idempotency_key,
        )
        return Response(
            case_detail(case, request.user),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConditionEvaluateApi(APIView):
    """Start cases by their conditional start events (Camunda 7's condition evaluation).

    The conditional start events of the latest version of every process (or of
    `process`) are evaluated on `variables`; each that holds starts one case
    with them and `business_key`. 200 lists the cases started (none when no
    condition holds); 404 `no_conditional_start` when there is no conditional
    start event to evaluate; 403 naming the process, nothing started, when one
    would start a case the caller may not start. An `Idempotency-Key` header
    replays the first answer.
    """

    # 404: no conditional start event to evaluate, or no process `process`.
    schema_error_codes = ("404",)

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ConditionInput"

        variables = StorableJSONField(
            required=False,
            default=dict,
            help_text="The variables the conditions are evaluated on; every "
            "case started gets them.",
        )
        business_key = serializers.CharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            default="",
            max_length=BUSINESS_KEY_MAX_LENGTH,
        )
        process = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="A process key: evaluate only its conditional start events.",
        )

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "ConditionOutput"

        started = CaseDetailOutput(many=True)

    @extend_schema(
        request=Input,
        responses={200: Output},
        parameters=[OpenApiParameter("Idempotency-Key", str, location="header")],
    )
    def post(self, request):
        idempotency_key = idempotency_key_of(request)
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        if not isinstance(body["variables"], dict):
            raise FormInvalid(
                "'variables' must be a JSON object.",
                details={"fields": {"variables": ["Give a JSON object."]}},
            )
        cases = case_services.condition_evaluate(
            user=request.user,
            variables=body["variables"],
            business_key=body["business_key"] or "",
            key=body["process"],
            idempotency_key=idempotency_key,
        )
        started = [case_detail(case, request.user) for case in cases]
        return Response({"started": started}, status=status.HTTP_200_OK)


class CaseDetailApi(APIView):
    """One case: status, data, your open tasks, incidents."""

    @extend_schema(responses={200: CaseDetailOutput})
    def get(self, request, case_id):
        case = case_selectors.case_get(user=request.user, case_id=case_id)
        return Response(case_detail(case, request.user))


class CaseCancelApi(APIView):
    """Cancel a running case.

    The end execution listeners of its active activities run first, unless
    `?skipCustomListeners=true` (Camunda 7's DELETE /process-instance/{id}
    query parameter, default false). A listener that fails refuses the
    cancellation (409 `cancellation_failed`), the case unchanged."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "CaseCancelInput"

        reason = serializers.CharField(required=False, allow_blank=True, default="")

    class Query(serializers.Serializer):
        class Meta:
            ref_name = "CaseCancelQuery"

        skipCustomListeners = serializers.BooleanField(  # noqa: N815 - Camunda's name
            required=False,
            default=False,
            help_text="Skip the end listeners of the active activities "
            "(Camunda 7's skipCustomListeners; default false: they run).",
        )

    @extend_schema(
        request=Input,
        parameters=[Query],
        responses={200: CaseDetailOutput},
    )
    def post(self, request, case_id):
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        case = case_services.case_cancel(
            user=request.user,
            case_id=case_id,
            skip_custom_listeners=query.validated_data["skipCustomListeners"],
            **data.validated_data,
        )
        return Response(case_detail(case, request.user))


class StartFormOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    documentation = serializers.CharField(
        help_text="The start event's documentation (what the start page says)."
    )
    form = serializers.JSONField(
        help_text="The start event's formData fields (a list, as a task's `form`)."
    )
    form_js = serializers.JSONField(
        allow_null=True,
        help_text="The start event's Camunda Form (form-js JSON), shown instead "
        "of `form`; null when it has none.",
    )


class StartFormApi(APIView):
    """The start form of a process's current version, or of version `number`
    (Camunda 7's deployed-start-form), to those who may start it: 403 to others,
    409 when the process starts only by its message, signal or timer."""

    schema_error_codes = ("409",)

    @extend_schema(responses={200: StartFormOutput})
    def get(self, request, key: str, number: int | None = None):
        form = case_selectors.process_start_form_get(
            user=request.user, key=key, number=number
        )
        return Response(StartFormOutput(form).data)
