"""Celery tasks of the inbox: e-mail notices, and the overdue sweep beat runs."""

from celery import shared_task

from .notifications import NOTIFY_TASK, overdue_tasks_mark, task_notify


@shared_task(
    name=NOTIFY_TASK,
    autoretry_for=(OSError,),  # an SMTP server down or refusing: try again later
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=5,
)
def task_notify_task(
    task_id: str, notice: str, to_id: int | None, actor_id: int | None
) -> int:
    """Mail the people a task notice is for (see tasks_app.notifications)."""
    return task_notify(task_id=task_id, notice=notice, to_id=to_id, actor_id=actor_id)


@shared_task(name="tasks_app.overdue_remind")
def overdue_remind_task() -> int:
    """Remind the holders or candidates of tasks that became overdue (once each)."""
    return len(overdue_tasks_mark())
