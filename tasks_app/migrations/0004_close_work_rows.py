"""Delete the WORK rows of tasks closed before WORK rows were deleted on close.

The inbox reads WORK rows; closed tasks need none (their VIEW rows stay).
"""

from django.db import migrations
from django.db.models import CharField
from django.db.models.functions import Cast


def delete_closed_work_rows(apps, schema_editor):
    permission = (
        apps.get_model("auth", "Permission")
        .objects.filter(
            content_type__app_label="tasks_app", codename="work_on_humantask"
        )
        .first()
    )
    if permission is None:  # a fresh database: nothing was ever granted
        return
    closed = (
        apps.get_model("tasks_app", "HumanTask")
        .objects.exclude(status="open")
        .annotate(text_pk=Cast("id", CharField()))
        .values("text_pk")
    )
    for name in ("GroupObjectPermission", "UserObjectPermission"):
        apps.get_model("guardian", name).objects.filter(
            permission=permission, object_pk__in=closed
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0003_separation_barred"),
        (
            "guardian",
            "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more",
        ),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(delete_closed_work_rows, migrations.RunPython.noop),
    ]
