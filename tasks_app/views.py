"""HTML views: the inbox, the dashboard and the task pages (case pages: views_cases)."""

from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from common.pagination import page_of
from engine.errors import (
    AssignmentListenerFailed,
    CaseBusy,
    CaseNotRunning,
    CaseSuspended,
    FormInvalid,
    TaskCompletionFailed,
    TaskNoLongerOpen,
)
from engine.permissions import managed_groups
from processes.selectors import version_latest_deployed

from . import discussion, saved_filters, selectors, services
from .display import data_rows
from .errors import (
    SeparationOfDuties,
    TaskAlreadyClaimed,
    TaskError,
    TaskNotOpen,
)
from .forms import FormJsSubmission, ProcessForm, TaskPlanForm, TaskUserForm
from .lifecycle import TaskAction, transition_check
from .selectors import InboxQuery, InboxTab
from .team import team_list_for_manager

INBOX_TABS = {
    InboxTab.ALL: "All",
    InboxTab.MINE: "Assigned to me",
    InboxTab.UNASSIGNED: "Unassigned",
    InboxTab.OVERDUE: "Overdue",
    InboxTab.DUE_TODAY: "Due today",
}
INBOX_COLUMNS = {"created": "Created", "due": "Due", "priority": "Priority"}


DRAFT_KEY = "comment_draft"


def comment_draft(request: HttpRequest, target: str) -> str:
    """Return (and forget) the comment the user typed on `target` that was refused."""
    drafts = request.session.get(DRAFT_KEY) or {}
    text = drafts.pop(target, "")
    if text:
        request.session[DRAFT_KEY] = drafts
    return text


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


class InboxView(LoginRequiredMixin, TemplateView):
    """The inbox: tabs with counts, search, filters, sortable columns, one page."""

    template_name = "tasks_app/inbox.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user, params = self.request.user, self.request.GET
        query = InboxQuery.from_params(params)
        tasks = selectors.inbox_list_for_user(user=user, query=query)
        # One statement reads the tabs' counts and the process filter's choices;
        # the shown tab's count is the list's (no COUNT of the list).
        summary = selectors.inbox_summary_for_user(user=user, query=query)
        counts = summary.counts
        keep = {k: v for k, v in params.items() if k not in ("page", "filter", "show")}
        page = page_of(self.request, tasks, count=counts[str(query.tab)])
        return {
            **super().get_context_data(**kwargs),
            "page": page,
            "query": query,
            "show": str(query.tab),
            "tabs": [
                (str(tab), label, counts[str(tab)]) for tab, label in INBOX_TABS.items()
            ],
            "keep": urlencode(keep),
            "sort_links": _sort_links(params, query.sort),
            "processes": summary.processes,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "data_columns": _data_columns(query.process),
            "managed": managed_groups(user),
            "filters": saved_filters.filter_list_for_user(user=user),
            "current_query": saved_filters.filter_query_clean(params.urlencode()),
        }


def _data_columns(process: str) -> list[str]:
    """Return the business-data columns to show one by one (one process chosen)."""
    version = version_latest_deployed(key=process) if process else None
    return list(version.columns) if version else []


def _sort_links(params: Any, current: str) -> dict[str, dict[str, str]]:
    """Return, per sortable column, the link that sorts by it and its aria-sort."""
    links = {}
    for key in (*INBOX_COLUMNS, "process"):
        ascending = current == key
        target = f"-{key}" if ascending else key
        kept = {k: v for k, v in params.items() if k not in ("page", "sort")}
        state = (
            "ascending"
            if current == key
            else "descending"
            if current == f"-{key}"
            else "none"
        )
        links[key] = {"href": "?" + urlencode({**kept, "sort": target}), "aria": state}
    return links


class TeamView(LoginRequiredMixin, TemplateView):
    """The open tasks of the groups the user manages, to assign them."""

    template_name = "tasks_app/team.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "managed": managed_groups(user),
            "page": page_of(self.request, team_list_for_manager(user=user)),
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
        if task.form_js is not None:
            return self._render(request, task, FormJsSubmission.of_task(task))
        return self._render(
            request, task, ProcessForm(task.form, values=self._values(task))
        )

    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        form: ProcessForm | FormJsSubmission
        if task.form_js is not None:
            form = FormJsSubmission.of_task(task, request)
            data, files = form.data, form.files
        else:
            form = ProcessForm(task.form, request.POST, values=self._values(task))
            data, files = form.submitted(), {}
        try:
            if isinstance(form, FormJsSubmission) and form.unreadable:
                raise FormInvalid(form.unreadable, details={"fields": {}})
            services.task_complete(
                user=request.user, task_id=task.pk, data=data, files=files
            )
        except FormInvalid as exc:
            form.show_errors(exc.details.get("fields", {}), exc.message)
            return self._render(request, task, form, status=400)
        except (
            TaskAlreadyClaimed,
            TaskNotOpen,
            TaskNoLongerOpen,
            CaseNotRunning,
            CaseSuspended,
            TaskCompletionFailed,
            AssignmentListenerFailed,
        ) as exc:
            # Someone else was quicker (or the case was suspended meanwhile, or
            # the task's own listener or output failed): say so, and keep what
            # the user typed.
            fresh = selectors.task_get_for_user(user=request.user, task_id=task.pk)
            return self._render(request, fresh, form, status=409, conflict=exc.message)
        except (SeparationOfDuties, CaseBusy) as exc:
            messages.error(request, exc.message)
            return redirect("task-detail", task_id=task.pk)
        messages.success(request, f"“{task.name}” completed.")
        return redirect("inbox")

    @staticmethod
    def _values(task) -> dict[str, Any]:
        return selectors.task_form_initial(task=task)

    def _render(
        self, request, task, form, status: int = 200, conflict: str = ""
    ) -> HttpResponse:
        actions = selectors.task_actions_for_user(user=request.user, task=task)
        context = {
            "conflict": conflict,
            "candidates": selectors.task_candidate_names(task=task)
            if actions.assign or actions.delegate
            else [],
            "plan_form": TaskPlanForm(
                initial={
                    "due_at": timezone.localtime(task.due_at).strftime("%Y-%m-%dT%H:%M")
                    if task.due_at
                    else "",
                    "priority": task.priority,
                }
            ),
            "task": task,
            "case": task.case,
            "form": form,
            "case_data": data_rows(task.case.data),
            "claimed_by_other": task.assignee_id not in (None, request.user.pk),
            "actions": actions,
            **discussion.discussion_for_page(
                user=request.user, case=task.case, task=task
            ),
            "comment_action": reverse("task-comment", args=[task.pk]),
            "comment_draft": comment_draft(request, str(task.pk)),
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


class _TaskActionView(LoginRequiredMixin, View):
    """POST one task action from the task page.

    Who may not take the action gets the error page (404 or 403) before the form is
    read; a state conflict or a bad value comes back to the task page as a message.
    """

    form_class: type[forms.Form]
    action: TaskAction

    def act(self, request: HttpRequest, task_id: str, data: dict[str, Any]) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError

    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        transition_check(user=request.user, task=task, action=self.action)
        form = self.form_class(request.POST)
        back = redirect("task-detail", task_id=task_id)
        if not form.is_valid():
            for field, errors in form.errors.items():
                text = " ".join(str(e) for e in errors)
                messages.error(request, f"{form[field].label}: {text}")
            return back
        try:
            messages.success(request, self.act(request, task_id, form.cleaned_data))
        except TaskError as exc:
            if exc.status in (HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN):
                raise
            messages.error(request, exc.message)
        return back


class TaskHandOnView(_TaskActionView):
    """Assign (or, with delegate=True, delegate) the task to the user typed in."""

    form_class = TaskUserForm
    delegate = False

    @property
    def action(self) -> TaskAction:  # type: ignore[override]
        return TaskAction.DELEGATE if self.delegate else TaskAction.ASSIGN

    def act(self, request: HttpRequest, task_id: str, data: dict[str, Any]) -> str:
        name = data["user"]
        if self.delegate:
            task = services.task_delegate(
                user=request.user, task_id=task_id, delegate=name
            )
            return f"{name} will answer “{task.name}”; it then comes back to you."
        task = services.task_assign(user=request.user, task_id=task_id, assignee=name)
        return f"“{task.name}” is assigned to {name}."


class TaskPlanView(_TaskActionView):
    form_class = TaskPlanForm
    action = TaskAction.PLAN

    def act(self, request: HttpRequest, task_id: str, data: dict[str, Any]) -> str:
        task = services.task_plan(
            user=request.user,
            task_id=task_id,
            due_at=data["due_at"],
            priority=data["priority"],
        )
        return f"Due date and priority of “{task.name}” saved."
