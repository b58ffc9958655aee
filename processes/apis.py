from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from . import selectors, services
from .columns import columns_split
from .errors import BpmnInvalid


class VersionOutput(serializers.Serializer):
    key = serializers.CharField(source="definition.key")
    version = serializers.IntegerField(source="number")
    version_tag = serializers.CharField()  # camunda:versionTag ("" if none)
    # camunda:isStartableInTasklist (Camunda 7's startableInTasklist): False,
    # the start page does not offer it; POST /api/v1/cases/ starts it.
    startable_in_tasklist = serializers.BooleanField()
    name = serializers.CharField()
    filename = serializers.CharField()
    checksum = serializers.CharField()
    status = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    default_group = serializers.CharField(source="fallback_group")
    columns = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.DictField())


class ProcessListUploadApi(APIView):
    """List deployed processes; upload a BPMN file (with its DMN and form files)."""

    parser_classes = [MultiPartParser, FormParser]

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "ProcessOutput"

        key = serializers.CharField()
        name = serializers.CharField()
        latest_version = serializers.IntegerField(source="latest_number")
        version_count = serializers.IntegerField()

    class UploadInput(serializers.Serializer):
        file = serializers.FileField()
        dmn = serializers.ListField(child=serializers.FileField(), required=False)
        form = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            help_text=(
                "The forms the user tasks and the start event name (repeatable): "
                "Camunda Forms (.form) "
                "and SpiffArena JSON schemas and UI schemas (.json)."
            ),
        )
        default_group = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=150,
            help_text="The group offered user tasks that name nobody "
            "(process-admins when empty).",
        )
        columns = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=500,
            help_text="Case variables the inbox shows and searches, comma-separated "
            "(else the diagram's laneway:columns process property).",
        )

    @extend_schema(responses={200: paginated(Output)})
    def get(self, request):
        return paginated_response(
            request=request,
            view=self,
            items=selectors.definition_list(),
            serializer=self.Output,
        )

    @extend_schema(request=UploadInput, responses={201: VersionOutput(many=True)})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise BpmnInvalid(
                "Attach the BPMN file as the multipart field 'file'.",
                details={
                    "errors": [
                        {
                            "message": "No file was sent.",
                            "line": None,
                            "element_id": None,
                        }
                    ]
                },
            )
        default_group = request.data.get("default_group", "")
        if not isinstance(default_group, str) or len(default_group) > 150:
            raise BpmnInvalid(
                "default_group must be a group name of at most 150 characters.",
                details={"errors": []},
            )
        columns = request.data.get("columns", "")
        if not isinstance(columns, str) or len(columns) > 500:
            raise BpmnInvalid(
                "columns must be comma-separated variable names.",
                details={"errors": [], "fields": {"columns": ["Too long."]}},
            )
        deployed = services.version_upload_files(
            user=request.user,
            upload=upload,
            dmn_uploads=request.FILES.getlist("dmn"),
            form_uploads=request.FILES.getlist("form"),
            default_group=default_group,
            columns=columns_split(columns),
        )
        created = any(d.created for d in deployed)
        body = {
            "processes": [
                {**VersionOutput(d.version).data, "created": d.created}
                for d in deployed
            ]
        }
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class VersionListApi(APIView):
    """The versions of one process definition, newest first."""

    @extend_schema(responses={200: paginated(VersionOutput)})
    def get(self, request, key: str):
        return paginated_response(
            request=request,
            view=self,
            items=selectors.version_list(key=key),
            serializer=VersionOutput,
        )


class VersionXmlApi(APIView):
    """Download a version's BPMN exactly as uploaded."""

    @extend_schema(responses={(200, "application/xml"): bytes})
    def get(self, request, key: str, number: int):
        version = selectors.version_get(key=key, number=number)
        response = HttpResponse(
            bytes(version.original_xml), content_type="application/xml"
        )
        response["Content-Disposition"] = f'attachment; filename="{key}-v{number}.bpmn"'
        return response
