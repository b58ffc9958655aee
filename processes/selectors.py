"""Read process definitions and versions."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery

from common.sql import select_compiled

from .errors import DefinitionNotFound, VersionNotFound
from .models import ProcessDefinition, ProcessVersion

if TYPE_CHECKING:  # django-stubs' helper exists for the type checker only
    from django_stubs_ext import WithAnnotations


class DefinitionCounts(TypedDict):
    latest_number: int | None
    version_count: int
    startable_in_tasklist: bool | None  # the deployed version's; None: none


def definition_list() -> QuerySet[WithAnnotations[ProcessDefinition, DefinitionCounts]]:
    """Return every definition with its latest version number and version count,
    and whether the start page starts its current (latest deployed) version."""
    current = ProcessVersion.objects.filter(
        definition=OuterRef("pk"), status=ProcessVersion.Status.DEPLOYED
    ).order_by("-number")
    return ProcessDefinition.objects.annotate(
        latest_number=Max("versions__number"),
        version_count=Count("versions"),
        startable_in_tasklist=Subquery(current.values("startable_in_tasklist")[:1]),
    ).order_by("name", "key")


def definition_get(*, key: str) -> ProcessDefinition:
    """Return the definition with this key.

    Raises:
        DefinitionNotFound: when there is none.
    """
    try:
        return ProcessDefinition.objects.get(key=key)
    except ProcessDefinition.DoesNotExist:
        raise DefinitionNotFound(f"No process with key '{key}'.") from None


def version_list(*, key: str) -> QuerySet[ProcessVersion]:
    """Return a definition's versions, newest first, without their XML."""
    definition = definition_get(key=key)
    return (
        definition.versions.select_related("uploaded_by", "definition")
        .defer("original_xml", "normalized_xml", "dmn_files", "form_files")
        .order_by("-number")
    )


def version_get(
    *, key: str, number: int | None = None, documents: bool = True
) -> ProcessVersion:
    """Return one version (the latest deployed one when number is None).

    Without `documents`, its XML is deferred (read on first use: only a cold
    spec cache reads it). The statement is compiled once (`select_compiled`).

    Raises:
        DefinitionNotFound, VersionNotFound.
    """
    found = select_compiled(
        ("version_get", number is None, documents),
        functools.partial(_versions, documents=documents),
        key,
        *(() if number is None else (number,)),
    )
    if not found:
        definition_get(key=key)  # DefinitionNotFound first (one query when found)
        raise VersionNotFound(f"Process '{key}' has no version {number or 'deployed'}.")
    return found[0]


_DOCUMENTS = ("original_xml", "normalized_xml")


def _versions(key: str, *number: int, documents: bool) -> QuerySet[ProcessVersion]:
    """The statement of `version_get`: the version `number`, else the deployed."""
    qs = ProcessVersion.objects.select_related("definition").filter(definition__key=key)
    if not documents:
        qs = qs.defer(*_DOCUMENTS)
    if number:
        return qs.filter(number=number[0])[:1]
    return qs.filter(status=ProcessVersion.Status.DEPLOYED).order_by("-number")[:1]


def version_list_current() -> QuerySet[ProcessVersion]:
    """Return the latest deployed version of every definition, by name."""
    latest = (
        ProcessVersion.objects.filter(
            definition=OuterRef("definition"), status=ProcessVersion.Status.DEPLOYED
        )
        .order_by("-number")
        .values("number")[:1]
    )
    return (
        ProcessVersion.objects.filter(
            status=ProcessVersion.Status.DEPLOYED, number=Subquery(latest)
        )
        .select_related("definition")
        .defer("original_xml")
        .order_by("definition__name", "definition__key")
    )


def version_latest_deployed(*, key: str) -> ProcessVersion | None:
    """Return the latest deployed version of the definition `key`, or None."""
    return (
        ProcessVersion.objects.select_related("definition")
        .filter(definition__key=key, status=ProcessVersion.Status.DEPLOYED)
        .order_by("-number")
        .first()
    )


def version_numbered(*, key: str, number: int) -> ProcessVersion | None:
    """Return version `number` of the definition `key`, or None."""
    return (
        ProcessVersion.objects.select_related("definition")
        .filter(definition__key=key, number=number)
        .first()
    )


def version_tagged(*, key: str, tag: str) -> list[ProcessVersion]:
    """Return the versions of the definition `key` whose camunda:versionTag is
    `tag` (at most two: one is the answer, two say it is not one)."""
    return list(
        ProcessVersion.objects.select_related("definition")
        .filter(definition__key=key, version_tag=tag)
        .defer(*_DOCUMENTS)
        .order_by("number")[:2]
    )


def called_documents(
    versions: Iterable[ProcessVersion],
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Return the normalized BPMN and the DMN files of called versions, as bytes.

    These are the `extra_bpmn` / `extra_dmn` of `engine.spiff.bundle_compile`
    and `compile_process`. Each BPMN document is named after its version
    ("review.bpmn (review v2)"); versions deployed from the same file share one
    document, and identical DMN files ride once.
    """
    bpmn: dict[bytes, str] = {}
    dmn: dict[tuple[str, bytes], None] = {}
    for version in sorted(versions, key=lambda v: (v.definition.key, v.number)):
        xml = bytes(version.normalized_xml)
        bpmn.setdefault(
            xml, f"'{version.filename}' ({version.definition.key} v{version.number})"
        )
        for item in version.dmn_files:
            dmn[(item["name"], item["xml"].encode())] = None
    return [(name, xml) for xml, name in bpmn.items()], list(dmn)
