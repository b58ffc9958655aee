from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_migrate

        from . import checks as audit_checks

        checks.register(audit_checks.check_append_only_triggers, checks.Tags.database)
        post_migrate.connect(audit_checks.verify_after_migrate, sender=self)
