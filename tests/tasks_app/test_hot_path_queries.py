"""The SQL statements of one human step: a change that adds one fails here (issue #16).

Counted through the service layer on PostgreSQL, the warm path (the spec parsed,
the permissions read once per process). SAVEPOINT/RELEASE are the test's own
transaction; in production they are BEGIN/COMMIT, which psycopg sends itself.
When a count changes on purpose, update it here and in bench/RESULTS.md.
"""

import datetime
import threading
import uuid

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext, override_settings

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.selectors import audit_verify
from audit.services import audit_batch, audit_record
from common.sql import (
    execute_together,
    insert_statements,
    selects_compiled,
    update_statement,
    write_later,
    writes_compiled,
)
from engine.errors import CaseBusy, CaseNotFound
from engine.models import Case
from engine.services import case_lock, case_start
from tasks_app.errors import TaskNotFound
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

# The statements left in one step, in order (see bench/RESULTS.md, "Round trips").
START_STATEMENTS = 2
COMPLETE_STATEMENTS = 3


def _start(users) -> Case:
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    return case


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _assert_count(label: str, statements: list[str], expected: int) -> None:
    listing = "\n".join(f"{i:3} {sql[:160]}" for i, sql in enumerate(statements, 1))
    assert len(statements) == expected, (
        f"{label}: {len(statements)} SQL statements, expected {expected}. "
        f"A statement added to the hot path costs every step a round trip; "
        f"if it is needed, update the count (and bench/RESULTS.md):\n{listing}"
    )


@pytest.fixture
def warm(users, purchase):
    """One whole case first: the spec is cached and the permissions read."""
    case = _start(users)
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=users["manager1"], task_id=task.pk, data={"approved": True})
    return users


def test_one_task_completion_takes_a_fixed_number_of_statements(warm):
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")

    with CaptureQueriesContext(connection) as captured:
        done = task_complete(
            user=warm["manager1"], task_id=task.pk, data={"approved": True}
        )

    assert done.status == HumanTask.Status.COMPLETED
    assert HumanTask.objects.get(case=case, status="open").bpmn_id == "finance_review"
    _assert_count("task_complete", _statements(captured), COMPLETE_STATEMENTS)


def test_one_case_start_takes_a_fixed_number_of_statements(warm):
    with CaptureQueriesContext(connection) as captured:
        case = _start(warm)

    assert HumanTask.objects.filter(case=case, status="open").count() == 1
    _assert_count("case_start", _statements(captured), START_STATEMENTS)


def test_the_batched_audit_events_of_a_step_form_an_intact_chain(warm):
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=warm["manager1"], task_id=task.pk, data={"approved": True})

    events = list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("chain_seq")
        .values_list("chain_seq", "action")
    )
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    assert [a for _, a in events][-3:] == [
        AuditAction.TASK_COMPLETED,
        AuditAction.ELEMENT_COMPLETED,
        AuditAction.TASK_CREATED,
    ]
    assert audit_verify().ok


def test_events_of_savepoints_inside_a_batch_keep_the_chain_whole(warm):
    case = _start(warm)

    def record(action: AuditAction) -> None:
        audit_record(actor=None, action=action, case_id=case.pk)

    with transaction.atomic(), audit_batch():
        record(AuditAction.TASK_CLAIMED)  # buffered
        try:
            with transaction.atomic():
                record(AuditAction.TASK_UNCLAIMED)  # written, then rolled back
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        with transaction.atomic():
            record(AuditAction.TASK_RESOLVED)  # written, kept
        record(AuditAction.CASE_COMPLETED)  # buffered

    actions = list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("chain_seq")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [
        AuditAction.TASK_CLAIMED,
        AuditAction.TASK_RESOLVED,
        AuditAction.CASE_COMPLETED,
    ]
    verification = audit_verify()
    assert verification.ok, verification.as_dict()


@pytest.mark.django_db(transaction=True)
def test_a_case_locked_by_another_command_answers_busy_then_proceeds(warm):
    """The lock-timeout rides in the locking statement: still bounded, still 409."""
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")
    settings = connection.settings_dict
    holder = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with holder.transaction():
            holder.execute(
                "SELECT 1 FROM engine_case WHERE id = %s FOR UPDATE", [case.pk]
            )
            locked.set()
            release.wait(30)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert locked.wait(10)
        with override_settings(ENGINE_LOCK_TIMEOUT_MS=200):
            with pytest.raises(CaseBusy):
                task_complete(
                    user=warm["manager1"], task_id=task.pk, data={"approved": True}
                )
        assert HumanTask.objects.get(pk=task.pk).status == HumanTask.Status.OPEN
    finally:
        release.set()
        thread.join()
        holder.close()
    done = task_complete(
        user=warm["manager1"], task_id=task.pk, data={"approved": True}
    )
    assert done.status == HumanTask.Status.COMPLETED


def test_a_task_offered_to_a_group_that_does_not_exist_yet_creates_it(warm):
    """The grants find groups by name inside the insert; a new group is created."""
    case = _start(warm)
    review = HumanTask.objects.get(case=case, status="open")
    Group.objects.filter(name="Finance").delete()  # e.g. not set up yet

    task_complete(user=warm["manager1"], task_id=review.pk, data={"approved": True})

    offered = HumanTask.objects.get(case=case, status="open")
    assert offered.candidate_groups == ["Finance"]
    newcomer = get_user_model().objects.create_user("newcomer")
    newcomer.groups.add(Group.objects.get(name="Finance"))
    done = task_complete(
        user=newcomer, task_id=offered.pk, data={"finance_approved": True}
    )
    assert done.status == HumanTask.Status.COMPLETED
    assert done.completed_by == newcomer


def _business_key(case: Case) -> str:
    return Case.objects.values_list("business_key", flat=True).get(pk=case.pk)


def test_held_writes_are_seen_by_the_next_read_and_survive_a_rolled_back_savepoint(
    warm,
):
    case = _start(warm)

    with transaction.atomic(), audit_batch():
        write_later([update_statement(Case, {"business_key": "held"}, pk=case.pk)])
        assert _business_key(case) == "held"  # a read sends them first
        write_later([update_statement(Case, {"business_key": "kept"}, pk=case.pk)])
        try:
            with transaction.atomic():  # its SAVEPOINT sends them before it
                Case.objects.filter(pk=case.pk).update(business_key="undone")
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        assert _business_key(case) == "kept"
        write_later([update_statement(Case, {"business_key": "last"}, pk=case.pk)])

    assert _business_key(case) == "last"  # sent when the batch ended


def test_held_writes_are_dropped_with_the_transaction_on_an_error(warm):
    case = _start(warm)

    with pytest.raises(RuntimeError), transaction.atomic(), audit_batch():
        write_later([update_statement(Case, {"business_key": "lost"}, pk=case.pk)])
        raise RuntimeError("the command fails")

    assert _business_key(case) == ""


def test_two_held_writes_of_one_row_are_sent_in_turn_the_later_wins(warm):
    """PostgreSQL keeps one of two changes of a row made by one statement."""
    case = _start(warm)
    row = [("engine_case", case.pk)]

    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic(), audit_batch():
            for key in ("first", "second"):
                write_later(
                    [update_statement(Case, {"business_key": key}, pk=case.pk)],
                    rows=row,
                )

    assert len(_statements(captured)) == 2  # which of the two one statement keeps
    assert _business_key(case) == "second"  # is not defined


def test_the_locking_statements_compiled_once_load_what_the_orm_loads(warm):
    """`select_compiled`: the same objects, related rows and annotations."""
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")

    with transaction.atomic():
        locked = case_lock(human_task_id=task.pk, with_state=True)
        again = case_lock(case_id=str(case.pk))
    expected = Case.objects.select_related(
        "version__definition", "started_by", "state"
    ).get(pk=case.pk)
    for field in Case._meta.concrete_fields:
        assert getattr(locked, field.attname) == getattr(expected, field.attname)
    assert again.pk == locked.pk and again.revision == locked.revision
    assert locked.version.definition.key == expected.version.definition.key
    assert locked.started_by == expected.started_by == warm["requester"]
    assert locked.state.state_json == expected.state.state_json
    assert not locked._state.adding and locked._state.db == "default"
    unread = {  # by any command under the lock (engine.services.advance)
        "version": {"original_xml", "normalized_xml", "name", "filename"}
        | {"dmn_files", "checksum", "warnings", "uploaded_by", "uploaded_at"}
        | {"status"},
        "version__definition": {"name", "created_at"},
        "started_by": {"password", "last_login", "is_superuser", "is_staff"}
        | {"date_joined"},
        "state": {"updated_at"},
    }
    same = (
        Case.objects.select_related("version__definition", "started_by", "state")
        .defer(*(f"{on}__{name}" for on, names in unread.items() for name in names))
        .get(pk=case.pk)
    )
    pairs = [
        (locked, same),
        (locked.version, same.version),
        (locked.version.definition, same.version.definition),
        (locked.started_by, same.started_by),
        (locked.state, same.state),
    ]
    for mine, orm in pairs:  # made without Model.__init__: the same objects
        assert type(mine) is type(orm)
        assert {k: v for k, v in vars(mine).items() if k != "_state"} == {
            k: v for k, v in vars(orm).items() if k != "_state"
        }
        assert mine.get_deferred_fields() == orm.get_deferred_fields()
        assert (mine._state.adding, mine._state.db) == (False, "default")
        assert set(mine._state.fields_cache) == set(orm._state.fields_cache)
    assert locked.state.case is locked and same.state.case is same
    shapes = {key[0] for key in selects_compiled()}
    assert {"case_lock", "locked_task", "version_get"} <= shapes  # none fell back


def test_a_malformed_or_unknown_id_is_not_found_and_leaves_the_transaction_usable(
    warm,
):
    for bad in ("not-a-uuid", uuid.uuid4()):
        with transaction.atomic():
            with pytest.raises(CaseNotFound):
                case_lock(case_id=bad)
            with pytest.raises(TaskNotFound):
                task_complete(user=warm["manager1"], task_id=bad, data={})
            assert Case.objects.exists() in (True, False)  # still usable


def test_the_writes_of_a_step_are_compiled_once(warm):
    """Every write of a start and a completion keeps its SQL (none is compiled
    by the ORM at every call because the values it sends differ from ours)."""
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=warm["manager1"], task_id=task.pk, data={"approved": True})

    shapes = writes_compiled()
    models = {key[1] for key in shapes}
    assert {Case, HumanTask, AuditEvent} <= models
    assert [key for key, kept in shapes.items() if not kept] == []


def test_the_locks_and_writes_of_a_step_are_prepared_statements(warm):
    """Planned once per session: the locks with their constants written in (a
    generic plan can use the partial index of open tasks), the writes prepared."""
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")
    task_complete(user=warm["manager1"], task_id=task.pk, data={"approved": True})

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    case_lock = [s for s in prepared if 'FOR UPDATE OF "engine_case"' in s]
    task_lock = [s for s in prepared if s.startswith('SELECT "tasks_app_humantask"')]
    assert case_lock and "$1" in case_lock[0]
    assert task_lock and """"tasks_app_humantask"."status" = 'open'""" in task_lock[0]
    assert any(s.startswith("WITH w0 AS (UPDATE") for s in prepared)  # the writes


def test_writes_compiled_once_send_what_the_orm_sends(warm):
    """`insert_statement`/`update_statement` keep a shape's SQL; values as before."""
    case = _start(warm)
    task = HumanTask.objects.get(case=case, status="open")

    with transaction.atomic():
        for key in ("a", "b", None, "c"):  # NULL is a shape of its own
            execute_together(
                [update_statement(Case, {"business_key": key or ""}, pk=case.pk)]
            )
            values = {"completed_by": warm["manager1"], "claimed_at": None}
            first, again = (
                update_statement(HumanTask, values, pk=task.pk) for _ in range(2)
            )
            assert first == again
            execute_together([first])
        execute_together(  # an expression: compiled by the ORM, as always
            [update_statement(Case, {"revision": F("revision") + 1}, pk=case.pk)]
        )
    task.refresh_from_db()
    assert task.completed_by == warm["manager1"] and task.claimed_at is None
    saved = Case.objects.get(pk=case.pk)
    assert saved.business_key == "c" and saved.revision == case.revision + 1


def test_array_parameters_sent_as_text_store_what_psycopg_stores(warm):
    """The UNNEST insert of a write shape compiled once sends each column as
    array text (`array_text`, not psycopg's list dumper): the rows read back as
    they were written, whatever the strings hold, NULLs and offsets included."""
    zone = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    texts = ['say "hi"', "back\\slash", "{a,b}", "NULL", "", " pad ", "é\U0001f600"]

    def events(batch: str) -> list[AuditEvent]:
        return [
            AuditEvent(
                chain=f"test:{batch}:{i}",
                chain_seq=i + 1,
                at=datetime.datetime(2026, 1, 2, 3, 4, 5, i, tzinfo=zone),
                actor_id=None if i % 2 else 2**40 + i,
                actor_repr=text,
                on_behalf_of=text[::-1],
                action="test.array",
                case_id=None if i % 3 else uuid.uuid4(),
                payload={"text": text, "nested": [text, {"q": '"'}], "n": 1.5},
                prev_hash=text,
                hash=str(i),
            )
            for i, text in enumerate(texts)
        ]

    columns = ("at", "actor_id", "actor_repr", "on_behalf_of", "case_id")
    with transaction.atomic():
        for batch in ("first", "again"):  # the first compiles the shape
            written = events(batch)
            ((sql, params),) = insert_statements(AuditEvent, written)
            if batch == "again":
                assert all(isinstance(p, str) for p in params), params
            execute_together([(sql, params)])
            stored = AuditEvent.objects.filter(chain__startswith=f"test:{batch}:")
            rows = list(stored.order_by("chain_seq"))
            assert [
                [getattr(e, c) for c in (*columns, "payload", "prev_hash")]
                for e in rows
            ] == [
                [getattr(e, c) for c in (*columns, "payload", "prev_hash")]
                for e in written
            ]


def test_a_new_task_is_made_as_the_model_makes_it(warm):
    """tasks_app.services._new_task: HumanTask(...) without Model.__init__."""
    from tasks_app.services import _new_task

    case = _start(warm)
    values = {
        "spiff_task_id": uuid.uuid4(),
        "bpmn_id": "review",
        "name": "Review",
        "candidate_groups": ["Finance"],
        "form": [{"id": "ok", "type": "boolean"}],
        "business_data": {"amount": "7"},
        "due_at": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
    }
    for assignee in (None, warm["manager1"]):
        mine = _new_task(case=case, assignee=assignee, **dict(values))
        orm = HumanTask(case=case, assignee=assignee, **dict(values))
        ours, theirs = vars(mine).copy(), vars(orm).copy()
        assert ours.pop("id") != theirs.pop("id")  # each its own new id
        assert ours.pop("_state").__dict__ == theirs.pop("_state").__dict__
        assert ours == theirs
        assert type(mine.status) is type(orm.status) and mine.draft is not orm.draft
    with pytest.raises(TypeError):
        _new_task(case=case, assignee=None, nonsense=1, **dict(values))
