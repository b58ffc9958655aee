"""Several writes in one round trip: PostgreSQL data-modifying WITH queries.

A human step writes a handful of rows in different tables (the case and its
state, the task and its grants, the audit events and their chain head). Each
write is compiled by the ORM as usual (`insert_statement`, `update_statement`:
the same SQL and parameter adaptation `bulk_create` and `update` use), then
`execute_together` sends them as one statement, `WITH w1 AS (...), w2 AS (...)
<last>`: PostgreSQL runs every part exactly once, in the one snapshot, whether
or not their rows are read (its documentation, "Data-Modifying Statements in
WITH"). The parts must not depend on each other's rows; foreign keys are
checked at the end of the statement or at commit (Django's are deferred).
Other databases (SQLite, the quick start) run them one after the other.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery, UpdateQuery

Statement = tuple[str, Sequence[Any]]


def insert_statement(
    model: type[models.Model],
    objs: Iterable[models.Model],
    *,
    update_conflicts: Sequence[str] = (),
    unique_fields: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> Statement:
    """Return the INSERT of `objs` (all concrete fields), as `bulk_create` writes it.

    The objects' primary keys must be set (no RETURNING is read back).
    """
    objs = list(objs)
    meta = model._meta
    on_conflict = (
        OnConflict.UPDATE
        if update_conflicts
        else OnConflict.IGNORE
        if ignore_conflicts
        else None
    )
    query = InsertQuery(
        model,
        on_conflict=on_conflict,
        update_fields=[meta.get_field(name) for name in update_conflicts],
        unique_fields=[meta.get_field(name) for name in unique_fields],
    )
    fields = [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and getattr(f, "db_returning", False))
    ]
    query.insert_values(fields, objs)
    compiled = query.get_compiler(connection=connection).as_sql()
    assert len(compiled) == 1, "one INSERT statement expected"
    return compiled[0]


def update_statement(
    model: type[models.Model], values: Mapping[str, Any], **where: Any
) -> Statement:
    """Return `model.objects.filter(**where).update(**values)` as SQL."""
    query = UpdateQuery(model)
    query.add_update_values(dict(values))
    query.add_q(Q(**where))
    sql, params = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def row_values(obj: models.Model) -> dict[str, Any]:
    """Return every concrete non-key field of a saved object (what `save()` writes)."""
    return {
        f.attname: f.pre_save(obj, False)
        for f in obj._meta.concrete_fields
        if not f.primary_key
    }


def execute_together(statements: Sequence[Statement], *, fetch: bool = False) -> list:
    """Run the statements in one round trip on PostgreSQL (in order elsewhere).

    Only the last statement may have a WITH of its own (and RETURNING, whose
    rows `fetch` returns).
    """
    statements = [s for s in statements if s[0]]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) < 2:
            for sql, params in statements:
                cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
        *parts, (last_sql, last_params) = statements
        head = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(parts))
        if last_sql.startswith("WITH "):
            last_sql = ", " + last_sql.removeprefix("WITH ")
        else:
            last_sql = " " + last_sql
        params = [p for _, part_params in parts for p in part_params]
        cursor.execute(f"WITH {head}{last_sql}", [*params, *last_params])
        return cursor.fetchall() if fetch else []
