"""Comments and attachments on cases and tasks: add (services) and list (selectors).

Who may see a case may comment on it and add or download its files; who may see a
task may comment on it (the comment belongs to its case too). Comments and files
are append-only, like the audit log: each addition is a `comment.added` or
`attachment.added` event in the case's chain (the comment's text, the file's
sha256), written under the case lock in the same transaction. A suspended or
finished case still takes remarks: they change nothing the engine runs.

Files go through Django's storage API (`STORAGES["default"]`: local files under
MEDIA_ROOT unless configured otherwise), named by the row's id, never by the
client's file name.
"""

import hashlib
import os
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from audit.actions import AuditAction, task_ref_for
from engine import selectors as case_selectors
from engine.json_safety import UNSTORABLE
from engine.models import Case
from engine.permissions import can_view_case
from engine.services import case_audit, case_lock

from . import selectors
from .errors import (
    AttachmentInvalid,
    AttachmentNotFound,
    AttachmentTooLarge,
    CommentInvalid,
    ContributionNotAllowed,
    TaskInputInvalid,
)
from .models import Attachment, Comment, HumanTask
from .permissions import can_contribute_to_case, can_contribute_to_task

_HASH_CHUNK = 1024 * 1024


def comment_max_chars() -> int:
    """Return how long one comment may be (TASKS_COMMENT_MAX_CHARS)."""
    return int(settings.TASKS_COMMENT_MAX_CHARS)


def attachment_max_bytes() -> int:
    """Return how large one attachment may be (TASKS_ATTACHMENT_MAX_BYTES)."""
    return int(settings.TASKS_ATTACHMENT_MAX_BYTES)


def _target(
    *, user: Any, case_id: UUID | str | None, task_id: UUID | str | None
) -> tuple[Case, HumanTask | None]:
    """Lock the case the user may add to (through the task, if one is named).

    Raises: as `_checked`.
    """
    case_id, task = _checked(user=user, case_id=case_id, task_id=task_id)
    return case_lock(case_id=case_id, allow_suspended=True), task


def contribution_check(
    *, user: Any, case_id: UUID | str | None = None, task_id: UUID | str | None = None
) -> None:
    """Refuse before reading a request: 404 to who may not see the case or task,
    403 to who may only read it (the locked add checks again).

    Raises: as `_checked`.
    """
    _checked(user=user, case_id=case_id, task_id=task_id)


def _checked(
    *, user: Any, case_id: UUID | str | None, task_id: UUID | str | None
) -> tuple[str, HumanTask | None]:
    """Return the id of the case the user may add to, and the task if one is named.

    Raises:
        CaseNotFound, TaskNotFound: when the user may not see it (404).
        ContributionNotAllowed: the user may only read it (auditors; 403).
        TaskInputInvalid: the task is not one of the case's.
    """
    task = None
    if task_id is not None:
        task = selectors.task_get_for_user(user=user, task_id=task_id)
        if case_id is not None and str(task.case_id) != str(case_id):
            raise TaskInputInvalid(
                "That task belongs to another case.",
                details={"fields": {"task": ["Not a task of this case."]}},
            )
        case_id = task.case_id
        allowed = can_contribute_to_task(user, task)
    else:
        allowed = can_contribute_to_case(
            user, case_selectors.case_get(user=user, case_id=str(case_id))
        )
    if not allowed:
        raise ContributionNotAllowed(
            "You may read this case but not add to it (auditors change nothing)."
        )
    return str(case_id), task


def _audit(
    case: Case, user: Any, action: AuditAction, task: HumanTask | None, **payload: Any
) -> None:
    ref = task_ref_for(bpmn_id=task.bpmn_id, task_id=task.pk) if task else ""
    extra = {"task": str(task.pk), "name": task.name} if task else {}
    case_audit(case, user, action, task_ref=ref, **extra, **payload)


def _clean_text(text: Any) -> str:
    text = text.strip() if isinstance(text, str) else ""
    limit = comment_max_chars()
    problem = (
        "Write something."
        if not text
        else f"At most {limit} characters (TASKS_COMMENT_MAX_CHARS)."
        if len(text) > limit
        else "Contains a character that cannot be stored."
        if UNSTORABLE.search(text)
        else ""
    )
    if problem:
        raise CommentInvalid(
            f"The comment cannot be saved: {problem}",
            details={"fields": {"text": [problem]}},
        )
    return text


@transaction.atomic
def comment_add(
    *,
    user: Any,
    text: Any,
    case_id: UUID | str | None = None,
    task_id: UUID | str | None = None,
) -> Comment:
    """Add a comment to a case, or to a task (and so its case); audited.

    Raises:
        CaseNotFound, TaskNotFound: the user may not see it.
        CommentInvalid: empty, too long or unstorable text (400 naming `text`).
        CaseBusy: the case's lock could not be taken in time.
    """
    case, task = _target(user=user, case_id=case_id, task_id=task_id)
    text = _clean_text(text)
    comment = Comment.objects.create(case=case, task=task, author=user, text=text)
    _audit(
        case, user, AuditAction.COMMENT_ADDED, task, comment=str(comment.pk), text=text
    )
    return comment


def comment_list_for_case(*, user: Any, case_id: UUID | str) -> QuerySet[Comment]:
    """Return the comments of a case the user may see (its tasks' comments too).

    Raises:
        CaseNotFound: the user may not see the case.
    """
    case = case_selectors.case_get(user=user, case_id=str(case_id))
    return Comment.objects.filter(case=case).select_related("author", "task")


def comment_list_for_task(*, user: Any, task_id: UUID | str) -> QuerySet[Comment]:
    """Return the comments on a task the user may see.

    Raises:
        TaskNotFound: the user may not see the task.
    """
    task = selectors.task_get_for_user(user=user, task_id=task_id)
    return Comment.objects.filter(task=task).select_related("author", "task")


def _file_problem(
    upload: Any,
) -> tuple[type[AttachmentInvalid | AttachmentTooLarge], str] | None:
    if upload is None:
        return AttachmentInvalid, "Choose a file."
    name = os.path.basename(str(upload.name or "")).strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.TASKS_ATTACHMENT_TYPES
    if upload.size > attachment_max_bytes():
        return (
            AttachmentTooLarge,
            f"The file is {upload.size} bytes; at most {attachment_max_bytes()} "
            "bytes are accepted (TASKS_ATTACHMENT_MAX_BYTES).",
        )
    if (
        not name
        or len(name) > 255
        or UNSTORABLE.search(name)
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        return AttachmentInvalid, "The file needs a name of at most 255 characters."
    if ext not in allowed:
        return (
            AttachmentInvalid,
            f"Files ending in .{ext or '(nothing)'} are not accepted; accepted: "
            f"{', '.join(allowed)} (TASKS_ATTACHMENT_TYPES).",
        )
    if upload.size == 0:
        return AttachmentInvalid, "The file is empty."
    return None


def _sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks(_HASH_CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def attachment_store(
    *, user: Any, upload: Any, case_id: UUID | str, task: HumanTask | None
) -> Attachment:
    """Write an upload to storage, before any lock is taken; no row yet.

    The caller records it under the case lock (`attachment_record`) or deletes
    its file (`attachment_discard`). The upload was checked (`_file_problem`).
    """
    name = os.path.basename(upload.name).strip()
    attachment = Attachment(
        case_id=case_id,
        task=task,
        uploaded_by=user,
        name=name,
        size=upload.size,
        sha256=_sha256(upload),
    )
    attachment.file.save(name, upload, save=False)  # storage may be remote
    return attachment


def attachment_record(attachment: Attachment, case: Case) -> None:
    """Write a stored attachment's row and audit event; the case is locked."""
    attachment.save()
    _audit(
        case,
        attachment.uploaded_by,
        AuditAction.ATTACHMENT_ADDED,
        attachment.task,
        attachment=str(attachment.pk),
        file=attachment.name,
        size=attachment.size,
        sha256=attachment.sha256,
    )


def attachment_discard(attachment: Attachment) -> None:
    """Delete a stored attachment's file (its row was never kept)."""
    attachment.file.storage.delete(attachment.file.name)


def attachment_add(
    *,
    user: Any,
    upload: Any,
    case_id: UUID | str | None = None,
    task_id: UUID | str | None = None,
) -> Attachment:
    """Store an uploaded file on a case (from one of its tasks, if named); audited.

    The size is checked before a byte is read or stored; the checksum is in the
    audit event. The file is stored before the case lock is taken (storage may be
    remote), then the row and the audit event are written under the lock; if
    that fails, the stored file is deleted (after the transaction ended).

    Raises:
        CaseNotFound, TaskNotFound: the user may not see it.
        AttachmentTooLarge: over TASKS_ATTACHMENT_MAX_BYTES (413).
        AttachmentInvalid: no file, no name, a type not accepted (400 naming `file`).
    """
    checked_case_id, task = _checked(user=user, case_id=case_id, task_id=task_id)
    if problem := _file_problem(upload):
        error, message = problem
        raise error(message, details={"fields": {"file": [message]}})
    attachment = attachment_store(
        user=user, upload=upload, case_id=checked_case_id, task=task
    )
    try:
        with transaction.atomic():
            case = case_lock(case_id=checked_case_id, allow_suspended=True)
            attachment_record(attachment, case)
    except BaseException:
        attachment_discard(attachment)
        raise
    return attachment


def attachment_list_for_case(*, user: Any, case_id: UUID | str) -> QuerySet[Attachment]:
    """Return the files of a case the user may see.

    Raises:
        CaseNotFound: the user may not see the case.
    """
    case = case_selectors.case_get(user=user, case_id=str(case_id))
    return Attachment.objects.filter(case=case).select_related("uploaded_by", "task")


def attachment_get_for_user(
    *, user: Any, case_id: UUID | str, attachment_id: UUID | str
) -> Attachment:
    """Return one attachment of a case the user may see.

    Raises:
        CaseNotFound: the user may not see the case.
        AttachmentNotFound: no such file on that case.
    """
    case = case_selectors.case_get(user=user, case_id=str(case_id))
    try:
        return Attachment.objects.get(case=case, pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError):
        raise AttachmentNotFound("No such attachment.") from None


def discussion_for_page(
    *, user: Any, case: Case, task: HumanTask | None = None
) -> dict[str, Any]:
    """Return the comments and files a case or task page shows the user.

    A task page shows the whole case's discussion to whoever may see the case
    (a task's candidates may), else only the task's own comments.
    """
    whole_case = can_view_case(user, case)
    comments = (
        Comment.objects.filter(case=case)
        if whole_case
        else Comment.objects.filter(task=task)
    )
    files = (
        Attachment.objects.filter(case=case)
        if whole_case
        else Attachment.objects.none()
    )
    may_add = (
        can_contribute_to_task(user, task)
        if task is not None
        else can_contribute_to_case(user, case)
    )
    return {
        "may_contribute": may_add,
        "comments": list(comments.select_related("author", "task")),
        "attachments": list(files.select_related("uploaded_by", "task")),
        "comment_max": comment_max_chars(),
        "attachment_max": attachment_max_bytes(),
        "attachment_types": settings.TASKS_ATTACHMENT_TYPES,
    }
