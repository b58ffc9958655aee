"""Index a task's people only where set (issue #16).

A task is offered with no assignee, owner or completer and written again when
it closes: the full FK indexes took an entry of each row version, five entries
a step for nothing. Partial indexes (`IS NOT NULL`) keep what their readers
ask, one person's tasks (`= id`, as deleting a user checks). On PostgreSQL
they are built CONCURRENTLY, so an upgrade does not block the task table's
writes while they are built.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class AddIndexConcurrently(migrations.AddIndex):
    """AddIndex, built CONCURRENTLY on PostgreSQL (plainly elsewhere)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ('tasks_app', '0011_guardian_object_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='humantask',
            name='assignee',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='humantask',
            name='completed_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='humantask',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        AddIndexConcurrently(
            model_name='humantask',
            index=models.Index(condition=models.Q(('assignee__isnull', False)), fields=['assignee'], name='humantask_assignee_set'),
        ),
        AddIndexConcurrently(
            model_name='humantask',
            index=models.Index(condition=models.Q(('owner__isnull', False)), fields=['owner'], name='humantask_owner_set'),
        ),
        AddIndexConcurrently(
            model_name='humantask',
            index=models.Index(condition=models.Q(('completed_by__isnull', False)), fields=['completed_by'], name='humantask_completed_by_set'),
        ),
    ]
