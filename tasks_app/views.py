"""HTML views: inbox, task pages, starting a case and the case pages."""

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from audit import selectors as audit_selectors
from engine import selectors as case_selectors
from engine import services as case_services
from engine.errors import CaseBusy, CaseNotRunning, FormInvalid, TaskNotReady
from engine.models import Case
from engine.spec_cache import spec_for

from . import selectors, services
from .errors import SeparationOfDuties, TaskAlreadyClaimed, TaskNotOpen
from .forms import BusinessKeyForm, CaseCancelForm, ProcessForm

INBOX_FILTERS = {
    "all": "All",
    "mine": "Assigned to me",
    "groups": "My groups",
    "overdue": "Overdue",
}


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


def display_value(value: Any) -> str:
    """Return a case variable as text: Yes/No for booleans, JSON for containers."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _data_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, display_value(value)) for key, value in data.items()]


class InboxView(LoginRequiredMixin, TemplateView):
    template_name = "tasks_app/inbox.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        params = self.request.GET
        show = params.get("filter") or params.get("show") or "all"
        show = show if show in INBOX_FILTERS else "all"
        tasks = selectors.inbox_list_for_user(
            user=self.request.user,
            assigned_to_me=show == "mine",
            unclaimed=show == "groups",
            overdue=show == "overdue",
        )
        return {
            **super().get_context_data(**kwargs),
            "tasks": list(tasks),
            "show": show,
            "filters": INBOX_FILTERS,
        }


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "tasks_app/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "dashboard": selectors.dashboard_for_user(user=self.request.user),
        }


class TaskDetailView(LoginRequiredMixin, View):
    """Show a task and its form; POST completes it (claiming it if unclaimed)."""

    template_name = "tasks_app/task_detail.html"

    def get(self, request: HttpRequest, task_id: str) -> HttpResponse:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return self._render(
            request, task, ProcessForm(task.form, values=self._values(task))
        )

    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        form = ProcessForm(task.form, request.POST, values=self._values(task))
        try:
            services.task_complete(
                user=request.user, task_id=task.pk, data=form.submitted()
            )
        except FormInvalid as exc:
            form.show_errors(exc.details.get("fields", {}))
            return self._render(request, task, form, status=400)
        except (TaskAlreadyClaimed, TaskNotOpen, TaskNotReady, CaseNotRunning) as exc:
            messages.error(request, exc.message)
            return redirect("inbox")
        except (SeparationOfDuties, CaseBusy) as exc:
            messages.error(request, exc.message)
            return redirect("task-detail", task_id=task.pk)
        messages.success(request, f"“{task.name}” completed.")
        return redirect("inbox")

    @staticmethod
    def _values(task) -> dict[str, Any]:
        return selectors.task_form_initial(task=task)

    def _render(self, request, task, form, status: int = 200) -> HttpResponse:
        context = {
            "task": task,
            "case": task.case,
            "form": form,
            "case_data": _data_rows(task.case.data),
            "claimed_by_other": task.assignee_id not in (None, request.user.pk),
            "actions": selectors.task_actions_for_user(user=request.user, task=task),
        }
        return render(request, self.template_name, context, status=status)


class TaskClaimView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        try:
            task = services.task_claim(user=request.user, task_id=task_id)
        except (TaskAlreadyClaimed, TaskNotOpen) as exc:
            messages.error(request, exc.message)
            return redirect("inbox")
        messages.success(request, f"You claimed “{task.name}”.")
        return redirect(_next_url(request, reverse("task-detail", args=[task.pk])))


class TaskUnclaimView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        try:
            task = services.task_unclaim(user=request.user, task_id=task_id)
        except (TaskAlreadyClaimed, TaskNotOpen) as exc:
            messages.error(request, exc.message)
            return redirect(_next_url(request, reverse("inbox")))
        messages.success(
            request, f"You released “{task.name}”; your group can pick it up."
        )
        return redirect(_next_url(request, reverse("inbox")))


class StartListView(LoginRequiredMixin, TemplateView):
    """The processes the user may start."""

    template_name = "tasks_app/start_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "processes": case_selectors.process_list_startable_for_user(
                user=self.request.user
            ),
        }


class CaseStartView(LoginRequiredMixin, View):
    """The start form of a process's latest version; POST starts a case."""

    template_name = "tasks_app/case_start.html"

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        version, start = self._start_event(key)
        form = ProcessForm(start.form if start else ())
        return self._render(request, version, start, form, BusinessKeyForm())

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        version, start = self._start_event(key)
        form = ProcessForm(start.form if start else (), request.POST)
        extra = BusinessKeyForm(request.POST)
        if not extra.is_valid():
            return self._render(request, version, start, form, extra, status=400)
        try:
            case, _ = case_services.case_start(
                user=request.user,
                key=key,
                data=form.submitted(),
                business_key=extra.cleaned_data["business_key"],
            )
        except FormInvalid as exc:
            form.show_errors(exc.details.get("fields", {}))
            return self._render(request, version, start, form, extra, status=400)
        messages.success(request, f"{version.definition.name} started.")
        return redirect("case-detail", case_id=case.pk)

    def _start_event(self, key: str):
        return case_selectors.process_start_form_for_user(
            user=self.request.user, key=key
        )

    def _render(
        self, request, version, start, form, extra, status: int = 200
    ) -> HttpResponse:
        context = {"version": version, "start": start, "form": form, "extra": extra}
        return render(request, self.template_name, context, status=status)


class CaseListView(LoginRequiredMixin, TemplateView):
    template_name = "tasks_app/case_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        status = self.request.GET.get("status") or ""
        status = status if status in Case.Status.values else ""
        process = self.request.GET.get("process") or ""
        mine = self.request.GET.get("mine") == "1"
        keep = {"process": process, "mine": "1" if mine else ""}
        cases = case_selectors.case_list_for_user(
            user=self.request.user,
            status=status or None,
            key=process or None,
            started_by_me=mine,
        )
        return {
            **super().get_context_data(**kwargs),
            "cases": cases[:200],
            "mine": mine,
            "keep": urlencode({k: v for k, v in keep.items() if v}),
            "status": status,
            "process": process,
            "statuses": Case.Status.choices,
        }


def _short_payload(payload: dict[str, Any]) -> str:
    shown = {k: v for k, v in payload.items() if k not in ("task", "name", "element")}
    text = ", ".join(
        f"{k}: {display_value(v)}" for k, v in shown.items() if v not in ("", None, [])
    )
    return text if len(text) <= 160 else text[:159] + "…"


def _timeline(case: Case) -> list[dict[str, Any]]:
    names = dict(spec_for(case.version).meta.element_names)
    rows = []
    for event in audit_selectors.audit_list_for_case(case_id=case.pk):
        bpmn_id = event.payload.get("element") or event.task_ref.split(":")[0]
        rows.append(
            {
                "at": event.at,
                "actor": event.actor_repr or "system",
                "action": event.action,
                "element": event.payload.get("name") or names.get(bpmn_id) or bpmn_id,
                "payload": _short_payload(event.payload),
            }
        )
    return rows


class CaseDetailView(LoginRequiredMixin, TemplateView):
    template_name = "tasks_app/case_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        case = case_selectors.case_get(
            user=self.request.user, case_id=kwargs["case_id"]
        )
        user = self.request.user
        tasks = selectors.task_list_for_case(case=case, user=user)
        workable = {
            t.pk for t in selectors.inbox_list_for_user(user=user, case_id=case.pk)
        }
        return {
            **super().get_context_data(**kwargs),
            "case": case,
            "case_data": _data_rows(case.data),
            "open_tasks": [t for t in tasks if t.is_open],
            "done_tasks": [t for t in tasks if not t.is_open],
            "incidents": list(case_selectors.incident_list_for_case(case=case)),
            "workable": workable,
            "can_cancel": case.is_running
            and case_selectors.case_can_cancel(user=user, case=case),
            "timeline": _timeline(case),
            "element_states": case_selectors.case_element_states(case=case),
        }


class CaseCancelView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, case_id: str) -> HttpResponse:
        form = CaseCancelForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            case_services.case_cancel(user=request.user, case_id=case_id, reason=reason)
        except CaseNotRunning as exc:
            messages.error(request, exc.message)
            return redirect("case-detail", case_id=case_id)
        messages.success(request, "The case was cancelled.")
        return redirect("case-detail", case_id=case_id)
