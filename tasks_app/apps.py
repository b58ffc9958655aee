from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Human tasks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save
        from guardian.models import GroupObjectPermission, UserObjectPermission

        from engine.signals import case_advanced

        from . import permissions, receivers, roles

        case_advanced.connect(
            receivers.on_case_advanced, dispatch_uid="tasks_app.inbox_sync"
        )
        # WORK rows written or deleted one by one keep the inbox's candidate
        # table in step (Laneway's own bulk grants write it with them).
        for model in (UserObjectPermission, GroupObjectPermission):
            post_save.connect(
                receivers.on_work_row_saved,
                sender=model,
                dispatch_uid=f"tasks_app.candidates_saved.{model.__name__}",
            )
            post_delete.connect(
                receivers.on_work_row_deleted,
                sender=model,
                dispatch_uid=f"tasks_app.candidates_deleted.{model.__name__}",
            )
        # After contrib.auth's own post_migrate handler has created the permissions.
        post_migrate.connect(
            roles.roles_ensure, sender=self, dispatch_uid="tasks_app.roles"
        )
        # A flush or migrate recreates the permissions (with new ids).
        post_migrate.connect(
            permissions.permissions_forget, dispatch_uid="tasks_app.permissions"
        )
