"""Store cases so that a step's update costs less (issue #16; PostgreSQL only).

Every human step rewrites its case row and its state row. Two storage settings
make that cheaper, with nothing else changing:

- fillfactor 80 on engine_case and engine_casestate: new pages keep a fifth
  free, so the updated row fits beside the old one (a HOT update: none of the
  case's 11 indexes gets a new entry; a step changes none of their columns).
  Filled pages left ~20% of the case updates and ~45% of the state updates to
  go elsewhere, each writing every index of the table again.
- lz4 for state_json (PostgreSQL >= 14 built with lz4): the ~4 KB state is
  compressed at every step; pglz took ~50 µs of it, lz4 ~10 µs, for ~12% more
  bytes. Rows written before keep their pglz data (both are read).

A server that lacks lz4 keeps pglz. SQLite (the quick start) has neither
setting: the migration does nothing there.
"""

from django.db import migrations

FILLED = ("engine_case", "engine_casestate")
FILLFACTOR = 80


def _lz4(schema_editor) -> bool:
    """Whether the server can compress with lz4 (PostgreSQL >= 14, --with-lz4)."""
    connection = schema_editor.connection
    if connection.pg_version < 140000:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        return cursor.fetchone() is not None


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLED:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")
    if _lz4(schema_editor):
        schema_editor.execute(
            "ALTER TABLE engine_casestate ALTER COLUMN state_json SET COMPRESSION lz4"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLED:
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    if schema_editor.connection.pg_version >= 140000:
        schema_editor.execute(
            "ALTER TABLE engine_casestate ALTER COLUMN state_json SET COMPRESSION DEFAULT"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("engine", "0017_time_ordered_case_ids"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
