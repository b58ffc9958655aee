"""`action` and `process_key` keep one plain index each, named in Meta.indexes.

Their `db_index=True` made two indexes each on PostgreSQL: a plain one and a
`varchar_pattern_ops` twin (`*_like`) for LIKE 'x%', which no query runs; every
audit event's insert wrote all four. The twins are dropped and the plain indexes
renamed (no rebuild of an index of a large log). Other databases (SQLite, the
quick start) have the plain indexes only: renamed there too (SQLite drops and
creates them: it cannot rename an index).
"""

from django.db import migrations, models

# (column, index named in Meta.indexes)
INDEXES = (("action", "audit_action"), ("process_key", "audit_process_key"))


def _indexes_on(schema_editor, model, column: str) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return sorted(
        name
        for name, info in found.items()
        if info["index"] and not info["unique"] and info["columns"] == [column]
    )


def name_the_indexes(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    for column, new in INDEXES:
        for old in _indexes_on(schema_editor, model, column):
            if old == new:
                continue
            if old.endswith("_like"):
                schema_editor.execute(schema_editor._delete_index_sql(model, old))
            else:
                schema_editor.rename_index(
                    model,
                    models.Index(fields=[column], name=old),
                    models.Index(fields=[column], name=new),
                )


def unname_the_indexes(apps, schema_editor):
    """Back to db_index's indexes, under their generated names."""
    model = apps.get_model("audit", "AuditEvent")
    for column, new in INDEXES:
        field = model._meta.get_field(column)
        if new in _indexes_on(schema_editor, model, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, new))
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                schema_editor._create_index_sql(
                    model,
                    fields=[field],
                    suffix="_like",
                    opclasses=["varchar_pattern_ops"],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_audit_inserts_local"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="action",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="process_key",
                    field=models.CharField(blank=True, default="", max_length=255),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["action"], name="audit_action"),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(
                        fields=["process_key"], name="audit_process_key"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(name_the_indexes, unname_the_indexes),
            ],
        ),
    ]
