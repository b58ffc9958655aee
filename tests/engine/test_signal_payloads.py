"""What a signal carries to the cases it reaches and starts.

Camunda 7: the `camunda:in` mappings on a throw event's signalEventDefinition
(source/target, sourceExpression, variables="all"); nothing without them.
SpiffArena: the signal's payloadExpression, stored in the catcher's
variableName. The API's `data` becomes variables of the catching cases.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for

THROWER = (BPMN_DIR / "signal_payload.bpmn").read_text()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_camunda_in_mappings_reach_catching_and_started_cases(users):
    deploy(BPMN_DIR / "signal_payload.bpmn", users["analyst"])
    requester = users["requester"]
    listener, _ = case_start(user=requester, key="alarm_listener", data={"own": 1})
    clear, _ = case_start(user=requester, key="clear_listener", data={})
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        thrower, _ = case_start(
            user=requester, key="alarm_thrower", data={"level": 3, "secret": "s"}
        )

        def reached():
            started = Case.objects.filter(version__definition__key="alarm_started")
            listener.refresh_from_db()
            clear.refresh_from_db()
            return (
                started.exists()
                and listener.active_elements == ["respond"]
                and clear.active_elements == ["review"]
            )

        assert _wait_for(reached)
    # source/target and sourceExpression: only what is mapped, a missing source is null.
    assert listener.data == {"own": 1, "alarm_level": 3, "doubled": 6, "nothing": None}
    started = Case.objects.get(version__definition__key="alarm_started")
    assert started.data == {"alarm_level": 3, "doubled": 6, "nothing": None}
    # variables="all": every variable of the thrower.
    assert clear.data == {"level": 3, "secret": "s"}
    thrower.refresh_from_db()
    assert thrower.status == "completed"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_spiffarena_payload_goes_to_the_catchers_variable(users):
    deploy(BPMN_DIR / "signal_spiff_payload.bpmn", users["analyst"])
    watcher, _ = case_start(user=users["requester"], key="price_watcher", data={})
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case_start(
            user=users["requester"], key="price_setter", data={"sku": "A1", "price": 5}
        )

        def caught():
            watcher.refresh_from_db()
            return watcher.active_elements == ["w_check"]

        assert _wait_for(caught)
    assert watcher.data == {"new_price": {"sku": "A1", "price": 10}}


@pytest.mark.django_db
def test_api_signal_data_become_variables_of_the_catching_case(users):
    deploy(BPMN_DIR / "signal_payload.bpmn", users["analyst"])
    listener, _ = case_start(user=users["requester"], key="alarm_listener", data={})
    answer = api_for(users["padmin"]).post(
        "/api/v1/signals/", {"name": "alarm", "data": {"level": 9}}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["delivered"] == [str(listener.pk)]
    listener.refresh_from_db()
    assert listener.data == {"level": 9}
    started = Case.objects.get(pk=answer.json()["started"][0])
    assert started.data == {"level": 9}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "element", "why"),
    [
        (
            '<camunda:in variables="all" />',
            '<camunda:in variables="all" local="true" />',
            "end_clear",
            "local",
        ),
        (
            '<camunda:in variables="all" />',
            '<camunda:in businessKey="${key}" />',
            "end_clear",
            "business key",
        ),
        (
            '<camunda:in variables="all" />',
            '<camunda:in source="level" />',
            "end_clear",
            "target",
        ),
        (
            '<bpmn:signalEventDefinition id="SigDef_alarm_in" '
            'signalRef="Signal_alarm" />',
            '<bpmn:signalEventDefinition id="SigDef_alarm_in" '
            'signalRef="Signal_alarm">'
            '<bpmn:extensionElements><camunda:in variables="all" />'
            "</bpmn:extensionElements></bpmn:signalEventDefinition>",
            "hear_alarm",
            "only a signal throw event",
        ),
    ],
)
def test_signal_mappings_that_cannot_run_are_refused_located(
    users, tmp_path, old, new, element, why
):
    assert old in THROWER
    path = tmp_path / "signal_payload.bpmn"
    path.write_text(THROWER.replace(old, new))
    with pytest.raises(BpmnInvalid) as refused:
        deploy(path, users["analyst"])
    problems = [
        p for p in refused.value.details["errors"] if p["element_id"] == element
    ]
    assert problems and problems[0]["line"], refused.value.details
    assert why in problems[0]["message"]
