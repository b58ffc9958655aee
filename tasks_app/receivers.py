from engine.human_tasks import CaseAdvance

from .services import inbox_sync_for_case


def on_case_advanced(sender, *, advance: CaseAdvance, **kwargs) -> None:
    inbox_sync_for_case(advance=advance)
