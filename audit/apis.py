from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .exporters import export_stream


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError({name: [f"Not an ISO-8601 date-time: {value!r}."]})
    return parsed


class AuditExportApi(APIView):
    """Export audit events as CSV or JSON Lines (streamed)."""

    def get(self, request):
        if not request.user.has_perm("audit.export_auditevent"):
            raise PermissionDenied("Only auditors may export the audit log.")
        params = request.query_params
        fmt = params.get("format", "jsonl")
        if fmt not in ("csv", "jsonl"):
            raise ValidationError({"format": ["Use csv or jsonl."]})
        filters = {
            "case_id": params.get("case") or None,
            "process_key": params.get("process") or None,
            "actor": params.get("actor") or None,
            "action": params.get("action") or None,
            "since": _when(params.get("since"), "since"),
            "until": _when(params.get("until"), "until"),
        }
        services.audit_export_recorded(user=request.user, fmt=fmt, filters=filters)
        stream = export_stream(selectors.audit_iter_for_export(**filters), fmt)
        content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
        response = StreamingHttpResponse(stream, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
        return response


class AuditVerifyApi(APIView):
    """Recompute every hash chain: OK, or the first broken event."""

    def get(self, request):
        if not request.user.has_perm("audit.export_auditevent"):
            raise PermissionDenied("Only auditors may verify the audit log.")
        return Response(selectors.audit_verify().as_dict())
