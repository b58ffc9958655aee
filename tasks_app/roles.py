"""The role groups beyond lanes, with their model permissions (ARCHITECTURE §7)."""

from django.contrib.auth.models import Group, Permission

ROLES = {
    "analysts": [
        ("processes", "deploy_processversion"),
        ("processes", "view_processversion"),
    ],
    "auditors": [
        ("engine", "view_any_case"),
        ("engine", "view_case"),
        ("tasks_app", "view_humantask"),
        ("audit", "view_auditevent"),
        ("audit", "export_auditevent"),
        ("processes", "view_processversion"),
    ],
    "process-admins": [
        ("engine", "view_any_case"),
        ("engine", "view_case"),
        ("engine", "cancel_any_case"),
        ("engine", "view_incident"),
        ("engine", "retry_incident"),
        ("engine", "send_message"),
        ("engine", "send_signal"),
        ("engine", "signal_receive"),
        ("engine", "evaluate_conditions"),
        ("tasks_app", "view_humantask"),
        ("tasks_app", "reassign_humantask"),
        ("processes", "view_processversion"),
    ],
    "integrations": [
        ("engine", "send_message"),
        ("engine", "send_signal"),
        ("engine", "signal_receive"),
        ("engine", "evaluate_conditions"),
        ("engine", "work_external_tasks"),
    ],
}


def roles_ensure(**kwargs) -> None:
    """Create the role groups and give them their permissions (idempotent).

    Runs after every migrate (and after a test database flush, which empties the
    auth tables).
    """
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in perms
        ]
        group.permissions.add(*wanted)
