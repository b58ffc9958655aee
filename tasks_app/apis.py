"""The task API: the inbox, one task, and claim/release/complete/assign/delegate."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response
from engine.human_tasks import PRIORITY_RANGE
from engine.json_safety import StorableJSONField, json_object

from . import selectors, services
from .lifecycle import actions_allowed
from .selectors import INBOX_SORTS, InboxTab
from .team import team_list_for_manager


class TaskOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    process = serializers.CharField(source="case.version.definition.key")
    bpmn_id = serializers.CharField()
    name = serializers.CharField()
    lane = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.CharField(source="assignee.username", default=None)
    candidate_groups = serializers.ListField(child=serializers.CharField())
    candidate_users = serializers.ListField(child=serializers.CharField())
    due_at = serializers.DateTimeField()
    priority = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    business_data = serializers.DictField(
        child=serializers.CharField(),
        help_text="The process's declared columns (e.g. amount, requester) as text.",
    )


class TaskOfCaseOutput(TaskOutput):
    """A TaskOutput row of the inbox's lists (selectors.inbox_list_for_user, and
    the compiled statements of inbox_list_of_case and open_tasks_of_starter):
    the same JSON, from the row's `process_key` and `assignee_username` values.

    The row is written by `_row_of_case`, what each declared field's
    `to_representation` gives, without DRF making and deep-copying the 14 field
    objects for every serializer (a fifth of the lookup's Python, issue #16).
    The fields stay declared: they are the OpenAPI schema's, and a field added
    to TaskOutput fails tests/api/test_lookup_rows.py until the row has it.
    """

    process = serializers.CharField(source="process_key")
    assignee = serializers.CharField(source="assignee_username", allow_null=True)

    def to_representation(self, instance):
        return _row_of_case(instance)


# DRF's own datetime output (the current time zone, ISO 8601, "Z" for UTC).
_WHEN = serializers.DateTimeField()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _when(value: Any) -> str | None:
    return None if value is None else _WHEN.to_representation(value)


def _texts(values: Any) -> list[str | None] | None:
    return None if values is None else [_text(v) for v in values]


def _row_of_case(task: Any) -> dict[str, Any]:
    """Return TaskOfCaseOutput's row of `task`, in its fields' order (None stays
    None, as DRF writes a missing value)."""
    return _task_row(task, _text(task.process_key), _text(task.assignee_username))


def _task_row(task: Any, process: str | None, assignee: str | None) -> dict[str, Any]:
    """Return TaskOutput's fields of `task`, with its process key and assignee."""
    priority, business = task.priority, task.business_data
    return {
        "id": _text(task.id),
        "case": _text(task.case_id),
        "process": process,
        "bpmn_id": _text(task.bpmn_id),
        "name": _text(task.name),
        "lane": _text(task.lane),
        "status": _text(task.status),
        "assignee": assignee,
        "candidate_groups": _texts(task.candidate_groups),
        "candidate_users": _texts(task.candidate_users),
        "due_at": _when(task.due_at),
        "priority": None if priority is None else int(priority),
        "created_at": _when(task.created_at),
        "business_data": None
        if business is None
        else {str(key): _text(value) for key, value in business.items()},
    }


class TaskDetailOutput(TaskOutput):
    documentation = serializers.CharField()
    form = serializers.JSONField()
    form_js = serializers.JSONField(
        allow_null=True, help_text="The Camunda Form (form-js JSON) it renders, if any."
    )
    case_data = serializers.JSONField(source="case.data")
    local_data = serializers.JSONField(
        help_text="The task's local variables (its camunda:inputOutput inputs, a "
        "multi-instance instance's): they hide case_data's of their names in "
        "its form."
    )
    completed_at = serializers.DateTimeField()
    completed_by = serializers.CharField(source="completed_by.username", default=None)
    owner = serializers.CharField(source="owner.username", default=None)
    draft = serializers.JSONField()
    actions = serializers.SerializerMethodField(
        help_text="What you may do with the task now (tasks_app.lifecycle)."
    )

    def get_actions(self, task) -> list[str]:
        user = self.context["request"].user
        return [str(action) for action in actions_allowed(user=user, task=task)]

    def to_representation(self, instance):
        # What each declared field's to_representation gives, written directly
        # (as TaskOfCaseOutput's rows): DRF deep-copies the 23 field objects for
        # every answer of a task action (~0.3 ms of CPU; issue #16).
        # tests/api/test_lookup_rows.py compares it with the declared fields.
        return _detail_row(instance, self.get_actions(instance))


def _name_of(person: Any) -> str | None:
    return None if person is None else _text(person.username)


def _detail_row(task: Any, actions: list[str]) -> dict[str, Any]:
    """Return TaskDetailOutput's row of `task` (a HumanTask with its case loaded)."""
    case = task.case
    version = case.version if case is not None else None
    definition = version.definition if version is not None else None
    process = None if definition is None else _text(definition.key)
    return {
        **_task_row(task, process, _name_of(task.assignee)),
        "documentation": _text(task.documentation),
        "form": task.form,
        "form_js": task.form_js,
        "case_data": None if case is None else case.data,
        "local_data": task.local_data,
        "completed_at": _when(task.completed_at),
        "completed_by": _name_of(task.completed_by),
        "owner": _name_of(task.owner),
        "draft": task.draft,
        "actions": actions,
    }


class TaskListApi(APIView):
    """Your inbox: open tasks assigned to you, or offered to you and unclaimed."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="Words in the task name, business key, process or the "
                "process's declared business-data columns.",
            ),
            OpenApiParameter("filter", str, enum=[str(t) for t in InboxTab]),
            OpenApiParameter("process", str, description="A process key."),
            OpenApiParameter("group", str, description="A candidate group."),
            OpenApiParameter("case", str),
            OpenApiParameter(
                "sort", str, enum=[*INBOX_SORTS, *(f"-{k}" for k in INBOX_SORTS)]
            ),
        ],
        responses={200: paginated(TaskOutput)},
        operation_id="v1_tasks_list",
    )
    def get(self, request):
        query = selectors.InboxQuery.from_params(request.query_params, strict=True)
        if query.case_id and query == selectors.InboxQuery(case_id=query.case_id):
            # A script finding the task of its case: the same rows, read directly.
            return paginated_response(
                request=request,
                view=self,
                items=selectors.inbox_list_of_case(
                    user=request.user, case_id=query.case_id
                ),
                serializer=TaskOfCaseOutput,
            )
        qs = selectors.inbox_list_for_user(
            user=request.user, query=query, starter=False, counted=True
        )
        return paginated_response(
            request=request, view=self, items=qs, serializer=TaskOfCaseOutput
        )


class TaskTeamApi(APIView):
    """The open tasks of the groups you manage (members of "<group>-managers")."""

    @extend_schema(responses={200: paginated(TaskOutput)}, operation_id="v1_team_list")
    def get(self, request):
        return paginated_response(
            request=request,
            view=self,
            items=team_list_for_manager(user=request.user),
            serializer=TaskOutput,
        )


class TaskCountsApi(APIView):
    """How many open tasks each inbox tab holds, for the same search and filters."""

    @extend_schema(
        responses={200: {"type": "object", "additionalProperties": {"type": "integer"}}}
    )
    def get(self, request):
        query = selectors.InboxQuery.from_params(request.query_params, strict=True)
        return Response(selectors.inbox_counts_for_user(user=request.user, query=query))


class TaskDetailApi(APIView):
    """One task with its form definition; PATCH sets its due date and priority."""

    class PlanInput(serializers.Serializer):
        due_at = serializers.DateTimeField(required=False, allow_null=True)
        priority = serializers.IntegerField(
            required=False,
            min_value=PRIORITY_RANGE.start,
            max_value=PRIORITY_RANGE.stop - 1,
        )

    @extend_schema(responses={200: TaskDetailOutput})
    def get(self, request, task_id):
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return Response(TaskDetailOutput(task, context={"request": request}).data)

    @extend_schema(request=PlanInput, responses={200: TaskDetailOutput})
    def patch(self, request, task_id):
        payload = self.PlanInput(data=request.data)
        payload.is_valid(raise_exception=True)
        task = services.task_plan(
            user=request.user, task_id=task_id, **payload.validated_data
        )
        return Response(TaskDetailOutput(task, context={"request": request}).data)


class TaskClaimApi(APIView):
    @extend_schema(request=None, responses={200: TaskDetailOutput})
    def post(self, request, task_id):
        task = services.task_claim(user=request.user, task_id=task_id)
        return Response(TaskDetailOutput(task, context={"request": request}).data)


class TaskUnclaimApi(APIView):
    @extend_schema(request=None, responses={200: TaskDetailOutput})
    def post(self, request, task_id):
        task = services.task_unclaim(user=request.user, task_id=task_id)
        return Response(TaskDetailOutput(task, context={"request": request}).data)


class TaskCompleteApi(APIView):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "TaskCompleteInput"

        # A field named "data" shadows Serializer.data in the stubs only.
        data = StorableJSONField(required=False, default=dict)  # type: ignore[assignment]

    @extend_schema(request=Input, responses={200: TaskDetailOutput})
    def post(self, request, task_id):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        data = json_object(payload.validated_data["data"])
        task = services.task_complete(user=request.user, task_id=task_id, data=data)
        return Response(TaskDetailOutput(task, context={"request": request}).data)


class UserInput(serializers.Serializer):
    user = serializers.CharField()


class TaskAssignApi(APIView):
    """Assign the task to one of its candidates.

    Process admins, the managers of its groups ("<group>-managers") and its assignee.
    """

    @extend_schema(request=UserInput, responses={200: TaskDetailOutput})
    def post(self, request, task_id):
        payload = UserInput(data=request.data)
        payload.is_valid(raise_exception=True)
        task = services.task_assign(
            user=request.user, task_id=task_id, assignee=payload.validated_data["user"]
        )
        return Response(TaskDetailOutput(task, context={"request": request}).data)


class TaskDelegateApi(APIView):
    """Delegate the task: the delegate answers, then it comes back to you."""

    @extend_schema(request=UserInput, responses={200: TaskDetailOutput})
    def post(self, request, task_id):
        payload = UserInput(data=request.data)
        payload.is_valid(raise_exception=True)
        task = services.task_delegate(
            user=request.user, task_id=task_id, delegate=payload.validated_data["user"]
        )
        return Response(TaskDetailOutput(task, context={"request": request}).data)
