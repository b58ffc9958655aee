from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .errors import AuditFilterInvalid
from .exporters import CONTENT_TYPES, export_stream


class FormatIsOurs(DefaultContentNegotiation):
    """Leave `?format=` to the view (it names the export format, csv or jsonl).

    REST framework would otherwise read it as its own renderer override and
    answer 404 for formats it has no renderer for. Errors still render as JSON.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditExportApi(APIView):
    """Export audit events as CSV or JSON Lines (streamed).

    Query parameters: format (csv | jsonl, default jsonl), case, process, actor,
    action, since, until (ISO-8601; since inclusive, until exclusive).
    """

    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "jsonl"]),
            OpenApiParameter("case", OpenApiTypes.UUID),
            OpenApiParameter("process", str, description="A process key."),
            OpenApiParameter("actor", str, description="A username."),
            OpenApiParameter("action", str),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Inclusive."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Exclusive."),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        },
    )
    def get(self, request):
        if not request.user.has_perm("audit.export_auditevent"):
            raise PermissionDenied("Only auditors may export the audit log.")
        try:
            filters, fmt = services.audit_export_start(
                user=request.user, params=request.query_params
            )
        except AuditFilterInvalid as exc:
            raise ValidationError({k: [v] for k, v in exc.errors.items()}) from None
        stream = export_stream(
            selectors.audit_export_records(filters),
            selectors.audit_list(**filters.selector_kwargs()),
            fmt,
        )
        response = StreamingHttpResponse(stream, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
        return response


class AuditVerifyApi(APIView):
    """Recompute every hash chain: OK, or every broken event of every chain."""

    content_negotiation_class = FormatIsOurs

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        if not request.user.has_perm("audit.export_auditevent"):
            raise PermissionDenied("Only auditors may verify the audit log.")
        return Response(selectors.audit_verify().as_dict())
