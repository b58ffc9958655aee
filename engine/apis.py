"""Serializers and incident APIs of the engine.

The case API views live in tasks_app, which shows tasks too.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from . import selectors, services
from .incident_text import incident_sentence
from .json_safety import StorableJSONField, json_object
from .models import Incident

IDEMPOTENCY_KEY_MAX = 255  # the idempotency_key columns


def idempotency_key_of(request) -> str | None:
    """Return the request's Idempotency-Key header, or None; 400 if unusable."""
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and (len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable()):
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    f"At most {IDEMPOTENCY_KEY_MAX} printable characters."
                ]
            }
        )
    return key


class IncidentAttemptOutput(serializers.Serializer):
    at = serializers.CharField()
    message = serializers.CharField()


class IncidentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    kind = serializers.CharField()
    element = serializers.CharField(source="bpmn_id")
    element_name = serializers.CharField()
    summary = serializers.SerializerMethodField()
    error_type = serializers.CharField()
    message = serializers.CharField()
    attempts = IncidentAttemptOutput(many=True)
    status = serializers.CharField()
    retrying = serializers.BooleanField()
    resolution = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField()

    def get_summary(self, incident: Incident) -> str:
        return incident_sentence(incident)


class CaseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    process = serializers.CharField(source="version.definition.key")
    version = serializers.IntegerField(source="version.number")
    business_key = serializers.CharField()
    started_by = serializers.CharField(source="started_by.username")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    has_incident = serializers.BooleanField()
    needs_attention = serializers.BooleanField(
        help_text="A task's candidates resolved to nobody; it went to the "
        "process's default group."
    )


class IncidentListApi(APIView):
    """Open incidents of the cases you may see (`?status=resolved|all`)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "resolved", "all"]),
        ],
        responses={200: paginated(IncidentOutput)},
        operation_id="v1_incidents_list",
    )
    def get(self, request):
        wanted = request.query_params.get("status", "open")
        qs = selectors.incident_list_for_user(
            user=request.user, status=None if wanted == "all" else wanted
        )
        return paginated_response(
            request=request, view=self, items=qs, serializer=IncidentOutput
        )


class IncidentDetailApi(APIView):
    """One incident with its attempts (anyone who may see its case)."""

    @extend_schema(responses={200: IncidentOutput}, operation_id="v1_incident_retrieve")
    def get(self, request, incident_id):
        incident = selectors.incident_get(user=request.user, incident_id=incident_id)
        return Response(IncidentOutput(incident).data)


class IncidentSkipInput(serializers.Serializer):
    # A field named "data" shadows Serializer.data in the stubs only.
    data = StorableJSONField(required=False)  # type: ignore[assignment]
    flow = serializers.CharField(required=False, allow_blank=True, max_length=255)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs: dict) -> dict:
        if "data" not in attrs and not attrs.get("flow"):
            raise serializers.ValidationError(
                {"data": ["Give the data to complete the step with, or a 'flow'."]}
            )
        return attrs


class IncidentSkipApi(APIView):
    """Complete the failed step with `data` (a service task's result, a script's
    variables), or take the outgoing sequence flow `flow` with `data` set as case
    variables (process admins)."""

    @extend_schema(request=IncidentSkipInput, responses={200: IncidentOutput})
    def post(self, request, incident_id):
        body = IncidentSkipInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = json_object(body.validated_data.get("data", {}))
        incident = services.incident_skip(
            user=request.user,
            incident_id=incident_id,
            data=data,
            flow=body.validated_data.get("flow", ""),
            reason=body.validated_data.get("reason", ""),
        )
        return Response(IncidentOutput(incident).data)


class IncidentCancelCaseInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    skip_custom_listeners = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Skip the end listeners of the active activities (Camunda 7's "
        "skipCustomListeners; default false: they run).",
    )


class IncidentCancelCaseApi(APIView):
    """Cancel the case the incident stopped; its open incidents resolve."""

    @extend_schema(request=IncidentCancelCaseInput, responses={200: IncidentOutput})
    def post(self, request, incident_id):
        body = IncidentCancelCaseInput(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.incident_cancel_case(
            user=request.user,
            incident_id=incident_id,
            reason=body.validated_data.get("reason", ""),
            skip_custom_listeners=body.validated_data["skip_custom_listeners"],
        )
        return Response(IncidentOutput(incident).data)


class IncidentRetryApi(APIView):
    """Retry the failed step behind an incident (process admins)."""

    @extend_schema(request=None, responses={200: IncidentOutput})
    def post(self, request, incident_id):
        incident = services.incident_retry(user=request.user, incident_id=incident_id)
        return Response(IncidentOutput(incident).data)
