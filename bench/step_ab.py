"""A/B of the service step on one database, the arms alternating in one run
(figures, not a test; h/ids, bench/RESULTS.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_ab \
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/step_ab.py \
        --experiment ids|indexes|combined|triggers|fks|audit_json|... [--fill 100000] \
        [--rounds 10] [--cases 30]

`--fill N` first makes the database afresh with N finished cases (bench/volume.py's
fill; a scratch database). Each arm switches the database or the process in place
(uuid4 or uuid7 ids; the indexes main had and the branch dropped; the audit
triggers; the FK constraints of the step's tables, dropped, and re-added NOT VALID:
this leaves the database's FKs unvalidated). Per case: the start's and each
completion's wall ms and PostgreSQL backend CPU (schedstat, ns, a fresh backend
per round), this process's CPU per completion; per arm, blocks read and hit in the
database and WAL bytes (the whole cluster's: indicative). Medians over the rounds;
which arm goes first alternates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402


def backend_ns() -> int:
    from django.db import connection

    pid = connection.connection.info.backend_pid
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def run_cases(users, cases: int, out: dict[str, list[float]]) -> None:
    from django.db import connection

    from engine.services import case_start
    from tasks_app.models import HumanTask
    from tasks_app.services import task_complete

    connection.ensure_connection()
    for _ in range(cases):
        b0, p0, w0 = backend_ns(), time.process_time(), time.perf_counter()
        case, _ = case_start(
            user=users["b-requester"],
            key="purchase_request",
            data={"amount": 120, "justification": "Benchmark"},
        )
        out["start_ms"].append((time.perf_counter() - w0) * 1000)
        out["start_pg_ms"].append((backend_ns() - b0) / 1e6)
        for user, data in (
            ("b-manager", {"approved": True}),
            ("b-finance", {"finance_approved": True}),
        ):
            task = HumanTask.objects.get(case=case, status="open")
            b0, p0, w0 = backend_ns(), time.process_time(), time.perf_counter()
            task_complete(user=users[user], task_id=task.pk, data=data)
            w1, p1, b1 = time.perf_counter(), time.process_time(), backend_ns()
            out["complete_ms"].append((w1 - w0) * 1000)
            out["complete_pg_ms"].append((b1 - b0) / 1e6)
            out["complete_py_ms"].append((p1 - p0) * 1000)


def set_ids(gen) -> None:
    import engine.services.cases as cases_module
    from engine.models import Case
    from tasks_app.models import HumanTask

    cases_module.uuid7 = gen  # type: ignore[attr-defined]
    for model in (Case, HumanTask):
        field = model._meta.pk
        field.default = gen
        field.__dict__.pop("_get_default", None)


def sql(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for s in statements:
            cursor.execute(s)


# Indexes the branch drops (experiment "indexes": the old arm has them back).
OLD_INDEXES = [
    (
        "audit_auditevent_action_2131bb77_like",
        "CREATE INDEX audit_auditevent_action_2131bb77_like ON audit_auditevent "
        "(action varchar_pattern_ops)",
    ),
    (
        "audit_auditevent_process_key_2186c707_like",
        "CREATE INDEX audit_auditevent_process_key_2186c707_like ON "
        "audit_auditevent (process_key varchar_pattern_ops)",
    ),
    (
        "tasks_app_humantask_case_id_1fda66ae",
        "CREATE INDEX tasks_app_humantask_case_id_1fda66ae ON tasks_app_humantask "
        "(case_id)",
    ),
]


def _indexes(old: bool) -> None:
    """Put main's indexes back (old) or drop them (the branch's schema)."""
    drops = [f"DROP INDEX IF EXISTS {name}" for name, _ in OLD_INDEXES]
    sql(drops + ([create for _, create in OLD_INDEXES] if old else []))


def _ids_arms() -> dict:
    from common.uuids import uuid7

    return {"uuid4": lambda: set_ids(uuid.uuid4), "uuid7": lambda: set_ids(uuid7)}


def _indexes_arms() -> dict:
    from common.uuids import uuid7

    set_ids(uuid7)
    return {
        "old_indexes": lambda: _indexes(True),
        "new_indexes": lambda: _indexes(False),
    }


def _combined_arms() -> dict:
    """main's ids and indexes vs the branch's."""
    from common.uuids import uuid7

    def main_arm() -> None:
        set_ids(uuid.uuid4)
        _indexes(True)

    def branch_arm() -> None:
        set_ids(uuid7)
        _indexes(False)

    return {"main": main_arm, "branch": branch_arm}


def _triggers_arms() -> dict:
    tables = ("audit_auditevent", "audit_auditchainhead")
    return {
        "triggers_on": lambda: sql(
            [f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in tables]
        ),
        "triggers_off": lambda: sql(
            [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in tables]
        ),
    }


STEP_TABLES = [
    "engine_case",
    "engine_casestate",
    "tasks_app_humantask",
    "tasks_app_humantask_barred",
    "tasks_app_inboxcandidate",
    "guardian_groupobjectpermission",
    "guardian_userobjectpermission",
]


def _fks_arms() -> dict:
    """Every FK constraint of the tables a step writes: dropped (off), or
    re-added NOT VALID, without a scan (on)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text = ANY(%s)",
            [STEP_TABLES],
        )
        fks = cursor.fetchall()
    drops = [f'ALTER TABLE {t} DROP CONSTRAINT IF EXISTS "{n}"' for t, n, _ in fks]
    adds = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d} NOT VALID' for t, n, d in fks]
    return {"fks_on": lambda: sql(drops + adds), "fks_off": lambda: sql(drops)}


def _swapped(owner, name: str, old) -> dict:
    """Arms "old" (`owner.name` replaced by `old`) and "new" (as the code is)."""
    new = getattr(owner, name)
    return {
        "old": lambda: setattr(owner, name, old),
        "new": lambda: setattr(owner, name, new),
    }


def _audit_json_arms() -> dict:
    """The audit payload's read-back and canonical text by orjson (new) or by
    json.dumps' encoder only (old)."""
    import audit.canonical as canonical
    import audit.services as services
    from common import json_text

    read_back = _swapped(
        services,
        "_read_back",
        lambda p: json_text.loads(services._PAYLOAD_ENCODER.encode(p)),
    )
    text = _swapped(canonical, "_orjson_text", lambda value: None)
    return {arm: (lambda a=arm: (read_back[a](), text[a]())) for arm in ("old", "new")}


EXPERIMENTS = {
    "ids": _ids_arms,
    "indexes": _indexes_arms,
    "combined": _combined_arms,
    "triggers": _triggers_arms,
    "fks": _fks_arms,
    "audit_json": _audit_json_arms,
}
# The arm that leaves the database as the branch's schema expects.
LAST = ("new_indexes", "branch", "triggers_on", "fks_on", "new")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", required=True, choices=list(EXPERIMENTS))
    parser.add_argument("--fill", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cases", type=int, default=30)
    options = parser.parse_args()
    django.setup()
    import advance
    import volume
    from django.core.management import call_command
    from django.db import connection

    url = os.environ["DATABASE_URL"]
    if options.fill:
        volume._prepare(url)
        volume.fill(options.fill, 90)
        sql(["VACUUM ANALYZE", "CHECKPOINT"])
    else:
        call_command("migrate", verbosity=0)
    users = advance._setup_users()
    arms = EXPERIMENTS[options.experiment]()
    samples: dict[str, dict[str, list[float]]] = {
        a: {
            k: []
            for k in (
                "start_ms",
                "start_pg_ms",
                "complete_ms",
                "complete_pg_ms",
                "complete_py_ms",
            )
        }
        for a in arms
    }
    names = list(arms)
    import psycopg

    stats = psycopg.connect(url, autocommit=True)

    def counters() -> dict[str, float]:
        stats.execute("SELECT pg_stat_clear_snapshot()")
        row = stats.execute(
            "SELECT blks_read, blks_hit, pg_current_wal_lsn() - '0/0'::pg_lsn "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return {"blks_read": row[0], "blks_hit": row[1], "wal": float(row[2])}

    totals = {
        a: {"blks_read": 0.0, "blks_hit": 0.0, "wal": 0.0, "cases": 0} for a in arms
    }
    run_cases(users, 5, {k: [] for k in samples[names[0]]})  # warm-up
    for r in range(options.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            arms[name]()
            connection.close()  # a fresh backend: its own CPU count
            time.sleep(0.3)
            before = counters()
            run_cases(users, options.cases, samples[name])
            connection.close()  # its statistics flushed at exit
            time.sleep(0.5)
            after = counters()
            for k in before:
                totals[name][k] += after[k] - before[k]
            totals[name]["cases"] += options.cases
    for name in LAST:
        if name in arms:
            arms[name]()  # leave the database as the branch's schema expects
    result = {
        name: {k: round(statistics.median(v), 3) for k, v in s.items()}
        for name, s in samples.items()
    }
    for name, t in totals.items():
        n = t.pop("cases")
        result[name].update({f"{k}_per_case": round(v / n, 1) for k, v in t.items()})
    print(json.dumps({"experiment": options.experiment, **result}, indent=1))


if __name__ == "__main__":
    main()
