"""Camunda's own published external-task clients, unchanged, against live Laneway.

PyPI camunda-external-task-client-python3 runs in this process; npm
camunda-external-task-client-js runs as `node camunda_js_worker.mjs`. Both talk
HTTP basic to a live server on PostgreSQL (issue 9, must work 3, proof).
"""

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from camunda.external_task.external_task_worker import (
    ExternalTaskWorker,
    NoExternalTaskFound,
)
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from engine.models import Case, Incident, ServiceCall
from engine.services import case_start
from processes.services import version_upload
from tests.clients import api_for
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db(transaction=True)

JS_WORKER = Path(__file__).with_name("camunda_js_worker.mjs")
TOPIC = "credit-check"


@pytest.fixture
def worker_user(users):
    user = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name="integrations"))
    return user


@pytest.fixture
def credit(users, worker_user):
    return deploy(BPMN_DIR / "external_credit.bpmn", users["analyst"])


MAPPED = (
    "<bpmn:extensionElements><camunda:inputOutput>"
    '<camunda:outputParameter name="approved">${approved}</camunda:outputParameter>'
    '<camunda:outputParameter name="grade">${score * 10}</camunda:outputParameter>'
    "</camunda:inputOutput></bpmn:extensionElements>"
)


@pytest.fixture
def credit_mapped(users, worker_user):
    """The credit check with output parameters: `grade` is mapped from `score`."""
    xml = (BPMN_DIR / "external_credit.bpmn").read_text()
    xml = xml.replace(
        "<bpmn:incoming>f1</bpmn:incoming>\n      <bpmn:outgoing>f2</bpmn:outgoing>",
        MAPPED + "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>",
    )
    assert "outputParameter" in xml
    return version_upload(user=users["analyst"], bpmn=xml.encode(), filename="m.bpmn")


def start(users, **data) -> Case:
    case, _ = case_start(user=users["requester"], key="external_credit", data=data)
    return case


def python_worker(live_server, worker_id: str, **config) -> ExternalTaskWorker:
    settings = {
        "auth_basic": {"username": "erp", "password": PASSWORD},
        "maxTasks": 1,
        "lockDuration": 20_000,
        "asyncResponseTimeout": 1_000,
        "retries": 1,
        "retryTimeout": 100,
        "sleepSeconds": 0,
        **config,
    }
    return ExternalTaskWorker(worker_id, live_server.url + "/engine-rest", settings)


def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def active(case: Case) -> list[str]:
    case.refresh_from_db()
    return case.active_elements


# --- Python client ---------------------------------------------------------------


def test_python_client_fetches_and_completes_with_variables(live_server, users, credit):
    case = start(users, amount=1200, customer={"name": "Ada"})
    seen = {}

    def handle(task):
        seen.update(task.get_variables())
        return task.complete({"approved": True, "score": 7, "limits": {"max": 5000}})

    python_worker(live_server, "py-1").fetch_and_execute(TOPIC, handle)
    assert seen["amount"] == 1200
    assert json.loads(seen["customer"]) == {"name": "Ada"}  # Camunda's Json type
    assert active(case) == ["ship"]
    assert case.data["score"] == 7 and case.data["limits"] == {"max": 5000}


def test_python_client_local_variables_feed_the_output_mapping_only(
    live_server, users, credit_mapped
):
    """Camunda: localVariables are set in the external task's scope; its output
    parameters read them, and the case keeps only what they map."""
    case = start(users, amount=3)

    def handle(task):
        return task.complete({"approved": True}, {"score": 7, "scratch": "py"})

    python_worker(live_server, "py-1").fetch_and_execute(TOPIC, handle)
    assert active(case) == ["ship"]
    assert case.data["grade"] == 70 and case.data["approved"] is True
    assert "score" not in case.data and "scratch" not in case.data


def test_python_client_local_variables_without_mapping_stay_with_the_task(
    live_server, users, credit
):
    case = start(users, amount=3)

    def handle(task):
        return task.complete({"approved": True}, {"scratch": "py"})

    python_worker(live_server, "py-1").fetch_and_execute(TOPIC, handle)
    assert active(case) == ["ship"]
    assert case.data["approved"] is True and "scratch" not in case.data


def test_python_client_failure_retries_then_incident(live_server, users, credit):
    case = start(users, amount=1)
    worker = python_worker(live_server, "py-1")

    def fail(task):
        return task.failure("ERP down", "details", max_retries=1, retry_timeout=100)

    worker.fetch_and_execute(TOPIC, fail)  # retries: 1 left
    time.sleep(0.3)
    worker.fetch_and_execute(TOPIC, fail)  # the client counts down to 0
    with pytest.raises(NoExternalTaskFound):
        worker.fetch_and_execute(TOPIC, fail)
    incidents = api_for(users["padmin"]).get("/api/v1/incidents/").json()["results"]
    [incident] = [i for i in incidents if i["case"] == str(case.pk)]
    assert incident["element"] == "credit_check"
    assert incident["message"] == "ERP down"
    assert len(incident["attempts"]) == 2


def test_python_client_bpmn_error_is_caught_by_the_boundary(live_server, users, credit):
    case = start(users, amount=1)

    def refuse(task):
        return task.bpmn_error("CREDIT_REFUSED", "refused", {"reason": "blacklist"})

    python_worker(live_server, "py-1").fetch_and_execute(TOPIC, refuse)
    assert active(case) == ["handle_refusal"]
    assert case.data["reason"] == "blacklist"


def test_python_client_lock_expiry_and_refetch(live_server, users, credit):
    case = start(users, amount=1)
    slow = python_worker(live_server, "py-slow", lockDuration=500)
    fast = python_worker(live_server, "py-fast", asyncResponseTimeout=0)
    [locked] = slow.client.fetch_and_lock(TOPIC)
    assert fast.client.fetch_and_lock(TOPIC) == []  # locked
    time.sleep(0.7)
    [again] = fast.client.fetch_and_lock(TOPIC)  # the lock expired
    assert again["id"] == locked["id"] and again["workerId"] == "py-fast"
    with pytest.raises(Exception, match="400.*locked by worker 'py-fast'"):
        slow.client.complete(locked["id"], {"approved": True})
    assert fast.client.complete(again["id"], {"approved": False})
    assert active(case) == ["review"]
    call = ServiceCall.objects.get(pk=locked["id"])
    assert call.attempts == 2 and call.worker_id == "py-fast"


def test_two_python_clients_compete_for_one_task(live_server, users, credit):
    handled: list[str] = []
    errors: list[BaseException] = []

    def run(worker_id: str) -> None:
        worker = python_worker(live_server, worker_id, asyncResponseTimeout=4_000)
        try:
            worker.fetch_and_execute(
                TOPIC,
                lambda task: (handled.append(worker_id), task.complete({}))[1],
            )
        except NoExternalTaskFound:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"py-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # both are long-polling now
    case = start(users, amount=1, approved=True)
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(handled) == 1
    assert active(case) == ["ship"]
    actions = AuditEvent.objects.filter(case_id=case.pk).values_list(
        "action", flat=True
    )
    assert list(actions).count("service.started") == 1
    assert list(actions).count("service.succeeded") == 1


# --- Node.js client -------------------------------------------------------------


def _node() -> str:
    node = shutil.which("node")
    assert node, "Node.js is needed for the Node client test (it is on the machine)"
    return node


_RUNNING: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _stop_node_workers():
    """Stop every Node worker a test started, even one whose test failed."""
    yield
    while _RUNNING:
        process = _RUNNING.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def js_worker(live_server, worker_id: str, mode: str, **config) -> subprocess.Popen:
    settings = {
        "baseUrl": live_server.url + "/engine-rest",
        "username": "erp",
        "password": PASSWORD,
        "workerId": worker_id,
        "topic": TOPIC,
        "mode": mode,
        "timeoutMs": 30_000,
        **config,
    }
    env = {**os.environ, "WORKER_CONFIG": json.dumps(settings)}
    process = subprocess.Popen(
        [_node(), str(JS_WORKER)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=JS_WORKER.parent,
    )
    _RUNNING.append(process)
    return process


def events(process: subprocess.Popen, timeout: float = 40) -> list[dict]:
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert process.returncode in (0, -9), (process.returncode, out, err)
    return lines


def stopped(process: subprocess.Popen) -> list[dict]:
    if process.poll() is None:
        process.kill()
    return events(process)


def test_js_client_fetches_and_completes_with_variables(live_server, users, credit):
    case = start(users, amount=1200, customer={"name": "Ada"})
    found = events(js_worker(live_server, "js-1", "complete"))
    fetched = next(e for e in found if e["event"] == "fetched")
    assert fetched["variables"]["amount"] == 1200
    assert fetched["variables"]["customer"] == {"name": "Ada"}  # parsed Json
    assert fetched["processInstanceId"] == str(case.pk)
    assert {"event": "reported", "id": fetched["id"], "mode": "complete"} in found
    assert active(case) == ["ship"]
    assert case.data["limits"] == {"max": 5000} and case.data["score"] == 7


def test_js_client_local_variables_feed_the_output_mapping_only(
    live_server, users, credit_mapped
):
    case = start(users, amount=3)
    found = events(js_worker(live_server, "js-1", "completeLocal"))
    assert any(e["event"] == "reported" for e in found), found
    assert active(case) == ["ship"]
    assert case.data["grade"] == 70 and case.data["approved"] is True
    assert "score" not in case.data and "scratch" not in case.data


def test_js_client_failure_retries_then_incident(live_server, users, credit):
    case = start(users, amount=1)
    found = events(js_worker(live_server, "js-1", "failure", stopAfter=2))
    assert [e["retries"] for e in found if e["event"] == "fetched"] == [None, 1]
    [incident] = Incident.objects.filter(case=case, status="open")
    assert incident.bpmn_id == "credit_check"
    assert incident.message == "ERP down (js)"


def test_js_client_bpmn_error_is_caught_by_the_boundary(live_server, users, credit):
    case = start(users, amount=1)
    found = events(js_worker(live_server, "js-1", "bpmnError"))
    assert any(e["event"] == "reported" for e in found)
    assert active(case) == ["handle_refusal"]
    assert case.data["reason"] == "js"


def test_js_client_lock_expiry_and_refetch(live_server, users, credit, tmp_path):
    case = start(users, amount=1, approved=False)
    release = tmp_path / "release"
    slow = js_worker(
        live_server, "js-slow", "hold", lockDuration=300, holdFile=str(release)
    )
    wait_until(
        lambda: ServiceCall.objects.filter(worker_id="js-slow").exists(), timeout=20
    )
    fast = events(js_worker(live_server, "js-fast", "complete"))
    assert any(e["event"] == "reported" for e in fast)
    release.touch()  # only now does the slow worker try to complete
    late = events(slow)
    # Completed once, by the worker that fetched it after the lock expired: the
    # late worker's completion finds no task (Camunda answers the same). While it
    # held, the slow worker may have fetched its own expired lock again: every one
    # of its completions is refused.
    refused = [e for e in late if e["event"] == "refused"]
    assert refused and not [e for e in late if e["event"] == "reported"]
    for each in refused:
        assert "404" in each["message"] and "does not exist" in each["message"]
    assert active(case) == ["ship"]
    assert ServiceCall.objects.get(case=case).worker_id == "js-fast"


def test_two_js_clients_compete_for_one_task(live_server, users, credit):
    workers = [js_worker(live_server, f"js-{n}", "complete") for n in (1, 2)]
    time.sleep(1.5)  # both are polling
    case = start(users, amount=1)
    wait_until(lambda: active(case) == ["ship"], timeout=20)
    time.sleep(1)  # the loser keeps polling and finds nothing
    found = [e for process in workers for e in stopped(process)]
    assert len([e for e in found if e["event"] == "fetched"]) == 1
    assert len([e for e in found if e["event"] == "reported"]) == 1
    actions = list(
        AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True)
    )
    assert actions.count("service.started") == 1
    assert actions.count("service.succeeded") == 1
