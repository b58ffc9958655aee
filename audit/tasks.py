from celery import shared_task

from .services import audit_checkpoint


@shared_task(name="audit.checkpoint")
def audit_checkpoint_task() -> str:
    """Chain the heads of every changed case chain into the system chain."""
    return str(audit_checkpoint().id)
