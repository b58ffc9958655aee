"""Complete a task that renders a Camunda Form: validate, store its files.

The engine checks the data as form-js does (`engine.form_validation.form_js_clean`);
file pickers are answered with attachments of the case: the page sends the files
(the viewer's `files::<key>` reference names them in the same request), the API
names attachments already added to the case. Each file goes through the
attachments feature (size limit, type check, checksum in the audit log); the
variable holds [{"id", "name", "size", "sha256"}, ...].
"""

import copy
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine.errors import FormInvalid
from engine.form_validation import (
    form_js_clean,
    form_js_file_paths,
    value_at,
    value_set,
)

from .discussion import _file_problem, attachment_record, attachment_store
from .models import Attachment, HumanTask

Files = Mapping[str, Sequence[Any]]


def _described(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.pk),
        "name": attachment.name,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def _file_errors(task: HumanTask, value: Any, files: Files) -> list[str]:
    if isinstance(value, str):
        uploads = files.get(value) or []
        if not uploads:
            return ["The file was not sent with the form."]
        return [p[1] for u in uploads if (p := _file_problem(u))]
    ids = [str(v) for v in value]
    try:
        wanted = {str(uuid.UUID(i)) for i in ids}
    except ValueError:
        return ["Name attachments of this case by their id."]
    found = Attachment.objects.filter(case_id=task.case_id, pk__in=wanted).count()
    if found != len(wanted):
        return ["Name attachments of this case by their id."]
    return []


def _kept_files_as_ids(schema: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Name files a delegate's draft kept ({"id", ...}) by their attachment ids."""
    kept = copy.deepcopy(dict(data))
    for path in form_js_file_paths(schema):
        value = value_at(kept, path)
        if isinstance(value, list) and all(
            isinstance(v, Mapping) and "id" in v for v in value
        ):
            value_set(kept, path, [str(v["id"]) for v in value])
    return kept


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def uploads_store(
    *, user: Any, task: HumanTask, data: Any, files: Files
) -> dict[str, list[Attachment]]:
    """Write the files the submission names to storage, before the case is locked.

    Only the files of a reference the data holds, each of them acceptable, are
    written (the others are refused by the validation, under the lock); storage
    may be remote, and no network I/O happens under the case lock.
    """
    named = set(_strings(data)) & set(files)
    return {
        key: [
            attachment_store(user=user, upload=u, case_id=task.case_id, task=task)
            for u in files[key]
        ]
        for key in sorted(named)
        if files[key] and not any(_file_problem(u) for u in files[key])
    }


def form_js_complete_data(
    *,
    user: Any,
    task: HumanTask,
    data: Any,
    files: Files,
    stored: Mapping[str, Sequence[Attachment]],
) -> dict[str, Any]:
    """Return the case variables a Camunda Form's submission sets.

    `files` are the uploads by the viewer's reference, `stored` the same files
    already written to storage by the caller, before it locked the case
    (`uploads_store`). No attachment row is written unless every field, files
    included, is valid; the caller deletes the files of those left unwritten.

    Raises:
        FormInvalid: with details {"fields": {dotted key: [messages]}}.
    """
    schema = task.form_js or {}
    if isinstance(data, Mapping):
        data = _kept_files_as_ids(schema, data)
    cleaned = form_js_clean(schema, data, task.variables)
    paths = [p for p in form_js_file_paths(schema) if value_at(cleaned, p)]
    errors = {
        ".".join(path): problems
        for path in paths
        if (problems := _file_errors(task, value_at(cleaned, path), files))
    }
    if errors:
        raise FormInvalid("Some fields need attention.", details={"fields": errors})
    for path in paths:
        value = value_at(cleaned, path)
        if isinstance(value, str):
            chosen = list(stored[value])
            for attachment in chosen:
                attachment_record(attachment, task.case)
        else:
            chosen = list(Attachment.objects.filter(case_id=task.case_id, pk__in=value))
        value_set(cleaned, path, [_described(a) for a in chosen])
    return cleaned
