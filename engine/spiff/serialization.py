"""Case state <-> JSON, without the spec (the parsed spec is cached per version).

Loading always builds the workflow with Laneway's restricted script engine:
SpiffWorkflow's own converter would create a default, unrestricted engine first.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import CallActivity
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition

from .call_data import MappedCallActivity
from .errors import StateCorrupt
from .events import scoped_events
from .scripting import script_engine
from .service_tasks import AsyncServiceTask
from .signal_payloads import MappedSignalEventDefinition
from .variables import variables_adopt

STATE_FORMAT = "laneway-1"


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow without its specs; restore it onto cached spec objects."""

    def to_dict(self, workflow: Any) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict, spec: Any = None, subprocess_specs: Any = None
    ) -> Any:
        workflow = self.target_class(
            spec, subprocess_specs, script_engine=script_engine(), deserializing=True
        )
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        variables_adopt(workflow)  # a case saved before the shared variables
        return scoped_events(workflow)


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[AsyncServiceTask] = ServiceTaskConverter
    config[MappedCallActivity] = config[CallActivity]
    # an event-based gateway keeps the signal it caught (internal_data seen_events)
    config[MappedSignalEventDefinition] = config[SignalEventDefinition]
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _serializer()


def new_workflow(spec: Any, subprocess_specs: Any) -> Any:
    """Create a workflow with the restricted engine attached from the start."""
    return scoped_events(
        BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())
    )


def state_dump(workflow: Any) -> dict:
    """Return the workflow's state as a JSON-ready dict (no spec)."""
    dct = _SERIALIZER.to_dict(workflow)
    dct["serializer_version"] = _SERIALIZER.VERSION
    dct["format"] = STATE_FORMAT
    return dct


def state_load(state: dict, spec: Any, subprocess_specs: Any) -> Any:
    """Rebuild a workflow from `state_dump` output onto cached specs.

    Raises:
        StateCorrupt: when the state cannot be restored.
    """
    if state.get("format") != STATE_FORMAT:
        raise StateCorrupt(f"unknown case state format {state.get('format')!r}")
    dct = {k: v for k, v in state.items() if k not in ("serializer_version", "format")}
    try:
        return _SERIALIZER.from_dict(
            _deep_copy(dct), spec=spec, subprocess_specs=subprocess_specs
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise StateCorrupt(f"case state cannot be loaded: {exc}") from exc


def _deep_copy(value: Any) -> Any:
    # from_dict pops keys from the nested dicts; never mutate the caller's state.
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
