"""HTML views of cases: the start page and start form, the case list, a case, cancel.

They live in tasks_app, not engine, because a case page shows its human tasks.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from engine import selectors as case_selectors
from engine import services as case_services
from engine.errors import (
    CancellationFailed,
    CaseNotRunning,
    CaseSuspended,
    FormInvalid,
    ReceiveNotWaiting,
)
from engine.form_validation import start_form_js
from engine.models import Case

from . import discussion, selectors
from .display import data_rows, payload_summary
from .forms import BusinessKeyForm, CaseCancelForm, FormJsSubmission, ProcessForm
from .story import Outcome, case_story
from .views import comment_draft


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
    """The start form of a process's latest version; POST starts a case.

    A start event with a Camunda Form shows it with the form-js viewer, as the
    task page does (includes/form_js_viewer.html, static/js/form_js.js).
    """

    template_name = "tasks_app/case_start.html"

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        version, start, schema = self._start_event(key)
        return self._render(
            request, version, start, self._form(start, schema), BusinessKeyForm()
        )

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        version, start, schema = self._start_event(key)
        form = self._form(start, schema, request)
        extra = BusinessKeyForm(request.POST)
        if not extra.is_valid():
            return self._render(request, version, start, form, extra, status=400)
        try:
            case, _ = case_services.case_start(
                user=request.user,
                key=key,
                data=self._data(form),
                business_key=extra.cleaned_data["business_key"],
                tasklist=True,
            )
        except FormInvalid as exc:
            form.show_errors(exc.details.get("fields", {}), exc.message)
            return self._render(request, version, start, form, extra, status=400)
        messages.success(request, f"{version.definition.name} started.")
        return redirect("case-detail", case_id=case.pk)

    @staticmethod
    def _form(
        start: Any, schema: Any, request: HttpRequest | None = None
    ) -> ProcessForm | FormJsSubmission:
        if schema is not None:
            return FormJsSubmission(schema, {}, request)
        fields = start.form if start else ()
        return ProcessForm(fields, request.POST if request else None)

    @staticmethod
    def _data(form: ProcessForm | FormJsSubmission) -> Any:
        """Return what the page sent, as the service takes it."""
        if not isinstance(form, FormJsSubmission):
            return form.submitted()
        if form.unreadable:
            raise FormInvalid(form.unreadable, details={"fields": {}})
        return form.data

    def _start_event(self, key: str):
        user = self.request.user
        version, start = case_selectors.process_start_form_for_user(
            user=user, key=key, tasklist=True
        )
        return version, start, start_form_js(version, start)

    def _render(
        self, request, version, start, form, extra, status: int = 200
    ) -> HttpResponse:
        context = {
            "version": version,
            "start": start,
            "form": form,
            "form_js": isinstance(form, FormJsSubmission),
            "extra": extra,
        }
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


def _timeline(case: Case) -> tuple[Outcome | None, list[dict[str, Any]]]:
    outcome, items = case_story(case=case)
    return outcome, [
        {**item, "payload": payload_summary(item["details"])} for item in items
    ]


class CaseDetailView(LoginRequiredMixin, TemplateView):
    template_name = "tasks_app/case_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        case = case_selectors.case_get(
            user=self.request.user, case_id=kwargs["case_id"]
        )
        user = self.request.user
        outcome, timeline = _timeline(case)
        tasks = selectors.task_list_for_case(case=case, user=user)
        workable = {
            t.pk for t in selectors.inbox_list_of_case(user=user, case_id=case.pk)
        }
        incidents = list(case_selectors.incident_list_for_case(case=case))
        return {
            **super().get_context_data(**kwargs),
            "case": case,
            "case_data": data_rows(case.data),
            "open_tasks": [t for t in tasks if t.is_open],
            "waiting_events": case_selectors.case_waiting_list(case=case),
            "done_tasks": [t for t in tasks if not t.is_open],
            "incidents": incidents,
            "workable": workable,
            "can_cancel": case.is_running
            and case_selectors.case_can_cancel(user=user, case=case),
            "timeline": timeline,
            "outcome": outcome,
            "element_states": case_selectors.case_element_states(
                case=case, incidents=incidents
            ),
            **discussion.discussion_for_page(user=user, case=case),
            "comment_action": reverse("case-comment", args=[case.pk]),
            "comment_draft": comment_draft(self.request, str(case.pk)),
        }


class CaseCancelView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, case_id: str) -> HttpResponse:
        form = CaseCancelForm(request.POST)
        valid = form.is_valid()
        try:
            case_services.case_cancel(
                user=request.user,
                case_id=case_id,
                reason=form.cleaned_data["reason"] if valid else "",
                skip_custom_listeners=(
                    valid and form.cleaned_data["skip_custom_listeners"]
                ),
            )
        except (CaseNotRunning, CancellationFailed) as exc:
            messages.error(request, exc.message)
            return redirect("case-detail", case_id=case_id)
        messages.success(request, "The case was cancelled.")
        return redirect("case-detail", case_id=case_id)


class CaseReceiveSignalView(LoginRequiredMixin, View):
    """Continue a receive task without a message the case waits at (operators)."""

    def post(
        self, request: HttpRequest, case_id: str, execution_id: str
    ) -> HttpResponse:
        case = case_selectors.case_get(user=request.user, case_id=case_id)
        try:
            case_services.receive_signal(
                user=request.user, execution_id=execution_id, data={}, case_id=case.pk
            )
        except (ReceiveNotWaiting, CaseSuspended) as exc:
            messages.error(request, exc.message)
            return redirect("case-detail", case_id=case.pk)
        messages.success(request, "The case went on past the receive task.")
        return redirect("case-detail", case_id=case.pk)
