"""The audit log's filters read an index, and each event's insert writes only the
indexes a query reads (issue #16): `action` and `process_key` have one plain
index each, without db_index's varchar_pattern_ops twin for LIKE 'x%' (no query
runs one: the filters compare whole values)."""

import pytest
from django.db import connection, transaction

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.selectors import audit_list
from tests.audit.helpers import start_case, token_client

pytestmark = pytest.mark.django_db


def _plan(qs) -> str:
    statement, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
        # Tiny test tables would be read whole anyway: forbid that, to see
        # which index serves the filter.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def log(users, purchase):
    client = token_client(users["requester"])
    for n in range(8):
        start_case(client, "purchase_request", {"amount": n + 1, "justification": "x"})


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_filters_by_action_and_process_read_their_index(log):
    deployed = _plan(audit_list(action=AuditAction.PROCESS_DEPLOYED))
    assert "audit_action" in deployed and "Seq Scan" not in deployed, deployed
    of_process = _plan(audit_list(process_key="purchase_request", action="x"))
    assert "Seq Scan" not in of_process, of_process
    assert "audit_process_key" in _plan(audit_list(process_key="nothing")), of_process
    # The cockpit's figure of elements passed (cockpit.rollups.PASSED).
    passed = AuditEvent.objects.filter(
        action__in=[AuditAction.TASK_COMPLETED], version_id__isnull=False
    )
    assert "audit_action" in _plan(passed)
    # The verifier's checkpoints (the system chain's, by action): an index.
    checkpoints = _plan(
        AuditEvent.objects.filter(chain="system", action="x").order_by("chain_seq")
    )
    assert "Seq Scan" not in checkpoints, checkpoints


def test_no_pattern_index_on_the_audit_table(db):
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(
            cursor, AuditEvent._meta.db_table
        )
    single = {
        tuple(i["columns"]): name
        for name, i in indexes.items()
        if i["index"] and not i["unique"] and len(i["columns"]) == 1
    }
    assert single[("action",)] == "audit_action"
    assert single[("process_key",)] == "audit_process_key"
    assert not [name for name in indexes if name.endswith("_like")]
