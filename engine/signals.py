"""The one upward seam: tasks_app projects human tasks when a case advances.

Sent with send() (not send_robust) inside the advancing transaction, so a failed
inbox sync rolls the whole advance back.
"""

from django.dispatch import Signal

# kwargs: advance (engine.human_tasks.CaseAdvance)
case_advanced = Signal()
