"""Index guardian's object permission rows by object (issue #16).

Closing a task deletes its WORK rows by permission, content type and object;
guardian 2.4's indexes lead with the group or user (its 0003 dropped the
(content_type, object_pk) one), so that delete read every open task's rows:
~8 ms per completion with 100,000 open WORK rows. These indexes are Laneway's,
on guardian's tables, outside Django's model state (guardian's models are not
ours to change). On PostgreSQL they are built CONCURRENTLY, so an upgrade does
not block the tables' writes while it runs.
"""

from django.db import migrations

INDEXES = (
    ("laneway_guardian_gop_object", "guardian_groupobjectpermission"),
    ("laneway_guardian_uop_object", "guardian_userobjectpermission"),
)


def create(apps, schema_editor):
    concurrently = (
        " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    )
    for name, table in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX{concurrently} IF NOT EXISTS {name} "
            f"ON {table} (object_pk, content_type_id)"
        )


def drop(apps, schema_editor):
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("tasks_app", "0010_task_ids_and_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
