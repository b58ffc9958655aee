from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Cases"

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed

        from .checks import check_limits, check_service_operations
        from .limits import limits_apply, on_setting_changed

        checks.register(check_service_operations)
        checks.register(check_limits)
        limits_apply()
        setting_changed.connect(on_setting_changed, dispatch_uid="engine.limits")
