"""Validate an uploaded BPMN file and build runnable process specs from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from . import candidates
from .errors import BpmnParseError
from .limits import upload_problems
from .metadata import process_meta
from .scripting import check_expression, check_script
from .service_tasks import LanewayParser
from .metadata import all_human_tasks
from .types import HumanTaskMeta, ParsedProcess, Problem
from .xml import BPMN, DMN_NAMESPACES, NSMAP, XmlRejected, local_name, parse_xml


@dataclass(frozen=True, slots=True)
class CompiledProcess:
    """A parsed, runnable process (opaque outside the adapter)."""

    key: str
    meta: ParsedProcess
    spec: object
    subprocess_specs: object
    task_meta: Mapping[str, HumanTaskMeta]


def _line_of(root: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _xsd_problems(root: etree._Element) -> list[Problem]:
    schema = VALIDATOR.validator
    VALIDATOR.preprocess(root)
    if schema.validate(root):
        return []
    return [
        Problem(f"Schema: {e.message}", e.line or None, None)
        for e in schema.error_log  # type: ignore[attr-defined]
    ]


def _read_root(data: bytes) -> etree._Element:
    root = parse_xml(data)
    if root.tag != f"{{{BPMN}}}definitions":
        raise XmlRejected(
            Problem(
                f"Not a BPMN 2.0 file: the root element is <{local_name(root)}>, "
                "expected <bpmn:definitions>.",
                root.sourceline,
            )
        )
    return root


def _dmn_roots(dmn_files: Sequence[tuple[str, bytes]]) -> list[tuple[str, etree._Element]]:
    roots = []
    for name, data in dmn_files:
        try:
            root = parse_xml(data, what="DMN")
        except XmlRejected as exc:
            raise BpmnParseError([Problem(f"{name}: {exc.problem.message}", exc.problem.line)])
        if etree.QName(root).namespace not in DMN_NAMESPACES:
            raise BpmnParseError([Problem(f"{name}: not a DMN file.", root.sourceline)])
        roots.append((name, root))
    return roots


def _build_parser(
    root: etree._Element, filename: str, dmn: list[tuple[str, etree._Element]]
) -> LanewayParser:
    parser = LanewayParser()
    parser.add_bpmn_xml(root, filename=filename)
    for name, dmn_root in dmn:
        parser.add_dmn_xml(dmn_root, filename=name)
    return parser


def _spiff_problem(root: etree._Element, exc: Exception) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or _line_of(root, element_id)
    message = str(exc).split("\n")[0] if isinstance(exc, ValidationException) else str(exc)
    return Problem(message, int(line) if line else None, element_id)


def _expression_problems(root: etree._Element) -> Iterable[Problem]:
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP):
        cond = flow.find("bpmn:conditionExpression", NSMAP)
        if cond is not None and (cond.text or "").strip():
            why = check_expression(cond.text)
            if why:
                yield Problem(
                    f"Condition of flow '{flow.get('id')}' ({cond.text.strip()!r}): {why}",
                    cond.sourceline,
                    flow.get("id"),
                )
    for task in root.iterfind(".//bpmn:scriptTask", NSMAP):
        script = task.find("bpmn:script", NSMAP)
        if script is not None and (script.text or "").strip():
            why = check_script(script.text)
            if why:
                yield Problem(
                    f"Script of task '{task.get('id')}': {why}", script.sourceline, task.get("id")
                )


def _candidate_problems(root: etree._Element, metas: Iterable[ParsedProcess]) -> Iterable[Problem]:
    for meta in metas:
        for task in meta.human_tasks:
            if not candidates.has_candidates(task):
                yield Problem(
                    f"User task '{task.name}' has no candidates: put it in a lane or set "
                    "assignee, candidateUsers or candidateGroups.",
                    _line_of(root, task.bpmn_id),
                    task.bpmn_id,
                )


def _compile_all(
    parser: LanewayParser, root: etree._Element, problems: list[Problem]
) -> list[CompiledProcess]:
    compiled = []
    process_elements = {p.get("id"): p for p in root.iterfind("bpmn:process", NSMAP)}
    task_meta = all_human_tasks(root)
    for key in parser.get_process_ids():
        try:
            spec = parser.get_spec(key)
            subs = parser.get_subprocess_specs(key)
        except (SpiffWorkflowException, ValueError, KeyError, AttributeError) as exc:
            problems.append(_spiff_problem(root, exc))
            continue
        meta = process_meta(process_elements[key])
        compiled.append(CompiledProcess(key, meta, spec, subs, task_meta))
    return compiled


def compile_bundle(
    bpmn: bytes,
    *,
    filename: str = "diagram.bpmn",
    dmn_files: Sequence[tuple[str, bytes]] = (),
    validate: bool = True,
) -> list[CompiledProcess]:
    """Validate a BPMN file (+ DMN files) and return every executable process in it.

    Raises:
        BpmnParseError: with every problem found, each located where possible.
    """
    try:
        root = _read_root(bpmn)
    except XmlRejected as exc:
        raise BpmnParseError([exc.problem]) from None
    dmn = _dmn_roots(dmn_files)
    problems = _xsd_problems(root) if validate else []
    if problems:
        raise BpmnParseError(problems)
    try:
        parser = _build_parser(root, filename, dmn)
    except (SpiffWorkflowException, ValueError, KeyError) as exc:
        raise BpmnParseError([_spiff_problem(root, exc)]) from None
    compiled = _compile_all(parser, root, problems)
    if validate:
        problems.extend(_expression_problems(root))
        problems.extend(upload_problems(root, dmn))
        problems.extend(_candidate_problems(root, (c.meta for c in compiled)))
        if not compiled and not problems:
            problems.append(Problem("The file has no executable process (isExecutable=\"true\").", root.sourceline))
    if problems:
        raise BpmnParseError(problems)
    return compiled


def compile_process(
    bpmn: bytes, *, key: str, dmn_files: Sequence[tuple[str, bytes]] = ()
) -> CompiledProcess:
    """Build the runnable spec of one already-deployed process (no re-validation).

    Raises:
        BpmnParseError: when the stored XML no longer parses or lacks the process.
    """
    for process in compile_bundle(bpmn, dmn_files=dmn_files, validate=False):
        if process.key == key:
            return process
    raise BpmnParseError([Problem(f"Process '{key}' is not in the stored diagram.")])
