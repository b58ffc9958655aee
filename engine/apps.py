from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Cases"

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed

        from .checks import check_limits, check_script_user, check_service_operations
        from .limits import limits_apply, on_setting_changed

        checks.register(check_service_operations)
        checks.register(check_limits)
        checks.register(check_script_user)
        limits_apply()
        from .spec_cache import called_load, called_resolve
        from .spiff import calls_configure

        calls_configure(resolve=called_resolve, load=called_load)
        setting_changed.connect(on_setting_changed, dispatch_uid="engine.limits")

        from django.db.models.signals import post_save

        from processes.models import ProcessVersion

        from .services.message_buffer import case_buffered_messages
        from .services.message_sends import case_messages_send
        from .services.signals import case_signals_sync
        from .services.timer_starts import version_deployed
        from .signals import case_advanced

        post_save.connect(
            version_deployed, sender=ProcessVersion, dispatch_uid="engine.timer_starts"
        )
        case_advanced.connect(case_signals_sync, dispatch_uid="engine.case_signals")
        case_advanced.connect(case_messages_send, dispatch_uid="engine.case_messages")
        case_advanced.connect(
            case_buffered_messages, dispatch_uid="engine.case_buffered_messages"
        )
