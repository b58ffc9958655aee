"""The adapter's call of another file's process, without a database of versions.

engine.spiff resolves the version a call activity runs when it starts, through
the host's hooks (`calls_configured` here); a call that would call a process
already on the calling stack (a call cycle across files: the upload refuses
those, so only a change of deployments behind its back gets here) fails the
call activity, never recursing silently.
"""

from pathlib import Path

from engine.spiff import (
    CalledProcess,
    CallNotResolved,
    calls_configured,
    processes_compile,
    workflow_complete_user_task,
    workflow_start,
)

FILES = Path(__file__).parents[1] / "processes" / "call_latest"


def _compiled(xml: bytes, key: str):
    return next(p for p in processes_compile(xml, validate=False) if p.key == key)


def test_a_call_cycle_across_files_fails_the_call_activity():
    parent = _compiled((FILES / "parent.bpmn").read_bytes(), "parent")
    child_xml = (FILES / "child_v1.bpmn").read_text()
    start = child_xml.index('<bpmn:scriptTask id="mark"')
    end = child_xml.index("</bpmn:scriptTask>") + len("</bpmn:scriptTask>")
    calls_back = (
        child_xml[:start]
        + '<bpmn:callActivity id="mark" calledElement="parent" />'
        + child_xml[end:]
    )
    child = _compiled(calls_back.encode(), "review_child")
    deployed = {"parent": parent, "review_child": child}

    def resolve(key: str, version: int | None, tag: str | None) -> CalledProcess:
        if key not in deployed:
            raise CallNotResolved(f"no process '{key}' is deployed")
        return CalledProcess(deployed[key], {"key": key, "version": 1})

    with calls_configured(resolve=resolve, load=lambda ref: deployed[ref["key"]]):
        outcome = workflow_start(parent, data={})
        [task] = outcome.ready_user_tasks
        assert (task.bpmn_id, task.called) == (
            "review",
            {"key": "review_child", "version": 1},
        )
        outcome = workflow_complete_user_task(
            parent, outcome.state, task_id=task.task_id, data={}
        )
    assert outcome.failure is not None
    assert outcome.failure.bpmn_id == "mark"
    assert (
        "a call cycle across files (parent → review_child → parent)"
        in outcome.failure.message
    )
    assert outcome.called_versions == ()
