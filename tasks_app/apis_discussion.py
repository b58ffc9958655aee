"""Comments and attachments of cases and tasks over the JSON API (ARCHITECTURE §10)."""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from . import discussion
from .models import Attachment


class CommentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    task = serializers.UUIDField(source="task_id", allow_null=True)
    task_name = serializers.CharField(source="task.name", default=None)
    author = serializers.CharField(source="author.username")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class CommentInput(serializers.Serializer):
    # Length and content are checked by the service (400 naming `text`).
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)


class AttachmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    task = serializers.UUIDField(source="task_id", allow_null=True)
    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    created_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_download(self, attachment: Attachment) -> str:
        return reverse("api-case-attachment", args=[attachment.case_id, attachment.pk])


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve a stored file as a download: never rendered, never sniffed."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _comment_created(request, **target) -> Response:
    discussion.contribution_check(user=request.user, **target)
    payload = CommentInput(data=request.data)
    payload.is_valid(raise_exception=True)
    comment = discussion.comment_add(
        user=request.user, text=payload.validated_data["text"], **target
    )
    return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class CaseCommentsApi(APIView):
    """The comments on a case (its tasks' included); add one."""

    @extend_schema(
        responses={200: paginated(CommentOutput)},
        operation_id="v1_cases_comments_list",
    )
    def get(self, request, case_id):
        items = discussion.comment_list_for_case(user=request.user, case_id=case_id)
        return paginated_response(
            request=request, view=self, items=items, serializer=CommentOutput
        )

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def post(self, request, case_id):
        return _comment_created(request, case_id=case_id)


class TaskCommentsApi(APIView):
    """The comments on a task; add one (it belongs to the task's case too)."""

    @extend_schema(
        responses={200: paginated(CommentOutput)},
        operation_id="v1_tasks_comments_list",
    )
    def get(self, request, task_id):
        items = discussion.comment_list_for_task(user=request.user, task_id=task_id)
        return paginated_response(
            request=request, view=self, items=items, serializer=CommentOutput
        )

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def post(self, request, task_id):
        return _comment_created(request, task_id=task_id)


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField(required=False, allow_empty_file=True)
    task = serializers.UUIDField(
        required=False, help_text="The task of the case the file is for (optional)."
    )


class CaseAttachmentsApi(APIView):
    """The files of a case; add one (multipart `file`, size-capped, type-checked)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        responses={200: paginated(AttachmentOutput)},
        operation_id="v1_cases_attachments_list",
    )
    def get(self, request, case_id):
        items = discussion.attachment_list_for_case(user=request.user, case_id=case_id)
        return paginated_response(
            request=request, view=self, items=items, serializer=AttachmentOutput
        )

    @extend_schema(
        request={"multipart/form-data": AttachmentInput},
        responses={201: AttachmentOutput},
    )
    def post(self, request, case_id):
        discussion.contribution_check(user=request.user, case_id=case_id)
        payload = AttachmentInput(data=request.data)
        payload.is_valid(raise_exception=True)
        attachment = discussion.attachment_add(
            user=request.user,
            upload=payload.validated_data.get("file"),
            case_id=case_id,
            task_id=payload.validated_data.get("task"),
        )
        return Response(
            AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED
        )


class CaseAttachmentApi(APIView):
    """Download one file of a case (as an attachment, never shown inline)."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        operation_id="v1_cases_attachments_download",
    )
    def get(self, request, case_id, attachment_id):
        attachment = discussion.attachment_get_for_user(
            user=request.user, case_id=case_id, attachment_id=attachment_id
        )
        return attachment_response(attachment)
