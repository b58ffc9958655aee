from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Cases"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_service_operations

        checks.register(check_service_operations)
