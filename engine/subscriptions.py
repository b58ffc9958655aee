"""Keep a case's message subscriptions in step with its workflow state.

Separate from `services_messages` because `services._apply_outcome` calls it and
`services_messages` imports `services`.
"""

from engine.spiff import AdvanceOutcome

from .models import Case, MessageSubscription


def message_subscriptions_sync(*, case: Case, outcome: AdvanceOutcome) -> None:
    """Replace the case's subscriptions with the messages the outcome waits for."""
    wanted = (
        [(m.name, m.bpmn_id, m.correlation) for m in outcome.waiting_messages]
        if case.is_running
        else []
    )
    current = list(
        MessageSubscription.objects.filter(case=case)
        .order_by("name", "bpmn_id")
        .values_list("name", "bpmn_id", "correlation")
    )
    if [tuple(row) for row in current] == wanted:
        return
    MessageSubscription.objects.filter(case=case).delete()
    MessageSubscription.objects.bulk_create(
        MessageSubscription(case=case, name=name, bpmn_id=bpmn_id, correlation=corr)
        for name, bpmn_id, corr in wanted
    )
