"""The one upward seam: tasks_app projects human tasks when a case advances.

Sent with send() (not send_robust) inside the advancing transaction, so a failed
inbox sync rolls the whole advance back.
"""

from django.dispatch import Signal

# kwargs: case, outcome (AdvanceOutcome), actor, completed_task_id (str | None)
case_advanced = Signal()
