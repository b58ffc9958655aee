"""HTML views: the audit log for auditors (filters, export, chain verification)."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.views.generic import TemplateView

from . import selectors
from .errors import AuditFilterInvalid
from .filters import AuditFilters, audit_filters_parse
from .models import AuditEvent

PAGE_SIZE = 200
BROKEN_SHOWN = 100
_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"})


class AuditFilterForm(forms.Form):
    """Render the filters; `audit_filters_parse` (API and command too) reads them."""

    case = forms.CharField(label="Case id", required=False)
    process = forms.CharField(label="Process key", required=False)
    actor = forms.CharField(label="Actor", required=False)
    action = forms.CharField(
        label="Action",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. task.completed"}),
    )
    since = forms.CharField(label="Since", required=False, widget=_WHEN)
    until = forms.CharField(label="Until", required=False, widget=_WHEN)

    filters = AuditFilters()

    def clean(self) -> dict[str, Any]:
        try:
            self.filters = audit_filters_parse(self.data)
        except AuditFilterInvalid as exc:
            for name, message in exc.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return self.cleaned_data


class AuditLogView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "audit.export_auditevent"
    template_name = "audit/audit_log.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = AuditFilterForm(self.request.GET or None)
        valid = not form.is_bound or form.is_valid()
        events: list[AuditEvent] = []
        if valid:
            kwargs_ = form.filters.selector_kwargs()
            events = list(selectors.audit_list(**kwargs_).reverse()[:PAGE_SIZE])
        query = form.filters.as_query()
        context = {
            **super().get_context_data(**kwargs),
            "form": form,
            "events": events,
            "page_size": PAGE_SIZE,
            "export_ok": valid,
            "csv_query": urlencode({"format": "csv", **query}),
            "jsonl_query": urlencode({"format": "jsonl", **query}),
        }
        if self.request.GET.get("verify"):
            result = selectors.audit_verify()
            context["verification"] = result
            context["broken_shown"] = result.broken[:BROKEN_SHOWN]
        return context
