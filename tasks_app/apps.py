from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Human tasks"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from engine.signals import case_advanced

        from . import permissions, receivers, roles

        case_advanced.connect(
            receivers.on_case_advanced, dispatch_uid="tasks_app.inbox_sync"
        )
        # After contrib.auth's own post_migrate handler has created the permissions.
        post_migrate.connect(
            roles.roles_ensure, sender=self, dispatch_uid="tasks_app.roles"
        )
        # A flush or migrate recreates the permissions (with new ids).
        post_migrate.connect(
            permissions.permissions_forget, dispatch_uid="tasks_app.permissions"
        )
