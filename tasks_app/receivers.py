from engine.human_tasks import CaseAdvance

from . import permissions
from .services import inbox_sync_for_case


def on_case_advanced(sender, *, advance: CaseAdvance, **kwargs) -> None:
    inbox_sync_for_case(advance=advance)


def on_work_row_saved(sender, *, instance, created: bool, **kwargs) -> None:
    permissions.work_row_saved(instance, created=created)


def on_work_row_deleted(sender, *, instance, **kwargs) -> None:
    permissions.work_row_deleted(instance)
