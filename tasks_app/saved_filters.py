"""Saved inbox filters: a person's named query strings (list, save, apply, delete).

A saved filter is the inbox's own query string (search, tab, process, group,
sort), so applying one is opening `/?<query>` or `GET /api/v1/tasks/?<query>`;
what it shows is decided then, by the same permission-filtered selector. Each
person sees and deletes only their own: another's filter is "not found".
"""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict

from engine.json_safety import UNSTORABLE

from .errors import FilterNotFound, TaskInputInvalid
from .models import SavedFilter

# The inbox parameters a filter keeps (selectors.InboxQuery.from_params reads them).
KEPT_PARAMETERS = ("search", "filter", "process", "group", "sort", "case")
ALIASES = {"q": "search", "show": "filter"}
MAX_FILTERS = 50
NAME_MAX, QUERY_MAX = 100, 1000


def filter_list_for_user(*, user: Any) -> QuerySet[SavedFilter]:
    """Return the user's saved filters, by name."""
    return SavedFilter.objects.filter(user=user).order_by("name")


def _invalid(field: str, message: str) -> TaskInputInvalid:
    return TaskInputInvalid(message, details={"fields": {field: [message]}})


def filter_query_clean(query: str) -> str:
    """Return the inbox parameters of a query string, in one order, no paging."""
    params = QueryDict(query.strip().lstrip("?"))
    kept = {}
    for name in params:
        key, value = ALIASES.get(name, name), str(params.get(name, "")).strip()
        if key in KEPT_PARAMETERS and value:
            kept[key] = value
    if params.get("assigned") == "me":
        kept["filter"] = "mine"
    cleaned = QueryDict(mutable=True)
    for key in KEPT_PARAMETERS:
        if key in kept:
            cleaned[key] = kept[key]
    return cleaned.urlencode()


@transaction.atomic
def filter_save(*, user: Any, name: str, query: str) -> SavedFilter:
    """Save the query under the name (replacing the user's filter of that name).

    Raises:
        TaskInputInvalid: an empty or too long name or query, or too many filters.
    """
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX or UNSTORABLE.search(name):
        raise _invalid("name", f"Give the filter a name of 1 to {NAME_MAX} characters.")
    if len(query or "") > QUERY_MAX or UNSTORABLE.search(query or ""):
        raise _invalid("query", f"At most {QUERY_MAX} characters.")
    cleaned = filter_query_clean(query or "")
    existing = SavedFilter.objects.select_for_update().filter(user=user)
    if not existing.filter(name=name).exists() and existing.count() >= MAX_FILTERS:
        raise _invalid("name", f"You have {MAX_FILTERS} filters; delete one first.")
    saved, _ = SavedFilter.objects.update_or_create(
        user=user, name=name, defaults={"query": cleaned}
    )
    return saved


@transaction.atomic
def filter_delete(*, user: Any, filter_id: Any) -> None:
    """Delete one of the user's filters.

    Raises:
        FilterNotFound: no such filter of theirs.
    """
    deleted, _ = SavedFilter.objects.filter(user=user, pk=filter_id).delete()
    if not deleted:
        raise FilterNotFound("No such saved filter.")
