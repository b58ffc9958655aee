"""Cockpit pages: the dashboard, a process version's heatmap, repairs, migrations."""

import json
from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View
from rest_framework import serializers

from engine.errors import ModificationRefused
from engine.models import Case
from engine.selectors import case_flow_elements, case_get
from processes.selectors import definition_list, version_get, version_list

from . import services
from .apis import RangeInput, require_cockpit
from .dashboard import DashboardFilters, cockpit_dashboard
from .errors import CaseDataInvalid, CockpitNotAllowed, MigrationInvalid
from .permissions import can_repair_case
from .statistics import version_statistics, waiting_cases

WAITING_SHOWN = 100


class DashboardInput(RangeInput):
    process = serializers.CharField(required=False, max_length=255)
    version = serializers.IntegerField(required=False, min_value=1)


def range_or_errors(
    params: Any, form: type[RangeInput] = RangeInput
) -> tuple[dict, dict[str, list[str]]]:
    """Return the valid filters of a page's query, or its errors by field."""
    data = form(data={k: v for k, v in params.items() if v})
    if data.is_valid():
        return dict(data.validated_data), {}
    errors = data.errors
    return {}, {field: [str(m) for m in msgs] for field, msgs in errors.items()}


def duration_text(seconds: float | None) -> str:
    """Return a duration as people read it: 42 s, 5 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds:.0f} s"


class VersionHeatmapView(LoginRequiredMixin, View):
    """The diagram of a version with, per element, waiting, passed and times."""

    def get(self, request: HttpRequest, key: str, number: int) -> HttpResponse:
        require_cockpit(request.user)
        version = version_get(key=key, number=number)
        window, errors = range_or_errors(request.GET)
        elements = version_statistics(version=version, **window)
        element = request.GET.get("element", "")
        context = {
            "version": version,
            "definition": version.definition,
            "elements": [
                {
                    **asdict(e),
                    "median": duration_text(e.median_s),
                    "p90": duration_text(e.p90_s),
                }
                for e in elements
            ],
            "any_approximate": any(e.approximate for e in elements),
            "states": {
                "completed": [e.id for e in elements if e.completed],
                "active": [e.id for e in elements if e.active],
                "failed": [e.id for e in elements if e.incidents],
            },
            "errors": errors,
            "since": request.GET.get("since", ""),
            "until": request.GET.get("until", ""),
            "element": element,
            "waiting": (
                list(waiting_cases(version=version, element=element)[:WAITING_SHOWN])
                if element
                else []
            ),
            **_migration_context(request, version),
        }
        status = 400 if errors else 200
        return render(request, "cockpit/version.html", context, status=status)


def _migration_context(request: HttpRequest, version: Any, **extra: Any) -> dict:
    """The version page's "migrate cases" form (process admins only)."""
    if not can_repair_case(request.user):
        return {"can_migrate": False}
    others = [
        v.number
        for v in version_list(key=version.definition.key)
        if v.number != version.number
    ]
    return {"can_migrate": bool(others), "other_versions": others, **extra}


def _mapping_form(text: str) -> tuple[dict[str, str], list[str]]:
    """Read "old = new" lines into a mapping; return it and the lines it cannot read."""
    mapping, bad = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        old, sep, new = line.partition("=")
        if not sep or not old.strip() or not new.strip():
            bad.append(f"Line {number}: write old_id = new_id.")
        else:
            mapping[old.strip()] = new.strip()
    return mapping, bad


class VersionMigrateView(LoginRequiredMixin, View):
    """Check or start the migration of a version's running cases (process admins)."""

    def post(self, request: HttpRequest, key: str, number: int) -> HttpResponse:
        services.migration_allowed_check(request.user)
        version = version_get(key=key, number=number)
        post = request.POST
        mapping, errors = _mapping_form(post.get("mapping", ""))
        target = post.get("to_version", "")
        if not target.isdigit():
            errors.append("Choose the version to move the cases to.")
        if post.get("action") != "check" and not post.get("reason", "").strip():
            errors.append("Say why the cases move.")
        if errors:
            return self._page(request, version, {"migrate_errors": errors}, status=400)
        plan: dict[str, Any] = {
            "user": request.user,
            "key": key,
            "from_version": number,
            "to_version": int(target),
            "mapping": mapping,
        }
        try:
            if post.get("action") == "check":
                check = services.cases_migrate_check(**plan)
                return self._page(request, version, {"check": check})
            migration = services.migration_request(**plan, reason=post["reason"])
        except MigrationInvalid as exc:
            return self._page(
                request, version, {"migrate_errors": [exc.message]}, status=400
            )
        messages.success(
            request,
            f"Moving {len(migration.case_ids)} case(s) to v{migration.to_version}: "
            "this page shows the progress.",
        )
        return redirect("cockpit-migration", key=key, migration_id=migration.pk)

    def _page(
        self, request: HttpRequest, version: Any, extra: dict, status: int = 200
    ) -> HttpResponse:
        context = {
            "version": version,
            "definition": version.definition,
            "form": request.POST,
            **_migration_context(request, version, **extra),
        }
        return render(request, "cockpit/migrate.html", context, status=status)


class MigrationView(LoginRequiredMixin, View):
    """A requested migration: progress, and each case's outcome."""

    def get(self, request: HttpRequest, key: str, migration_id: str) -> HttpResponse:
        migration = services.migration_get(
            user=request.user, key=key, migration_id=migration_id
        )
        context = {
            "migration": migration,
            "total": len(migration.case_ids),
            "running": migration.status != migration.Status.FINISHED,
        }
        return render(request, "cockpit/migration.html", context)


class DashboardView(LoginRequiredMixin, View):
    """Cases per day (a chart), open cases, open and overdue tasks by group and user."""

    def get(self, request: HttpRequest) -> HttpResponse:
        require_cockpit(request.user)
        filters, errors = range_or_errors(request.GET, DashboardInput)
        dashboard = cockpit_dashboard(filters=DashboardFilters(**filters))
        context = {
            "dashboard": dashboard,
            "chart": {
                "days": dashboard.days,
                "started": dashboard.started,
                "completed": dashboard.completed,
            },
            "rows": zip(
                dashboard.days, dashboard.started, dashboard.completed, strict=True
            ),
            "processes": definition_list(),
            "query": request.GET,
            "errors": errors,
        }
        status = 400 if errors else 200
        return render(request, "cockpit/dashboard.html", context, status=status)


class CaseRepairView(LoginRequiredMixin, View):
    """A case's repairs for process admins: suspend or resume it, edit its
    variables, move it (cancel active elements, start before / after others)."""

    def get(self, request: HttpRequest, case_id: str) -> HttpResponse:
        return self._render(request, self._case(request, case_id), {})

    def post(self, request: HttpRequest, case_id: str) -> HttpResponse:
        case = self._case(request, case_id)
        action, reason = request.POST.get("action", ""), request.POST.get("reason", "")
        if not reason.strip():
            return self._render(request, case, {"reason": ["Say why."]}, status=400)
        if action in ("suspend", "resume"):
            change = (
                services.case_suspend if action == "suspend" else services.case_resume
            )
            change(user=request.user, case_id=case.pk, reason=reason)
            messages.success(request, f"The case was {action}d.")
            return redirect("cockpit-case", case_id=case.pk)
        if action == "modify":
            return self._modify(request, case, reason)
        values, remove, errors = _data_form(request.POST)
        if errors:
            return self._render(request, case, errors, status=400)
        try:
            services.case_data_change(
                user=request.user,
                case_id=case.pk,
                set=values,
                unset=remove,
                reason=reason,
            )
        except CaseDataInvalid as exc:
            return self._render(request, case, exc.details["fields"], status=400)
        messages.success(request, "The case variables were changed.")
        return redirect("cockpit-case", case_id=case.pk)

    def _modify(self, request: HttpRequest, case: Case, reason: str) -> HttpResponse:
        """Cancel the ticked active elements, then start before / after the chosen."""
        instructions = [
            (kind, element)
            for kind in ("cancel", "start_before", "start_after")
            for element in request.POST.getlist(kind)
            if element
        ]
        if not instructions:
            errors = {"move": ["Choose elements to cancel or to start."]}
            return self._render(request, case, errors, status=400)
        try:
            services.case_modify(
                user=request.user,
                case_id=case.pk,
                instructions=instructions,
                reason=reason,
                skip_custom_listeners=request.POST.get("skip_custom_listeners") == "on",
            )
        except ModificationRefused as exc:
            return self._render(request, case, {"move": [exc.message]}, status=409)
        messages.success(request, "The case was moved.")
        return redirect("cockpit-case", case_id=case.pk)

    def _case(self, request: HttpRequest, case_id: str) -> Case:
        case = case_get(user=request.user, case_id=case_id)
        if not can_repair_case(request.user):
            raise CockpitNotAllowed("Only a process admin may repair a case.")
        return case

    def _render(
        self, request: HttpRequest, case: Case, errors: dict, status: int = 200
    ) -> HttpResponse:
        active, elements = case_flow_elements(case=case)
        form = request.POST if request.method == "POST" else None
        context = {
            "case": case,
            "active": active,
            "elements": elements,
            "chosen": {
                kind: form.getlist(kind) if form is not None else []
                for kind in ("cancel", "start_before", "start_after")
            },
            "data_text": json.dumps(case.data, indent=2, sort_keys=True),
            "errors": errors,
            "form": request.POST if request.method == "POST" else {},
        }
        return render(request, "cockpit/case.html", context, status=status)


def _data_form(post: Any) -> tuple[dict, list[str], dict[str, list[str]]]:
    """Read the page's "set" (a JSON object) and "unset" (names, comma-separated)."""
    remove = [name.strip() for name in post.get("unset", "").split(",") if name.strip()]
    try:
        values = json.loads(post.get("set") or "{}")
    except json.JSONDecodeError as exc:
        return {}, remove, {"set": [f"Not JSON: {exc.msg} (line {exc.lineno})."]}
    if not isinstance(values, dict):
        return {}, remove, {"set": ["Must be a JSON object."]}
    return values, remove, {}
