"""Create the role groups (analysts, auditors, process-admins) with their permissions."""

from django.db import migrations

ROLES = {
    "analysts": [("processes", "deploy_processversion"), ("processes", "view_processversion")],
    "auditors": [
        ("engine", "view_any_case"), ("engine", "view_case"), ("tasks_app", "view_humantask"),
        ("audit", "view_auditevent"), ("audit", "export_auditevent"),
        ("processes", "view_processversion"),
    ],
    "process-admins": [
        ("engine", "view_any_case"), ("engine", "view_case"), ("engine", "cancel_any_case"),
        ("engine", "view_incident"), ("tasks_app", "view_humantask"),
        ("processes", "view_processversion"),
    ],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0001_initial"),
        ("engine", "0001_initial"),
        ("processes", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
