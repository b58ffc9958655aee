"""HTML views: the audit log for auditors (filters, export, chain verification)."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.views.generic import TemplateView

from . import selectors

PAGE_SIZE = 200


class AuditFilterForm(forms.Form):
    case = forms.UUIDField(label="Case id", required=False)
    process = forms.CharField(label="Process key", required=False, max_length=255)
    actor = forms.CharField(label="Actor", required=False, max_length=150)
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "e.g. task.completed"}),
    )
    since = forms.DateTimeField(
        label="Since",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label="Until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "case_id": data["case"],
            "process_key": data["process"] or None,
            "actor": data["actor"] or None,
            "action": data["action"] or None,
            "since": data["since"],
            "until": data["until"],
        }

    def export_query(self) -> dict[str, str]:
        """Return the same filters as query parameters of /api/v1/audit/."""
        data = self.cleaned_data
        query = {
            "case": str(data["case"] or ""),
            "process": data["process"],
            "actor": data["actor"],
            "action": data["action"],
            "since": data["since"].isoformat() if data["since"] else "",
            "until": data["until"].isoformat() if data["until"] else "",
        }
        return {name: value for name, value in query.items() if value}


class AuditLogView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "audit.export_auditevent"
    template_name = "audit/audit_log.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = AuditFilterForm(self.request.GET or None)
        events, query = [], {}
        if form.is_bound and form.is_valid():
            events = selectors.audit_list(**form.selector_filters()).reverse()[
                :PAGE_SIZE
            ]
            query = form.export_query()
        elif not form.is_bound:
            events = selectors.audit_list().reverse()[:PAGE_SIZE]
        context = {
            **super().get_context_data(**kwargs),
            "form": form,
            "events": events,
            "page_size": PAGE_SIZE,
            "csv_query": urlencode({"format": "csv", **query}),
            "jsonl_query": urlencode({"format": "jsonl", **query}),
        }
        if self.request.GET.get("verify"):
            context["verification"] = selectors.audit_verify()
        return context
