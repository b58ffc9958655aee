"""A message sent with a business key finds its case through indexes, not a scan.

Many running cases wait for the same message name (the name index alone then
matches them all); the business key is selective, and `engine_case.business_key`
is indexed. The statement the API runs is explained as PostgreSQL runs it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine.models import Case, MessageSubscription
from tests.api.test_lookup_plan import _explained, _nodes, _text
from tests.api.test_message_business_key import _send, _start
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

WAITING = 20_000  # other running cases waiting for the same message name
TABLES = ("engine_case", "engine_messagesubscription")


def _many_waiting(version, user) -> None:
    cases = Case.objects.bulk_create(
        Case(version=version, started_by=user, business_key=f"INV-{n}")
        for n in range(WAITING)
    )
    MessageSubscription.objects.bulk_create(
        MessageSubscription(case=case, name="invoice_paid", bpmn_id="wait_paid")
        for case in cases
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE engine_case")
        cursor.execute("ANALYZE engine_messagesubscription")


def test_the_business_key_lookup_reads_the_one_case_by_index(users):
    version = deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    _many_waiting(version, users["requester"])
    case = _start(users["requester"], "notify_receiver", "THE-ONE", {"invoice": "7"})
    sender = api_for(users["padmin"])
    body = {
        "name": "invoice_paid",
        "correlation": {"invoice": "7"},
        "business_key": "THE-ONE",
    }
    with CaptureQueriesContext(connection) as captured:
        answer = _send(sender, body)
    assert answer.json()["delivered"] == [str(case.pk)]
    lookups = [
        q["sql"]
        for q in captured
        if "engine_messagesubscription" in q["sql"] and "business_key" in q["sql"]
    ]
    assert lookups, [q["sql"] for q in captured]
    # Explained while a case with the key waits again (the first one has ended).
    _start(users["requester"], "notify_receiver", "THE-ONE", {"invoice": "7"})
    for statement in lookups:
        plan = _explained(statement)
        listing = _text(plan)
        for node in _nodes(plan):
            assert not (
                node["Node Type"] == "Seq Scan" and node.get("Relation Name") in TABLES
            ), listing
            if node.get("Relation Name") in TABLES:
                # One case's rows, not the WAITING others'.
                assert node["Actual Rows"] * node["Actual Loops"] <= 1, listing
