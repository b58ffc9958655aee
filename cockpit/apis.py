"""The cockpit API: version statistics, suspend and resume, edit case data, migrate."""

import csv
import io
import json
from dataclasses import asdict

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.apis import FormatIsOurs
from engine.json_safety import StorableJSONField
from processes.selectors import definition_get, version_get

from . import services
from .errors import CockpitNotAllowed
from .permissions import can_view_cockpit
from .reports import completed_cases, cycle_times, task_report, task_times
from .statistics import version_statistics


class RangeInput(serializers.Serializer):
    """An optional time range [since, until) in ISO 8601."""

    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and until <= since:
            raise serializers.ValidationError({"until": ["Must be after 'since'."]})
        return attrs


def range_of(params) -> dict:
    """Return the validated since/until of the query (400 naming the field)."""
    data = RangeInput(data=params)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def require_cockpit(user) -> None:
    """Refuse callers who are neither process owners nor process admins."""
    if not can_view_cockpit(user):
        raise CockpitNotAllowed("The cockpit is for process owners and admins.")


class ElementStatisticsOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    incidents = serializers.IntegerField()
    median_s = serializers.FloatField(allow_null=True)
    p90_s = serializers.FloatField(allow_null=True)
    # True: median and p90 from the rollups' buckets, within 0.99% (many rows).
    approximate = serializers.BooleanField()


class VersionStatisticsApi(APIView):
    """Per element of a version: waiting now, passed, incidents, median and p90."""

    @extend_schema(
        parameters=[RangeInput],
        responses={
            200: inline_serializer(
                "VersionStatistics",
                {"elements": ElementStatisticsOutput(many=True)},
            )
        },
    )
    def get(self, request, key: str, number: int):
        require_cockpit(request.user)
        window = range_of(request.query_params)
        version = version_get(key=key, number=number)
        elements = version_statistics(version=version, **window)
        return Response({"elements": ElementStatisticsOutput(elements, many=True).data})


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class CaseRepairOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]


class _CaseStatusApi(APIView):
    """POST {"reason"}: apply `change` to the case and answer with it."""

    change = staticmethod(services.case_suspend)

    @extend_schema(request=ReasonInput, responses={200: CaseRepairOutput})
    def post(self, request, case_id):
        services.case_repair_check(user=request.user, case_id=case_id)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.change(
            user=request.user, case_id=case_id, reason=data.validated_data["reason"]
        )
        return Response(CaseRepairOutput(case).data)


class CaseSuspendApi(_CaseStatusApi):
    """Suspend a running case: it refuses every command until resumed."""

    change = staticmethod(services.case_suspend)


class CaseResumeApi(_CaseStatusApi):
    """Resume a suspended case."""

    change = staticmethod(services.case_resume)


class CaseDataApi(APIView):
    """Set and unset case variables (process admins), audited before and after."""

    class Input(serializers.Serializer):
        set = StorableJSONField(required=False, default=dict)
        unset = serializers.ListField(
            child=serializers.CharField(), required=False, default=list
        )
        reason = serializers.CharField(max_length=1000)

        def validate_set(self, value):
            if not isinstance(value, dict):
                raise serializers.ValidationError("Must be a JSON object.")
            return value

    @extend_schema(request=Input, responses={200: CaseRepairOutput})
    def patch(self, request, case_id):
        services.case_repair_check(user=request.user, case_id=case_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_data_change(
            user=request.user, case_id=case_id, **data.validated_data
        )
        return Response(CaseRepairOutput(case).data)


class InstructionField(serializers.DictField):
    """One instruction: {"cancel" | "start_before" | "start_after": "<element id>"}
    or {"start_transition": "<sequence flow id>"}."""

    KINDS = ("cancel", "start_before", "start_after", "start_transition")

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=255), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) != 1 or next(iter(value)) not in self.KINDS:
            raise serializers.ValidationError(
                'Give exactly one of "cancel", "start_before", "start_after" '
                '(an element id) or "start_transition" (a sequence flow id), '
                'e.g. {"cancel": "review"}.'
            )
        [(kind, element)] = value.items()
        return (kind, element)


class CaseModifyApi(APIView):
    """Cancel active elements and start before or after others, in one step
    (Camunda's process instance modification; process admins)."""

    class CaseModifyInput(serializers.Serializer):
        instructions = serializers.ListField(
            child=InstructionField(), min_length=1, max_length=50
        )
        reason = serializers.CharField(max_length=1000)
        skip_custom_listeners = serializers.BooleanField(
            default=False,
            help_text="Run no delete, end or start listener of what is cancelled "
            "or started (Camunda's skipCustomListeners); a start that would run "
            "listeners of its own is then refused.",
        )

    class CaseModifyOutput(CaseRepairOutput):
        active_elements = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=CaseModifyInput, responses={200: CaseModifyOutput})
    def post(self, request, case_id):
        services.case_repair_check(user=request.user, case_id=case_id)
        data = self.CaseModifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_modify(
            user=request.user, case_id=case_id, **data.validated_data
        )
        return Response(self.CaseModifyOutput(case).data)


class VersionSuspendApi(APIView):
    """Suspend every running case of a version (or resume every suspended one)."""

    resume = False

    @extend_schema(
        request=ReasonInput,
        responses={
            200: inline_serializer(
                "VersionCasesRepaired",
                {
                    "cases": serializers.ListField(child=serializers.CharField()),
                    "busy": serializers.ListField(child=serializers.CharField()),
                },
            )
        },
    )
    def post(self, request, key: str, number: int):
        services.version_repair_check(user=request.user)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.version_cases_suspend(
            user=request.user,
            key=key,
            number=number,
            reason=data.validated_data["reason"],
            resume=self.resume,
        )
        return Response({"cases": result.changed, "busy": result.busy})


class MigrationInput(serializers.Serializer):
    from_version = serializers.IntegerField(min_value=1)
    to_version = serializers.IntegerField(min_value=1)
    mapping = serializers.DictField(
        child=serializers.CharField(max_length=255), required=False, default=dict
    )
    cases = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=10_000
    )
    dry_run = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=1000)


class MigrationProblemOutput(serializers.Serializer):
    element_id = serializers.CharField()
    message = serializers.CharField()


class MigrationRefusalOutput(serializers.Serializer):
    case = serializers.CharField()
    problems = MigrationProblemOutput(many=True)


class MigrationOutput(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="null for a dry run")
    status = serializers.ChoiceField(
        choices=["checked", "queued", "running", "finished"]
    )
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    migrated = serializers.ListField(child=serializers.CharField())
    refused = MigrationRefusalOutput(many=True)
    busy = serializers.ListField(child=serializers.CharField())
    dry_run = serializers.BooleanField()


def _migration_body(migration) -> dict:
    return {
        "id": migration.pk,
        "status": migration.status,
        "total": len(migration.case_ids),
        "done": migration.done,
        "migrated": migration.migrated,
        "refused": migration.refused,
        "busy": migration.busy,
        "dry_run": False,
    }


class ProcessMigrationApi(APIView):
    """Move running cases of one version onto another (process admins).

    Each active element keeps its identity and maps to the element with the same
    id in the target version unless `mapping` names another. A dry run answers
    at once: which cases can move, and why the others cannot (located). A real
    run answers 202 with the migration's id; the worker moves the cases one by
    one, each in its own locked transaction, and its progress is at
    `GET .../migrations/{id}/`. A case that cannot move stays untouched.
    """

    @extend_schema(
        request=MigrationInput,
        responses={200: MigrationOutput, 202: MigrationOutput},
    )
    def post(self, request, key: str):
        services.migration_allowed_check(request.user)  # 403 before reading the body
        data = MigrationInput(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        cases = given.get("cases")
        plan = {
            "user": request.user,
            "key": key,
            "from_version": given["from_version"],
            "to_version": given["to_version"],
            "mapping": given["mapping"],
            "case_ids": None if cases is None else [str(c) for c in cases],
        }
        if given["dry_run"]:
            result = services.cases_migrate_check(**plan)
            body = {
                **asdict(result),
                "id": None,
                "status": "checked",
                "total": len(result.migrated) + len(result.refused) + len(result.busy),
                "done": len(result.migrated) + len(result.refused) + len(result.busy),
            }
            return Response(MigrationOutput(body).data)
        migration = services.migration_request(**plan, reason=given["reason"])
        return Response(MigrationOutput(_migration_body(migration)).data, status=202)


class MigrationDetailApi(APIView):
    """A requested migration with its progress and each case's outcome."""

    @extend_schema(responses={200: MigrationOutput})
    def get(self, request, key: str, migration_id):
        migration = services.migration_get(
            user=request.user, key=key, migration_id=migration_id
        )
        return Response(MigrationOutput(_migration_body(migration)).data)


class ReportInput(RangeInput):
    format = serializers.ChoiceField(choices=["json", "csv"], default="json")
    variables = serializers.CharField(required=False, default="", allow_blank=True)


class TaskReportOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    completed = serializers.IntegerField()
    waiting_median_s = serializers.FloatField(allow_null=True)
    waiting_p90_s = serializers.FloatField(allow_null=True)
    handling_median_s = serializers.FloatField(allow_null=True)
    handling_p90_s = serializers.FloatField(allow_null=True)
    late_share = serializers.FloatField(allow_null=True)
    approximate = serializers.BooleanField()


CSV_COLUMNS = [
    "case",
    "task",
    "element",
    "name",
    "offered_at",
    "claimed_at",
    "completed_at",
    "waiting_s",
    "handling_s",
    "late",
]


def _csv_rows(times, variables: list[str]):
    yield CSV_COLUMNS + [f"var:{name}" for name in variables]
    for t in times:
        yield [
            t.case_id,
            t.task_id,
            t.bpmn_id,
            t.name,
            t.offered_at.isoformat(),
            t.claimed_at.isoformat(),
            t.completed_at.isoformat(),
            t.waiting_s,
            t.handling_s,
            t.late,
        ] + [_cell(t.data.get(name)) for name in variables]


def _cell(value) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, sort_keys=True)


class TaskReportApi(APIView):
    """Per user task: waiting and handling time (median, p90), late share; or CSV
    rows per completed task with the case variables named in `variables`."""

    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[ReportInput],
        responses={
            (200, "application/json"): inline_serializer(
                "TaskReport", {"tasks": TaskReportOutput(many=True)}
            ),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, key: str, number: int):
        require_cockpit(request.user)
        params = ReportInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = dict(params.validated_data)
        fmt, names = query.pop("format"), query.pop("variables")
        version = version_get(key=key, number=number)
        if fmt == "json":
            rows = task_report(version=version, **query)
            return Response({"tasks": TaskReportOutput(rows, many=True).data})
        variables = [n.strip() for n in names.split(",") if n.strip()]
        rows = _csv_rows(task_times(version=version, **query), variables)
        return csv_response(rows, f"{key}-v{number}-tasks.csv")


class CycleTimeInput(ReportInput):
    version = serializers.IntegerField(required=False, min_value=1)
    bins = serializers.IntegerField(
        required=False, default=10, min_value=1, max_value=100
    )


def _case_rows(cases, variables: list[str]):
    yield ["case", "version", "started_at", "ended_at", "cycle_s"] + [
        f"var:{name}" for name in variables
    ]
    for case in cases:
        yield [
            str(case.pk),
            case.version.number,
            case.started_at.isoformat(),
            case.ended_at.isoformat(),
            (case.ended_at - case.started_at).total_seconds(),
        ] + [_cell(case.data.get(name)) for name in variables]


def csv_response(rows, filename: str) -> HttpResponse:
    """Answer with the rows as a CSV attachment."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CycleTimeApi(APIView):
    """Cycle-time histogram of a process's completed cases (or CSV, one row each)."""

    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[CycleTimeInput],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, key: str):
        require_cockpit(request.user)
        params = CycleTimeInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = dict(params.validated_data)
        fmt, names, bins = (
            query.pop("format"),
            query.pop("variables"),
            query.pop("bins"),
        )
        definition_get(key=key)
        if fmt == "csv":
            cases = completed_cases(key=key, **query)
            variables = [n.strip() for n in names.split(",") if n.strip()]
            return csv_response(_case_rows(cases, variables), f"{key}-cycle-times.csv")
        return Response(asdict(cycle_times(key=key, bins=bins, **query)))
