"""HTML views: add a comment or a file on the case and task pages; download a file.

Who may not see the case or task gets the 404 page; a comment or file the service
refuses comes back to the page as a message, and the comment's text is kept.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from . import discussion
from .apis_discussion import attachment_response
from .errors import AttachmentInvalid, AttachmentTooLarge, CommentInvalid
from .views import DRAFT_KEY, _next_url

DRAFT_KEPT_CHARS = 200_000  # a refused comment is kept this far, for the page


def _back(request: HttpRequest, *, case_id: str, task_id: str | None) -> HttpResponse:
    default = (
        reverse("task-detail", args=[task_id])
        if task_id
        else reverse("case-detail", args=[case_id])
    )
    return redirect(_next_url(request, default) + "#discussion")


class CommentAddView(LoginRequiredMixin, View):
    """POST a comment on a case (`case_id`) or a task (`task_id`)."""

    def post(self, request: HttpRequest, **target: Any) -> HttpResponse:
        task_id = str(target["task_id"]) if "task_id" in target else None
        case_id = str(target.get("case_id", ""))
        text = request.POST.get("text", "")
        try:
            comment = discussion.comment_add(
                user=request.user,
                text=text,
                case_id=case_id or None,
                task_id=task_id,
            )
        except CommentInvalid as exc:
            messages.error(request, exc.message)
            drafts = request.session.get(DRAFT_KEY) or {}
            drafts[task_id or case_id] = text[:DRAFT_KEPT_CHARS]
            request.session[DRAFT_KEY] = drafts
            return _back(request, case_id=case_id, task_id=task_id)
        messages.success(request, "Your comment was added.")
        return _back(request, case_id=str(comment.case_id), task_id=task_id)


class AttachmentAddView(LoginRequiredMixin, View):
    """POST a file to a case, from its page or from one of its tasks' (`task`)."""

    def post(self, request: HttpRequest, case_id: Any) -> HttpResponse:
        task_id = request.POST.get("task") or None
        try:
            attachment = discussion.attachment_add(
                user=request.user,
                upload=request.FILES.get("file"),
                case_id=str(case_id),
                task_id=task_id,
            )
        except (AttachmentInvalid, AttachmentTooLarge) as exc:
            messages.error(request, exc.message)
            return _back(request, case_id=str(case_id), task_id=task_id)
        messages.success(request, f"“{attachment.name}” was added to the case.")
        return _back(request, case_id=str(case_id), task_id=task_id)


class AttachmentDownloadView(LoginRequiredMixin, View):
    def get(
        self, request: HttpRequest, case_id: Any, attachment_id: Any
    ) -> HttpResponseBase:
        attachment = discussion.attachment_get_for_user(
            user=request.user, case_id=str(case_id), attachment_id=str(attachment_id)
        )
        return attachment_response(attachment)
