"""End listeners of a called process that its caller can cancel, across files.

Camunda 7 cancels a call activity (here: an interrupting timer boundary event on
it) by deleting the called instance without skipping custom listeners
(PvmExecutionImpl.deleteCascade; ExecutionListenerTest), so the end listener of
the called process's waiting user task runs then. Laneway runs a translated end
listener only when its task completes, so such a pair is refused at upload,
whichever file comes second, located where the fix belongs.
"""

from pathlib import Path

import pytest

from processes.errors import BpmnInvalid
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

END_LISTENER = (
    '<bpmn:extensionElements><camunda:executionListener event="end" '
    "expression=\"${execution.setVariable('reviewed', true)}\" />"
    "</bpmn:extensionElements>"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.bpmn"
    path.write_text(text)
    return path


def _child(tmp_path: Path, listener: bool) -> Path:
    text = (BPMN_DIR / "called_end_child.bpmn").read_text()
    return _write(
        tmp_path, "child", text.replace("LISTENER", END_LISTENER if listener else "")
    )


def _caller(tmp_path: Path, interrupting: bool) -> Path:
    text = (BPMN_DIR / "called_end_caller.bpmn").read_text()
    cancel = "true" if interrupting else "false"
    return _write(tmp_path, "caller", text.replace("CANCEL", cancel))


def _problems(refused: pytest.ExceptionInfo) -> dict[str, str]:
    return {p["element_id"]: p["message"] for p in refused.value.details["errors"]}


@pytest.mark.parametrize(
    ("second", "element", "says"),
    [
        # The child is deployed: the caller's call activity is refused.
        ("caller", "Cp_Call", "userTask 'Cc_Review' (Review) has an end listener"),
        # The caller is deployed (with a child v1 without listener): the
        # child's next version is refused at its task.
        ("child", "Cc_Review", "callActivity 'Cp_Call' (Review) of 'caller.bpmn'"),
    ],
)
def test_an_end_listener_a_cancellable_call_would_skip_is_refused(
    users, tmp_path, second, element, says
):
    if second == "caller":
        deploy(_child(tmp_path, listener=True), users["analyst"])
        last = _caller(tmp_path, interrupting=True)
    else:
        deploy(_child(tmp_path, listener=False), users["analyst"])
        deploy(_caller(tmp_path, interrupting=True), users["analyst"])
        last = _child(tmp_path, listener=True)
    with pytest.raises(BpmnInvalid) as refused:
        deploy(last, users["analyst"])
    message = _problems(refused)[element]
    assert says in message
    assert "the interrupting boundary event 'Cp_Timeout'" in message


def test_a_call_nothing_can_cancel_runs_the_called_end_listener(users, tmp_path):
    """A non-interrupting timer leaves the call running: the listener runs when
    the task completes, as in Camunda 7."""
    deploy(_child(tmp_path, listener=True), users["analyst"])
    deploy(_caller(tmp_path, interrupting=False), users["analyst"])
    deploy(_child(tmp_path, listener=True), users["analyst"])  # a next version


def test_a_cancellable_call_of_a_process_calling_one_with_an_end_listener_is_refused(
    users, tmp_path
):
    """Camunda 7 deletes the called instance's own called instances with it
    (deleteCascade), so the grandchild's end listener runs too."""
    deploy(_child(tmp_path, listener=True), users["analyst"])
    deploy(BPMN_DIR / "called_end_middle.bpmn", users["analyst"])
    caller = _caller(tmp_path, interrupting=True)
    caller.write_text(
        caller.read_text().replace(
            'calledElement="ce_child"', 'calledElement="ce_middle"'
        )
    )
    with pytest.raises(BpmnInvalid) as refused:
        deploy(caller, users["analyst"])
    message = _problems(refused)["Cp_Call"]
    assert "calls the process 'ce_middle', which calls 'ce_child'" in message
    assert "userTask 'Cc_Review' (Review) has an end listener" in message
