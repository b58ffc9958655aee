from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Human tasks"

    def ready(self) -> None:
        from engine.signals import case_advanced

        from . import receivers

        case_advanced.connect(receivers.on_case_advanced, dispatch_uid="tasks_app.inbox_sync")
