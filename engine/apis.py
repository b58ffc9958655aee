"""Serializers and incident APIs of the engine.

The case API views live in tasks_app, which shows tasks too.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from . import selectors, services


class IncidentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    kind = serializers.CharField()
    element = serializers.CharField(source="bpmn_id")
    element_name = serializers.CharField()
    error_type = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


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


class IncidentListApi(APIView):
    """Open incidents of the cases you may see (`?status=resolved|all`)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "resolved", "all"]),
        ],
        responses={200: paginated(IncidentOutput)},
    )
    def get(self, request):
        wanted = request.query_params.get("status", "open")
        qs = selectors.incident_list_for_user(
            user=request.user, status=None if wanted == "all" else wanted
        )
        return paginated_response(
            request=request, view=self, items=qs, serializer=IncidentOutput
        )


class IncidentRetryApi(APIView):
    """Retry the failed step behind an incident (process admins)."""

    @extend_schema(request=None, responses={200: IncidentOutput})
    def post(self, request, incident_id):
        incident = services.incident_retry(user=request.user, incident_id=incident_id)
        return Response(IncidentOutput(incident).data)
