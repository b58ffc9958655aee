"""Drop guardian's single-column indexes that a composite one covers (issue #16).

A human step grants each new task's permissions to its candidate groups (three
rows) and removes the closed task's: every index of guardian's object
permission tables is written per row. guardian 2.4 indexes its three foreign
keys one by one besides its composite indexes, and each of those leads with
the same column but the content type's:

- group_id / user_id: the unique (group_id|user_id, permission_id, object_pk)
  and guardian's (group_id|user_id, content_type_id, object_pk);
- permission_id: guardian's (permission_id, group_id|user_id, content_type_id,
  object_pk);
- content_type_id: no composite leads with it, and it tells no row apart (the
  rows are of two or three models); only deleting a content type reads by it,
  and that deletes the model's rows, most of the table.

Lookups by group, user or permission (guardian's own queries, deleting a group
or user) use the composites instead. These are guardian's tables (as in 0011,
outside Django's model state), so the indexes are dropped by name; going back
creates them again.
"""

from django.db import migrations

DROPPED = (
    ("guardian_groupobjectpermission", "group_id", "4bbbfb62"),
    ("guardian_groupobjectpermission", "permission_id", "36572738"),
    ("guardian_groupobjectpermission", "content_type_id", "7ade36b8"),
    ("guardian_userobjectpermission", "user_id", "d5c1e964"),
    ("guardian_userobjectpermission", "permission_id", "71807bfc"),
    ("guardian_userobjectpermission", "content_type_id", "2e892405"),
)


def _name(table: str, column: str, digest: str) -> str:
    return f"{table}_{column}_{digest}"  # Django's name of a ForeignKey's index


def drop(apps, schema_editor):
    for table, column, digest in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_name(table, column, digest)}")


def create(apps, schema_editor):
    for table, column, digest in DROPPED:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_name(table, column, digest)} "
            f"ON {table} ({column})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("tasks_app", "0012_h_db_person_indexes"),
    ]

    operations = [migrations.RunPython(drop, create, elidable=False)]
