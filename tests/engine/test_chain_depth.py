"""Long chains are refused at upload, never half-run (issue 14, item 6).

SpiffWorkflow predicts a case's whole future, one tree level per element: chains of
418-464 tasks deployed and then stopped every case with TreeTooDeep, longer ones were
refused with a raw RecursionError. The longest path is now computed from the graph
at upload and refused with the element where it passes the engine's depth limit.
"""

import pytest

from engine.spiff import BpmnParseError, processes_compile, workflow_start

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def chain(length: int, *, loop: bool = False) -> bytes:
    """A process of `length` user tasks in a row (a rework loop back to the first)."""
    tasks = [
        f'<bpmn:userTask id="t{i}" camunda:candidateGroups="Staff"/>'
        for i in range(length)
    ]
    ids = ["start", *(f"t{i}" for i in range(length)), "end"]
    flows = [
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]
    if loop:
        flows.append(
            f'<bpmn:sequenceFlow id="back" sourceRef="t{length - 1}" targetRef="t0"/>'
        )
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:camunda="{CAMUNDA}" id="d" targetNamespace="http://laneway.example">'
        '<bpmn:process id="chain" isExecutable="true"><bpmn:startEvent id="start"/>'
        + "".join(tasks)
        + '<bpmn:endEvent id="end"/>'
        + "".join(flows)
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_a_chain_within_the_depth_limit_runs():
    process = processes_compile(chain(380))[0]
    outcome = workflow_start(process, data={})
    assert outcome.failure is None
    assert [t.bpmn_id for t in outcome.ready_user_tasks] == ["t0"]


@pytest.mark.parametrize(
    "length", [420, 464, 600, 2400]
)  # 2,400: under the element cap
def test_a_chain_past_the_depth_limit_is_refused_at_upload_where_it_passes(length):
    with pytest.raises(BpmnParseError) as exc:
        processes_compile(chain(length))
    (problem,) = exc.value.problems
    assert problem.element_id == "t393"  # the 395th element, counting the start
    assert f"path of {length + 2} elements" in problem.message
    assert "Recursion" not in problem.message


def test_a_loop_counts_each_of_its_elements_once():
    assert processes_compile(chain(380, loop=True))
    with pytest.raises(BpmnParseError):
        processes_compile(chain(420, loop=True))


def test_past_the_parsers_recursion_the_reason_is_clear(settings):
    settings.ENGINE_MAX_TREE_DEPTH = 100_000  # the graph check lets it through
    with pytest.raises(BpmnParseError) as exc:
        processes_compile(chain(2400))  # 4,803 elements: under the element cap
    messages = [p.message for p in exc.value.problems]
    assert messages == [
        "The diagram is nested or chained too deeply for the engine to read."
    ]
