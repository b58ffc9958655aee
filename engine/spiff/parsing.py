"""Validate an uploaded BPMN file and build runnable process specs from it.

The pipeline (every stage reports all it finds, located by line and element id):
safe XML read → BPMN 2.0 XSD → normalization to Python/Spiff dialect
(`normalize.py`) → Laneway's own checks (`checks.py`) → SpiffWorkflow parse.
SpiffWorkflow's semantic errors carry no line number; it is recovered from the
element id through lxml's `sourceline`. Normalization works on the parsed tree
in place, so lines always refer to the uploaded file.

Call activities whose called process is not in the file are checked at upload
against *called documents*: the stored, normalized BPMN (and DMN) of
already-deployed versions, passed in as bytes (`extra_bpmn`, `extra_dmn`). They
join the same SpiffWorkflow parser; they are not re-validated, and only the
file's own processes are compiled. A compiled process holds no spec of another
file's process (`calls_outside` names them): a case resolves the version a call
runs when it starts (called.py). Choosing which versions to check against is
the caller's business (processes.services); versions deployed when calls were
bound at deploy are still compiled with theirs (engine.spec_cache).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from . import call_bindings, checks
from .cancel_listeners import end_listener_scripts, unkept_end_listeners
from .compiled import CompiledBundle, CompiledProcess
from .depth import depth_problems
from .dmn import dmn_problems
from .dmn import task_problems as decision_task_problems
from .errors import BpmnParseError
from .form_checks import form_ref_problems
from .formjs import form_files_read
from .hygiene import tidy
from .juel import is_juel
from .limits import size_problems, upload_problems
from .links import link_listener_problems
from .message_flows import outside_senders
from .metadata import all_human_tasks, process_meta, task_meta_once
from .normalize import normalize, serialize
from .ref_checks import ref_problems
from .semantics import adapt_specs, camunda_collections
from .service_tasks import LanewayParser
from .support import support_problems
from .timer_starts import timer_start_problems
from .types import HumanTaskMeta, Problem
from .xml import BPMN, DMN_NAMESPACES, NSMAP, XmlRejected, local_name, parse_xml

# Exceptions SpiffWorkflow's parser is known to leak besides its own (e.g. a
# TypeError from NodeParser.raise_validation_exception, NotImplementedError for
# unsupported catch events). They are translated into Problems at this edge.
_SPIFF_PARSE_ERRORS = (
    SpiffWorkflowException,
    ValueError,
    KeyError,
    AttributeError,
    TypeError,
    NotImplementedError,
    IndexError,
    etree.XPathError,
    RecursionError,  # a diagram nested too deeply for the parser (see depth.py)
)
# SpiffWorkflow errors that only repeat a problem checks.py reports better.
_REPEATED = (
    "has no implementation",
    "was not found. Did you mean",
    "No DMN Diagram available",
    "A Service Task must have an operator",
    "Cannot resolve data",
    "we found two items",  # a flow to nowhere (checks._flow_ends says so)
    # a receive task with boundary events after an event-based gateway
    # (support._event_gateway_problems says so)
    "'BoundaryEventSplit' object has no attribute 'event_definition'",
    # a loop or multi-instance receive task after one (the same check)
    "MultiInstanceTask' object has no attribute 'event_definition'",
    "LoopTask' object has no attribute 'event_definition'",
    # a loop or multi-instance event sub-process (support._event_subprocess_problems)
    "LoopTask' object has no attribute 'spec'",
    "MultiInstanceTask' object has no attribute 'spec'",
)


@dataclass(frozen=True, slots=True)
class _Called:
    """The called documents (deployed BPMN and DMN) a file runs against."""

    bpmn: tuple[tuple[str, etree._Element], ...] = ()
    dmn: tuple[tuple[str, etree._Element], ...] = ()

    def executable(self) -> frozenset[str]:
        return frozenset(
            str(p.get("id"))
            for _, root in self.bpmn
            for p in root.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP)
        )


_NOT_CALLING = _Called()


@contextmanager
def _callee_expressions_hidden(root: etree._Element) -> Iterator[None]:
    """Give each calledElement expression a QName while the schema looks.

    BPMN's XSD types calledElement as a QName; Camunda 7 (which does not
    validate against it) also takes an expression there, evaluated when the
    call activity is reached (called.py).
    """
    calls = [
        (call, call.get("calledElement", ""))
        for call in root.iterfind(".//bpmn:callActivity", NSMAP)
        if is_juel(call.get("calledElement", ""))
    ]
    for call, _ in calls:
        call.set("calledElement", "computed_callee")
    try:
        yield
    finally:
        for call, called in calls:
            call.set("calledElement", called)


def _xsd_problems(root: etree._Element) -> list[Problem]:
    schema = VALIDATOR.validator
    VALIDATOR.preprocess(root)
    with _callee_expressions_hidden(root):
        valid = schema.validate(root)
    if valid:
        return []
    return [
        Problem(f"Schema: {e.message}", e.line or None, None) for e in schema.error_log
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


def _dmn_roots(
    dmn_files: Sequence[tuple[str, bytes]], problems: list[Problem]
) -> list[tuple[str, etree._Element]]:
    roots = []
    for name, data in dmn_files:
        try:
            root = parse_xml(data, what="DMN")
        except XmlRejected as exc:
            problems.append(Problem(f"{name}: {exc.problem.message}", exc.problem.line))
            continue
        if etree.QName(root).namespace not in DMN_NAMESPACES:
            problems.append(Problem(f"{name}: not a DMN 1.x file.", root.sourceline))
            continue
        roots.append((name, root))
    return roots


def _spiff_problem(root: etree._Element, exc: Exception) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or checks.line_of(root, element_id)
    message = (
        str(exc).split("\n")[0] if isinstance(exc, ValidationException) else str(exc)
    )
    if isinstance(exc, RecursionError) or "maximum recursion depth" in message:
        # SpiffWorkflow wraps it into a ValidationException with the repr as text.
        message = "The diagram is nested or chained too deeply for the engine to read."
    return Problem(
        message.strip() or type(exc).__name__, int(line) if line else None, element_id
    )


def _read_called(
    extra_bpmn: Sequence[tuple[str, bytes]],
    extra_dmn: Sequence[tuple[str, bytes]],
    problems: list[Problem],
) -> _Called:
    bpmn = []
    for name, data in extra_bpmn:
        try:
            root = _read_root(data)
        except XmlRejected as exc:
            problems.append(Problem(f"{name}: {exc.problem.message}"))
            continue
        normalize(root)  # stored XML is normalized already; this is idempotent
        bpmn.append((name, root))
    return _Called(tuple(bpmn), tuple(_dmn_roots(extra_dmn, problems)))


def _process_ids(root: etree._Element) -> list[str]:
    return [str(p.get("id")) for p in root.iterfind("bpmn:process", NSMAP)]


def _duplicate_processes(root: etree._Element, called: _Called) -> list[Problem]:
    """Report process ids defined twice among the file and its called documents.

    SpiffWorkflow keeps one process per id in a parser. A process of the file
    that is also in a called document means a call cycle across files (A calls
    B, whose deployed version calls an earlier A) or one process kept in two
    files; two called documents with the same process id mean two versions of it.
    """
    problems = []
    own = {p.get("id"): p for p in root.iterfind("bpmn:process", NSMAP)}
    seen: dict[str, str] = {}
    for name, called_root in called.bpmn:
        for key in _process_ids(called_root):
            if key in own:
                problems.append(
                    Problem(
                        f"The process '{key}' of this file is also in {name}, a "
                        "deployed document that the processes this file calls "
                        "call (directly or through their own call activities, "
                        "each at its latest deployed version or the version it "
                        "binds): a call cycle across files (A calls B, which calls "
                        "A) or one process in two files is not supported; put "
                        "these processes in one file.",
                        own[key].sourceline,
                        key,
                    )
                )
            elif key in seen and seen[key] != name:
                problems.append(
                    Problem(
                        f"The process '{key}' is in both {seen[key]} and {name}, which "
                        "the call activities of this file call (at their latest "
                        "deployed version or the version they bind): call these "
                        "processes from versions of one upload of their file."
                    )
                )
            seen.setdefault(key, name)
    return problems


def _duplicate_tasks(root: etree._Element, called: _Called) -> list[Problem]:
    """Report human tasks whose id is also a human task id of a called document.

    Human tasks get their lanes, candidates and forms from `task_meta`, keyed
    by element id: a shared id would give one task the other's candidates.
    """
    problems = []
    owner: dict[str, str] = {}
    for name, called_root in called.bpmn:
        for task_id in all_human_tasks(called_root):
            if task_id in owner and owner[task_id] != name:
                problems.append(
                    Problem(
                        f"The human task id '{task_id}' is in both {owner[task_id]} "
                        f"and {name}, which this file calls: rename one of them and "
                        "re-deploy it (tasks find their lanes and forms by id)."
                    )
                )
            owner.setdefault(task_id, name)
    if not owner:
        return problems  # no called document has a human task: nothing to clash
    for task_id in all_human_tasks(root):
        if task_id in owner:
            problems.append(
                Problem(
                    f"The human task '{task_id}' has the same id as a human task of "
                    f"{owner[task_id]}, which this file calls: rename it (tasks find "
                    "their lanes and forms by id).",
                    checks.line_of(root, task_id),
                    task_id,
                )
            )
    return problems


def _build_parser(
    root: etree._Element,
    filename: str,
    dmn: list[tuple[str, etree._Element]],
    called: _Called = _NOT_CALLING,
) -> LanewayParser:
    parser = LanewayParser()
    for name, dmn_root in (*called.dmn, *dmn):  # the file's own decisions win
        parser.add_dmn_xml(dmn_root, filename=name)
    for name, called_root in called.bpmn:
        parser.add_bpmn_xml(called_root, filename=name)
    parser.add_bpmn_xml(root, filename=filename)
    return parser


def _task_meta(root: etree._Element, called: _Called) -> dict[str, HumanTaskMeta]:
    """Human tasks by element id: the called documents', then the file's own."""
    found: dict[str, HumanTaskMeta] = {}
    for _, called_root in called.bpmn:
        found.update(all_human_tasks(called_root))
    found.update(all_human_tasks(root))
    return found


def _compile_all(
    parser: LanewayParser,
    root: etree._Element,
    problems: list[Problem],
    called: _Called = _NOT_CALLING,
    original: bytes | None = None,
) -> list[CompiledProcess]:
    compiled = []
    end_listeners = _end_listeners(root, called, original)
    process_elements = {p.get("id"): p for p in root.iterfind("bpmn:process", NSMAP)}
    task_meta = _task_meta(root, called)
    outside = outside_senders([*(r for _, r in called.bpmn), root])
    lists_only = camunda_collections([*(r for _, r in called.bpmn), root])
    # An expression's key is known at the call only: it may be another file's.
    calls_outside = frozenset(
        call_bindings.called_outside(root) | call_bindings.called_computed(root)
    )
    for key in parser.get_process_ids():
        if key not in process_elements:
            continue  # a called document's process: compiled with its own version
        try:
            spec = parser.get_spec(key)
            subs = {
                name: sub
                for name, sub in parser.get_subprocess_specs(
                    key, require_call_activity_specs=False
                ).items()
                if sub is not None
            }
        except _SPIFF_PARSE_ERRORS as exc:
            problems.append(_spiff_problem(root, exc))
            continue
        adapt_specs(spec, subs, lists_only)
        meta = process_meta(process_elements[key])
        compiled.append(
            CompiledProcess(
                key,
                meta,
                spec,
                subs,
                task_meta,
                outside,
                calls_outside,
                end_listeners,
            )
        )
    return compiled


def _end_listeners(
    root: etree._Element, called: _Called, original: bytes | None
) -> dict[str, str]:
    """The end listeners' lines by element id (cancel_listeners.py): the called
    documents', then the file's own. A version stored before they were kept
    has them read again from its original XML, translated as at its upload."""
    roots = [*(r for _, r in called.bpmn), root]
    found = end_listener_scripts(roots)
    if original is not None and unkept_end_listeners(root):
        try:
            again = _read_root(original)
        except XmlRejected:
            return found
        tidy(again)
        normalize(again)
        found = {**end_listener_scripts([again]), **found}
    return found


def _spiff_compile(
    root: etree._Element,
    filename: str,
    dmn: list[tuple[str, etree._Element]],
    problems: list[Problem],
    called: _Called = _NOT_CALLING,
    original: bytes | None = None,
) -> list[CompiledProcess]:
    duplicates = _duplicate_processes(root, called) or _duplicate_tasks(root, called)
    if duplicates:
        problems.extend(duplicates)
        return []
    try:
        parser = _build_parser(root, filename, dmn, called)
    except _SPIFF_PARSE_ERRORS as exc:
        problems.append(_spiff_problem(root, exc))
        return []
    return _compile_all(parser, root, problems, called, original)


def _without_repeats(ours: list[Problem], spiff: list[Problem]) -> list[Problem]:
    seen = {p.element_id for p in ours if p.element_id}
    return [
        p
        for p in spiff
        if not (p.element_id and p.element_id in seen)
        and not (ours and any(text in p.message for text in _REPEATED))
    ]


def _own_checks(
    root: etree._Element,
    dmn: list[tuple[str, etree._Element]],
    known_operations: Collection[str],
    translated: list[Problem],
    deployed_processes: Collection[str] = (),
) -> list[Problem]:
    found = checks.structure_problems(root)
    found += support_problems(root)
    found += checks.reference_problems(
        root,
        known_operations=known_operations,
        decision_ids=checks.decision_ids([r for _, r in dmn]),
        deployed_processes=deployed_processes,
    )
    skip = {p.element_id for p in translated}
    found += checks.expression_problems(root, skip=skip)
    found += dmn_problems(dmn)
    found += decision_task_problems(root)
    found += timer_start_problems(root)
    found += ref_problems(root)
    if not root.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP):
        found.append(
            Problem(
                "The file has no executable process: tick 'Executable' on the process "
                '(isExecutable="true").',
                root.sourceline,
            )
        )
    return found


def _ordered(problems: Iterable[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0))


def _read_inputs(
    bpmn: bytes,
    dmn_files: Sequence[tuple[str, bytes]],
    extra_bpmn: Sequence[tuple[str, bytes]],
    extra_dmn: Sequence[tuple[str, bytes]],
) -> tuple[etree._Element, list[Problem], list[tuple[str, etree._Element]], Any]:
    """Read the file, its DMN files and the called documents; collect their problems."""
    try:
        root = _read_root(bpmn)
    except XmlRejected as exc:
        raise BpmnParseError([exc.problem]) from None
    problems: list[Problem] = []
    dmn = _dmn_roots(dmn_files, problems)
    called = _read_called(extra_bpmn, extra_dmn, problems)
    return root, problems, dmn, called


def bundle_compile(
    bpmn: bytes,
    *,
    filename: str = "diagram.bpmn",
    dmn_files: Sequence[tuple[str, bytes]] = (),
    known_operations: Collection[str],
    extra_bpmn: Sequence[tuple[str, bytes]] = (),
    extra_dmn: Sequence[tuple[str, bytes]] = (),
    form_files: Sequence[tuple[str, bytes]] = (),
) -> CompiledBundle:
    """Validate and normalize a BPMN file (+ DMN files); return its processes and XML.

    `known_operations` are the registered service-task operation names; a
    service task naming any other operation is a problem.

    `extra_bpmn` / `extra_dmn` are the called documents as (name, bytes): the
    normalized XML (and DMN files) of deployed versions whose executable
    processes the file's call activities may call. The name (e.g.
    "review.bpmn (review v2)") labels them in problems. They are parsed with
    the file but neither re-validated nor returned.

    `form_files` are the Camunda Forms (.form, form-js JSON) uploaded with the
    file; each user task's camunda:formRef / camunda-forms: formKey must name
    one, and each must hold only what the server can check (formjs.py).

    Raises:
        BpmnParseError: with every problem found, each located where possible.
    """
    root, problems, dmn, called = _read_inputs(bpmn, dmn_files, extra_bpmn, extra_dmn)
    if too_large := size_problems(root):  # before any work that grows with it
        raise BpmnParseError(too_large)
    forms, form_problems = form_files_read(form_files)
    schema = _xsd_problems(root)
    link_listeners = link_listener_problems(root)  # before tidy translates them
    tidy(root)
    translated = normalize(root)
    with task_meta_once():  # the tree is final: read each human task once
        too_deep = depth_problems(root)  # SpiffWorkflow's parser would recurse past it
        ours = [
            *problems,
            *schema,
            *link_listeners,
            *translated,
            *_own_checks(root, dmn, known_operations, translated, called.executable()),
            *checks.call_start_problems(root, [r for _, r in called.bpmn]),
            *upload_problems(root, dmn),
            *form_problems,
            *form_ref_problems(root, forms),
            *too_deep,
        ]
        spiff: list[Problem] = []
        compiled = (
            []
            if schema or too_deep
            else _spiff_compile(root, filename, dmn, spiff, called)
        )
        problems = _ordered([*ours, *_without_repeats(ours, spiff)])
        if problems:
            raise BpmnParseError(problems)
        warnings = [
            *checks.unrouted_tasks(root),
            *checks.external_tasks(root, known_operations),
            *checks.form_files(root, forms),
        ]
    return CompiledBundle(tuple(compiled), serialize(root), tuple(warnings))


def processes_compile(
    bpmn: bytes,
    *,
    filename: str = "diagram.bpmn",
    dmn_files: Sequence[tuple[str, bytes]] = (),
    validate: bool = True,
    known_operations: Collection[str] = frozenset(),
    extra_bpmn: Sequence[tuple[str, bytes]] = (),
    extra_dmn: Sequence[tuple[str, bytes]] = (),
    original: bytes | None = None,
) -> list[CompiledProcess]:
    """Return every executable process in a BPMN file (+ DMN files).

    With `validate`, run every upload check (`bundle_compile`); an empty
    `known_operations` means no operation is registered, so any service task is
    a problem. Without it, only normalize and parse (for stored, checked XML).
    `extra_bpmn` / `extra_dmn` are the called documents (see `bundle_compile`).
    `original` is the XML as uploaded, of a stored version (see `_end_listeners`).

    Raises:
        BpmnParseError: with every problem found, each located where possible.
    """
    if validate:
        bundle = bundle_compile(
            bpmn,
            filename=filename,
            dmn_files=dmn_files,
            known_operations=known_operations,
            extra_bpmn=extra_bpmn,
            extra_dmn=extra_dmn,
        )
        return list(bundle.processes)
    root, problems, dmn, called = _read_inputs(bpmn, dmn_files, extra_bpmn, extra_dmn)
    normalize(root)
    with task_meta_once():
        compiled = _spiff_compile(root, filename, dmn, problems, called, original)
    if problems:
        raise BpmnParseError(problems)
    return compiled


def compile_process(
    bpmn: bytes,
    *,
    key: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    extra_bpmn: Sequence[tuple[str, bytes]] = (),
    extra_dmn: Sequence[tuple[str, bytes]] = (),
    original: bytes | None = None,
) -> CompiledProcess:
    """Build the runnable spec of one already-deployed process (no re-validation).

    `extra_bpmn` / `extra_dmn` are the called documents a version deployed
    when calls were bound at deploy was bound to (see `bundle_compile`): a
    child started then still loads onto them, and their human tasks are in
    `task_meta` too. Other versions pass none (called.py).

    Raises:
        BpmnParseError: when the stored XML no longer parses or lacks the process.
    """
    for process in processes_compile(
        bpmn,
        dmn_files=dmn_files,
        validate=False,
        extra_bpmn=extra_bpmn,
        extra_dmn=extra_dmn,
        original=original,
    ):
        if process.key == key:
            return process
    raise BpmnParseError([Problem(f"Process '{key}' is not in the stored diagram.")])


def called_elements(bpmn: bytes) -> list[str]:
    """Return the processes a diagram's call activities call outside it (best effort).

    These are the `calledElement` ids that are not an executable process of the
    file itself; the caller looks them up among deployed versions.
    """
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return []
    return sorted(call_bindings.called_outside(root))


def executable_keys(bpmn: bytes) -> list[str]:
    """Return the ids of a diagram's executable processes (best effort)."""
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return []
    return sorted(
        str(p.get("id"))
        for p in root.xpath("bpmn:process[@isExecutable='true']", namespaces=NSMAP)
    )


def called_versions(bpmn: bytes) -> dict[str, int]:
    """Return the version number each call with binding="version" binds.

    Best effort, like `called_elements`: a call whose calledElementVersion is
    not a number is reported by the upload checks.
    """
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return {}
    return {
        key: int(number)
        for key, number in call_bindings.pinned_versions(root).items()
        if number.isdigit()
    }


def call_site(bpmn: bytes, key: str) -> tuple[int | None, str | None]:
    """Return the line and id of the first call activity calling `key` (best effort)."""
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return None, None
    for call in root.iterfind(".//bpmn:callActivity", NSMAP):
        if (call.get("calledElement") or "").strip() == key:
            return call.sourceline, call.get("id")
    return None, None


def called_version_tags(bpmn: bytes) -> dict[str, str]:
    """Return the version tag each call with binding="versionTag" binds (best
    effort, like `called_versions`)."""
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return {}
    return {
        key: tag
        for key, tag in call_bindings.pinned_tags(root).items()
        if tag and not is_juel(tag)  # refused by the upload checks
    }


def service_operations(bpmn: bytes) -> list[str]:
    """Return the operation names the service tasks of a diagram call (best effort)."""
    try:
        root = _read_root(bpmn)
    except XmlRejected:
        return []
    tidy(root)  # Flowable/Activiti attributes name operations too
    normalize(root)
    names = root.xpath("//spiffworkflow:serviceTaskOperator/@id", namespaces=NSMAP)
    return sorted({str(n) for n in names})
