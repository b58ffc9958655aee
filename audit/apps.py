from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.core import checks
        from django.db.models.signals import m2m_changed, post_migrate

        from . import checks as audit_checks
        from . import receivers

        m2m_changed.connect(
            receivers.on_user_groups_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="audit.group_membership",
        )
        checks.register(audit_checks.check_append_only_triggers, checks.Tags.database)
        post_migrate.connect(audit_checks.verify_after_migrate, sender=self)
