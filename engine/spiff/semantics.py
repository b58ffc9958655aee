"""Laneway's corrections to SpiffWorkflow's task specs, applied once per parse.

Parsed specs are cached per process version and never serialized with a case,
so swapping a spec's class here (for a subclass without extra attributes) and
connecting its event handlers holds in every process that runs the version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess

from . import (
    compensation,
    conditional_events,
    event_names,
    gateways,
    io_mapping,
    joins,
    multi_instance,
    people,
    receive_waits,
    task_names,
    variables,
)
from .cancel_listeners import interrupt_first
from .timers import adapt_cycle_timers
from .xml import NSMAP, vendor_attr

_CLASSES = {
    **joins.REPLACEMENTS,
    **multi_instance.REPLACEMENTS,
    **gateways.REPLACEMENTS,
}


def adapt_specs(
    spec: Any, subprocess_specs: Any, camunda_collections: frozenset[str] = frozenset()
) -> None:
    """Correct the task specs of a process and of everything it may run.

    Every spec publishes its completed task's variables (`variables.py`) before
    any other completion handler runs (a multi-instance merge reads them).
    `camunda_collections` are the ids of the multi-instance activities whose
    collection is a camunda:collection (a list only, as in Camunda 7).
    """
    process_specs = (spec, *subprocess_specs.values())
    for process_spec in process_specs:
        for task_spec in process_spec.task_specs.values():
            io_mapping.connect(task_spec)  # its outputs are set before publishing
            people.connect(task_spec)  # after its inputs and pre-script
            task_names.connect(task_spec)  # after its inputs and pre-script
            event = task_spec.completed_event
            if not event.is_connected(variables.on_complete):
                event.connect(variables.on_complete)
            ready = task_spec.ready_event
            if getattr(task_spec, "prescript", None) and not ready.is_connected(
                variables.on_ready
            ):
                ready.connect(variables.on_ready)
    esp_specs = {
        task_spec.spec
        for process_spec in process_specs
        for task_spec in process_spec.task_specs.values()
        if isinstance(task_spec, EventSubprocess)
    }
    for process_spec in process_specs:
        in_esp = process_spec.name in esp_specs
        for task_spec in process_spec.task_specs.values():
            replacement = _CLASSES.get(type(task_spec))
            if replacement is not None:
                task_spec.__class__ = replacement
            if task_spec.bpmn_id in camunda_collections:
                strict = multi_instance.CAMUNDA_REPLACEMENTS.get(type(task_spec))
                task_spec.__class__ = strict or task_spec.__class__
            multi_instance.connect_merge(task_spec)
            multi_instance.name_element_variable(task_spec)
            compensation.connect(task_spec)
            adapt_cycle_timers(task_spec, event_subprocess=in_esp)
            conditional_events.adapt(task_spec)
            event_names.adapt(task_spec)
            receive_waits.adapt(task_spec)
            interrupt_first(task_spec)


def camunda_collections(roots: Iterable[etree._Element]) -> frozenset[str]:
    """The ids of the multi-instance activities drawn with a camunda:collection."""
    return frozenset(
        str(loop.getparent().get("id"))
        for root in roots
        for loop in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics", NSMAP)
        if vendor_attr(loop, "collection")
    )
