"""Every public corpus diagram deploys or is rejected with located problems.

Each BPMN file goes through `processes.services.version_upload` on PostgreSQL with
the DMN files of its folder that define a decision it references. The operation
registry is set to the operations the file names (as an integrator who registered
them would, all pointing at `tests.operations.corpus_operation`), so a rejection is
about the diagram, not the registry. Deployed human-approval diagrams are then driven
through `engine.services.case_start` and `tasks_app.services.task_complete` with
plausible data; after each step the case's pending service calls run synchronously
through `service_call_begin` / `service_call_execute` / `service_call_apply` (what the
Celery task `service_call_run_task` does), until the case completes, stops at an
incident or waits for something outside a test (a timer, a message).

A call activity whose called process lives in another corpus file binds to the
deployed version of that process, so each file's callees (the corpus files that
define the processes it calls outside itself, and theirs, callees first) are
deployed before it in the same test; each test is rolled back, so this is the
per-file form of "deploy the callees first".

`CORPUS_REPORT=docs/corpus-report.md pytest tests/processes/test_corpus.py`
(or `scripts/corpus_report.py`) also writes the counts to that file.
"""

import ast
import functools
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from lxml import etree

from audit.models import AuditEvent
from engine.errors import EngineError
from engine.models import Case, ServiceCall
from engine.services import (
    case_start,
    service_call_apply,
    service_call_begin,
    service_call_execute,
)
from engine.spiff import called_elements, service_operations
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.errors import TaskError
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
# Diagrams raw SpiffWorkflow 3.2 runs wrongly without an error (corpus INDEX) that
# must be rejected. The flowable-sveltekit files (sequence flows without an id) used
# to be here: their flows now get ids (engine/spiff/hygiene.py), which
# `_assert_no_silent_trap` checks in the normalized XML of every deployed file.
SILENT_TRAPS: dict[str, str] = {}
# Routes checked step by step: the human tasks completed and the service calls run
# ("bpmn_id [operation]"), in order.
EXPECTED_ROUTES = {
    "camunda/reviewInvoice.bpmn": ["assignReviewer", "reviewInvoice"],
    "camunda/loanApproval_embedded-forms.bpmn": ["UserTask_1"],
    "spiff/arena-lanes.bpmn": ["initiator_one", "finance_approval", "initiator_two"],
    "spiff/Testing_Lanes.bpmn": ["Activity_1juhlgx", "Activity_0dujxh3"],
    # JUEL `#{approved}` evaluated at run time: the approved branch tweets, then ends.
    "camunda/TwitterDemoProcess.bpmn": [
        "user_task_review_tweet",
        "service_task_publish_on_twitter [tweetAdapter]",
    ],
    # Service call, human review, then the decision mail on the approved branch.
    "operaton/integration-mail--job-application.bpmn": [
        "Task_SendConfirmation [sendConfirmationEmailDelegate]",
        "Task_ReviewApplication",
        "Task_SendDecision [sendDecisionEmailDelegate]",
    ],
    # Inclusive split on claimType == 'medical': one review, the join, the settlement.
    "operaton/inclusive-gateway--insurance-claim.bpmn": [
        "Task_ReviewMedical",
        "ServiceTask_SettleClaim [settleClaimDelegate]",
    ],
    # A call activity to the process of another corpus file, deployed first: the
    # callee's service calls run inside the caller's case, then the caller's mail.
    "camunda/camunda-testing-job-announcement.bpmn": [
        "edit",
        "review",
        "publish",
        "publish_announcement_website [jobAnnouncementService.postToWebsite"
        "(jobAnnouncementId)]",
        "publish_announcement_twitter [jobAnnouncementService.postToTwitter"
        "(jobAnnouncementId)]",
        "publish_announcement_facebook [jobAnnouncementService.postToFacebook"
        "(jobAnnouncementId)]",
        "mail [jobAnnouncementService.notifyAboutPostings(jobAnnouncementId)]",
    ],
    # Parallel multi-instance over `reviewers` (2) with Camunda's completion condition
    # `nrOfCompletedInstances == nrOfInstances`: both reviews, then the end.
    "operaton/multi-instance--document-review.bpmn": [
        "Task_ReviewDocument",
        "Task_ReviewDocument",
    ],
}
# The callee files deployed before each caller (the corpus files defining the
# processes it calls outside itself that deploy), and the callers that deploy then.
CALLEES_DEPLOYED = {
    "camunda/camunda-testing-job-announcement.bpmn": [
        "camunda/camunda-testing-job-announcement-publication.bpmn"
    ],
    "camunda/invoice.v1.bpmn": ["camunda/reviewInvoice.bpmn"],
    "camunda/tenant-mainProcess.bpmn": ["camunda/tenant-subProcess.bpmn"],
    "camunda/invoice.v2.bpmn": ["camunda/reviewInvoice.bpmn"],
    "operaton/call-activity--order-orchestration.bpmn": [
        "operaton/call-activity--notify-customer.bpmn"
    ],
}
CALLERS_DEPLOYED = {"camunda/camunda-testing-job-announcement.bpmn"}
# Each step completes one human task or runs the pending service calls of the case.
MAX_STEPS = 40
RESULTS: dict[str, dict] = {}


def _corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        pytest.fail(
            f"The shared corpus is missing: expected it at {CORPUS} "
            "(shared/ beside the repository).",
            pytrace=False,
        )
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.bpmn"))


@functools.cache
def _process_index() -> dict[str, str]:
    """Map each executable process id of the corpus to the first file defining it."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    index: dict[str, str] = {}
    for rel in _corpus_files():
        try:
            root = etree.parse(str(CORPUS / rel), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        for process in root.iterfind("bpmn:process", BPMN_NS):
            if process.get("isExecutable") == "true":
                index.setdefault(process.get("id", ""), rel)
    return index


def _callee_files(rel: str, index: dict[str, str]) -> list[str]:
    """Return the corpus files `rel` calls into, recursively, callees first."""
    ordered: list[str] = []

    def visit(current: str, path: tuple[str, ...]) -> None:
        for key in called_elements((CORPUS / current).read_bytes()):
            callee = index.get(key)
            if callee and callee not in path and callee not in ordered:
                visit(callee, (*path, callee))
                if callee != rel:
                    ordered.append(callee)

    visit(rel, (rel,))
    return ordered


def _dmn_for(path: Path) -> list[tuple[str, bytes]]:
    text = path.read_text(errors="replace")
    refs = set(re.findall(r'decisionRef="([^"]+)"', text))
    refs |= set(re.findall(r"calledDecisionId>\s*([^<\s]+)\s*<", text))
    riders = []
    for dmn in sorted(path.parent.glob("*.dmn")):
        ids = set(
            re.findall(r'<(?:\w+:)?decision\b[^>]*\bid="([^"]+)"', dmn.read_text())
        )
        if ids & refs:
            riders.append((dmn.name, dmn.read_bytes()))
    return riders


def _reason(message: str) -> str:
    refused = message.split(" is refused: ", 1)  # support.py's refusals
    if len(refused) == 2:
        return "refused: " + re.split(r"[;(:]", refused[1], maxsplit=1)[0][:60]
    rules = [
        ("no executable process", "no executable process"),
        ("is FEEL", "FEEL expression"),
        ("cannot be translated from JUEL", "JUEL outside the subset"),
        ("expression language", "XPath/other expression language"),
        ("listener", "Java listener"),
        ("data store", "data store"),
        ("names no message", "message event without message"),
        ("Compensation", "compensation"),
        ("call activity", "called process neither in the file nor deployed"),
        ("business rule task", "DMN decision missing"),
        ("rule cell", "DMN cell not Python"),
        ("names no operation", "service task without operation"),
        ("has no id", "sequence flow without id"),
        ("start event", "compensation event sub-process"),
        ("reserved by the engine", "id clashes with engine name"),
        ("Schema:", "BPMN XSD"),
        ("Script of", "script language"),
        ("invalid expression", "expression does not compile"),
        ("invalid script", "script does not compile"),
        ("DOCTYPE", "DTD/entities (XXE payload)"),
    ]
    for needle, reason in rules:
        if needle in message:
            return reason
    return "SpiffWorkflow: " + message.split(":")[0][:60]


def _condition_values(xml: bytes) -> dict[str, object]:
    """Pick values that make the first condition naming each variable true."""
    values: dict[str, object] = {}
    root = etree.fromstring(xml)
    for cond in root.iterfind(".//bpmn:conditionExpression", BPMN_NS):
        try:
            tree = ast.parse((cond.text or "").strip(), mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
                right = node.comparators[0]
                if isinstance(right, ast.Constant) and node.left.id not in values:
                    values[node.left.id] = _satisfy(node.ops[0], right.value)
            elif isinstance(node, ast.Name) and node.id not in values:
                values[node.id] = True
    for ref in root.iterfind(".//bpmn:loopDataInputRef", BPMN_NS):
        values[(ref.text or "").strip()] = ["first", "second"]
    return {
        k: v for k, v in values.items() if v is not None and k not in ("True", "False")
    }


def _satisfy(op: ast.cmpop, value: object) -> object:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value if isinstance(op, ast.Eq | ast.Is) else None
    if isinstance(op, ast.Gt):
        return value + 1
    if isinstance(op, ast.Lt):
        return value - 1
    return value if isinstance(op, ast.Eq | ast.GtE | ast.LtE) else None


def _field_value(field: dict) -> object:
    kind = field.get("type") or "string"
    if field.get("options"):
        return field["options"][0][0]
    if kind == "boolean":
        return True
    if kind in ("long", "double"):
        low = field.get("minimum") or field.get("exclusive_minimum") or 0
        return int(low) + 1 if kind == "long" else float(low) + 1.0
    if kind == "date":
        return "2030-01-01"
    return "x" * max(int(field.get("min_length") or 0), 4)


def _form_data(fields, defaults: dict) -> dict:
    data = {f["id"]: _field_value(f) for f in fields}
    for key, value in defaults.items():
        if key not in data or type(value) is type(data[key]):
            data[key] = value
    return data


def _run_service_calls(case: Case, route: list[str]) -> int:
    """Run the case's pending service calls as `service_call_run_task` does.

    Each call run is appended to the route; returns how many ran.
    """
    ran = 0
    pending = ServiceCall.objects.filter(case=case, status=ServiceCall.Status.PENDING)
    for call_id in pending.order_by("created_at", "pk").values_list("pk", flat=True):
        call = service_call_begin(call_id=call_id)
        if call is None:
            continue
        ok, value = service_call_execute(call=call)
        service_call_apply(call_id=call_id, ok=ok, value=value)
        route.append(f"{call.bpmn_id} [{call.operation}]")
        ran += 1
    return ran


def _drive(version: ProcessVersion, actor, defaults: dict) -> tuple[str, list[str]]:
    from dataclasses import asdict

    from engine.spec_cache import spec_for

    process = spec_for(version)
    start_fields = (
        [asdict(f) for f in process.meta.start.form] if process.meta.start else []
    )
    case, _ = case_start(
        user=actor, key=version.definition.key, data=_form_data(start_fields, defaults)
    )
    route: list[str] = []
    for _ in range(MAX_STEPS):
        ran = _run_service_calls(case, route)
        case.refresh_from_db()
        if case.status != Case.Status.RUNNING:
            break
        task = (
            HumanTask.objects.filter(case=case, status="open")
            .order_by("created_at")
            .first()
        )
        if task is None:
            if ran:
                continue
            break
        user = task.assignee or actor
        task_complete(user=user, task_id=task.pk, data=_form_data(task.form, defaults))
        route.append(task.bpmn_id)
    case.refresh_from_db()
    if case.status == Case.Status.COMPLETED:
        return "completed", route
    if case.has_incident:
        return "stopped: incident", route
    calls = ServiceCall.objects.filter(case=case)
    if calls.filter(status=ServiceCall.Status.RUNNING).exists():
        return "stopped: service result not applied", route
    open_tasks = HumanTask.objects.filter(case=case, status="open")
    if open_tasks.exists() or calls.filter(status=ServiceCall.Status.PENDING).exists():
        return f"stopped: still running after {MAX_STEPS} steps", route
    return "waiting: timer, message or signal", route


@pytest.fixture
def actor(db):
    return get_user_model().objects.create_superuser(
        "corpus", "corpus@example.com", "pw"
    )


def _assert_no_silent_trap(xml: bytes) -> None:
    root = etree.fromstring(xml)
    assert not [
        f for f in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS) if not f.get("id")
    ]
    starts = root.xpath(
        ".//bpmn:subProcess[@triggeredByEvent='true']/bpmn:startEvent"
        "[bpmn:compensateEventDefinition]",
        namespaces=BPMN_NS,
    )
    assert starts == []


def _register_operations(settings, rels: list[str]) -> None:
    settings.ENGINE_SERVICE_OPERATIONS = {
        name: "tests.operations.corpus_operation"
        for rel in rels
        for name in service_operations((CORPUS / rel).read_bytes())
    }


def _deploy_callees(callees: list[str], actor) -> list[str]:
    """Deploy the callee files first (best effort); return those that deployed."""
    deployed = []
    for callee in callees:
        path = CORPUS / callee
        try:
            version_upload(
                user=actor,
                bpmn=path.read_bytes(),
                filename=path.name,
                dmn_files=_dmn_for(path),
            )
        except BpmnInvalid:
            continue
        deployed.append(callee)
    return deployed


def _deploy(rel: str, actor) -> tuple[list, list]:
    path = CORPUS / rel
    data = path.read_bytes()
    try:
        deployed = version_upload(
            user=actor, bpmn=data, filename=path.name, dmn_files=_dmn_for(path)
        )
    except BpmnInvalid as exc:
        return [], exc.details["errors"]
    return deployed, []


def _assert_bound_calls_resolve(rel: str, errors: list, callees: list[str]) -> None:
    """No problem names a called process whose corpus file was deployed first."""
    index = _process_index()
    called = {
        c
        for c in called_elements((CORPUS / rel).read_bytes())
        if index.get(c) in callees
    }
    assert not [
        p for p in errors if any(f"process '{c}'" in p["message"] for c in called)
    ], errors


def _defaults(version: ProcessVersion) -> dict:
    """Values for the conditions of the version and of the processes it calls."""
    defaults = {}
    for called in version.dependencies.all():
        defaults.update(_condition_values(bytes(called.normalized_xml)))
    defaults.update(_condition_values(bytes(version.normalized_xml)))
    return defaults


@pytest.mark.django_db
@pytest.mark.parametrize("rel", _corpus_files())
def test_corpus_file_deploys_or_is_rejected_with_located_problems(rel, actor, settings):
    callees = _callee_files(rel, _process_index())
    _register_operations(settings, [rel, *callees])
    callees_deployed = _deploy_callees(callees, actor)
    assert callees_deployed == CALLEES_DEPLOYED.get(rel, [])
    versions, events = ProcessVersion.objects.count(), AuditEvent.objects.count()
    deployed, errors = _deploy(rel, actor)
    if errors:
        assert rel not in CALLERS_DEPLOYED, errors
        _assert_bound_calls_resolve(rel, errors, callees_deployed)
        assert ProcessVersion.objects.count() == versions
        assert AuditEvent.objects.count() == events
        for problem in errors:
            assert problem["message"]
            if problem["element_id"]:
                assert problem["line"], problem
        if rel in SILENT_TRAPS:
            assert any(SILENT_TRAPS[rel] in p["message"] for p in errors), errors
        RESULTS[rel] = {
            "outcome": "rejected",
            "errors": errors,
            "reasons": sorted({_reason(p["message"]) for p in errors}),
            "callees": callees_deployed,
        }
        return
    assert rel not in SILENT_TRAPS, f"{rel} deployed although it is a silent trap"
    runs = []
    for item in deployed:
        version = item.version
        _assert_no_silent_trap(bytes(version.normalized_xml))
        defaults = _defaults(version)
        try:
            outcome, route = _drive(version, actor, defaults)
        except (EngineError, TaskError) as exc:
            outcome, route = f"stopped: {type(exc).__name__}", []
        runs.append({"key": version.definition.key, "outcome": outcome, "route": route})
    if rel in EXPECTED_ROUTES:
        assert runs[0]["outcome"] == "completed", runs
        assert runs[0]["route"] == EXPECTED_ROUTES[rel], runs
    if rel in CALLERS_DEPLOYED:
        assert deployed[0].version.dependencies.exists()
    RESULTS[rel] = {"outcome": "deployed", "runs": runs, "callees": callees_deployed}


def test_every_silent_trap_of_raw_spiffworkflow_is_rejected():
    for rel in SILENT_TRAPS:
        if rel in RESULTS:
            assert RESULTS[rel]["outcome"] == "rejected", rel


def _report() -> str:
    deployed = {k: v for k, v in RESULTS.items() if v["outcome"] == "deployed"}
    rejected = {k: v for k, v in RESULTS.items() if v["outcome"] == "rejected"}
    completed = [
        k
        for k, v in deployed.items()
        if any(r["outcome"] == "completed" for r in v["runs"])
    ]
    reasons = Counter(r for v in rejected.values() for r in v["reasons"])
    lines = [
        "# Corpus report",
        "",
        "Generated by `scripts/corpus_report.py` (runs "
        "`tests/processes/test_corpus.py`) over every BPMN file of the shared corpus "
        f"({len(RESULTS)} files; DMN files ride with the BPMN that references their "
        "decisions). Each file goes through `processes.services.version_upload` on "
        "PostgreSQL, with the operations it names registered; deployed processes are "
        "driven through `case_start` / `task_complete` with plausible data (form "
        "fields, values that satisfy the first condition naming each variable, True "
        "for approvals), and their pending service calls are run in between as the "
        "Celery worker would (`service_call_begin` / `_execute` / `_apply`, with a "
        'test operation that answers `{"ok": true, **params}`). A route lists the '
        "human tasks completed and the service calls run (`id [operation]`), in "
        "order. A file whose call activities call processes of other corpus files "
        "is deployed after those files (its callees), and binds their deployed "
        "versions.",
        "",
        f"- **deployed**: {len(deployed)}",
        f"- **ran to completion** (at least one process of the file): {len(completed)}",
        f"- **rejected with located problems**: {len(rejected)}",
        "- **crashed or deployed into a known silent misexecution**: 0 "
        "(the test fails otherwise)",
        "",
        "## Rejections by reason (a file may have several)",
        "",
        "| reason | files |",
        "|---|---|",
        *[f"| {reason} | {count} |" for reason, count in reasons.most_common()],
        "",
        "## Per file",
        "",
        "| file | outcome | details |",
        "|---|---|---|",
    ]
    for rel, result in sorted(RESULTS.items()):
        if result["outcome"] == "deployed":
            detail = "; ".join(
                f"`{r['key']}`: {r['outcome']}"
                + (f" via {' → '.join(r['route'])}" if r["route"] else "")
                for r in result["runs"]
            )
            if result.get("callees"):
                detail += (
                    " (after deploying its callees "
                    + ", ".join(f"`{c}`" for c in result["callees"])
                    + ")"
                )
        else:
            first = result["errors"][0]
            where = f"line {first['line']}: " if first["line"] else ""
            more = len(result["errors"]) - 1
            detail = f"{where}{first['message']}" + (f" (+{more} more)" if more else "")
            detail = detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{rel}` | {result['outcome']} | {detail} |")
    return "\n".join(lines) + "\n"


def test_zz_write_corpus_report():
    assert RESULTS, "the corpus tests did not run"
    target = os.environ.get("CORPUS_REPORT")
    if target:
        Path(target).write_text(_report())
    dump = os.environ.get("CORPUS_JSON")
    if dump:
        import json

        Path(dump).write_text(json.dumps(RESULTS, indent=1, default=str))
