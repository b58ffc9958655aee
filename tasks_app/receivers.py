from .services import inbox_sync_for_case


def on_case_advanced(sender, *, case, outcome, actor, completed_task_id=None, **kwargs):
    inbox_sync_for_case(
        case=case, outcome=outcome, actor=actor, completed_task_id=completed_task_id
    )
