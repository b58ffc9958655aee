"""Script workers never run scripts with the server's privileges (issue #14, item 7).

The guarded evaluator is the first wall; the worker process is the second: if a
script ever got out of the evaluator, it would find itself as an unprivileged
account with no network, no way to fork and no way to regain privileges.
"""

import os
import pwd

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from engine.spiff.sandbox import pool as pool_module
from tests.engine.test_spiff_sandbox import _run_case

AS_ROOT = os.geteuid() == 0


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def _max_processes(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as f:
        line = next(x for x in f if x.startswith("Max processes"))
    return line.split()[2]  # soft limit


def _workers_of_this_process() -> list[int]:
    pool = pool_module.get_pool()
    return [worker.proc.pid for worker in pool._all]


def test_a_case_runs_its_scripts_in_workers_without_the_servers_privileges():
    outcome = _run_case(script="x = amount * 2")
    assert outcome.failure is None
    pids = _workers_of_this_process()
    assert pids, "the script ran in no worker process"
    expected = pwd.getpwnam("nobody").pw_uid if AS_ROOT else os.getuid()
    for pid in pids:
        status = _status(pid)
        assert status["Uid"].split() == [str(expected)] * 4  # real, eff., saved, fs
        assert status["Groups"].strip() == ""
        if AS_ROOT:
            assert status["NoNewPrivs"].strip() == "1"
        assert _max_processes(pid) == "0"  # binds: the worker is not root
        if AS_ROOT:  # an empty network namespace: not even loopback to the database
            assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink(
                "/proc/self/ns/net"
            )


@pytest.mark.skipif(not AS_ROOT, reason="dropping privileges needs a root server")
def test_a_worker_that_cannot_drop_root_fails_the_script_instead_of_running_it():
    with override_settings(ENGINE_SCRIPT_USER="no-such-account-laneway"):
        outcome = _run_case(script="x = amount * 2")
    assert outcome.failure is not None
    assert outcome.failure.error_type == "SandboxCrashed"
    assert outcome.failure.bpmn_id == "prepare"


@pytest.mark.skipif(not AS_ROOT, reason="the check applies to a root server")
def test_the_system_check_names_a_script_account_that_does_not_exist():
    with override_settings(ENGINE_SCRIPT_USER="no-such-account-laneway"):
        with pytest.raises(SystemCheckError) as raised:
            call_command("check")
    assert "engine.E011" in str(raised.value)
    assert "no-such-account-laneway" in str(raised.value)
