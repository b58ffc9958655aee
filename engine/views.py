"""HTML views: the incidents of the cases the user may see, and retrying them."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from . import selectors, services
from .errors import CaseBusy, CaseNotRunning, IncidentNotOpen

INCIDENT_FILTERS = {"open": "Open", "resolved": "Resolved", "all": "All"}
PAGE_SIZE = 200


class IncidentListView(LoginRequiredMixin, TemplateView):
    template_name = "engine/incident_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        status = self.request.GET.get("status", "open")
        status = status if status in INCIDENT_FILTERS else "open"
        incidents = selectors.incident_list_for_user(
            user=self.request.user, status=None if status == "all" else status
        )
        return {
            **super().get_context_data(**kwargs),
            "incidents": incidents[:PAGE_SIZE],
            "status": status,
            "filters": INCIDENT_FILTERS,
            "page_size": PAGE_SIZE,
        }


class IncidentRetryView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, incident_id: str) -> HttpResponse:
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            back, {request.get_host()}, request.is_secure()
        ):
            back = reverse("incident-list")
        try:
            incident = services.incident_retry(
                user=request.user, incident_id=incident_id
            )
        except IncidentNotOpen:
            messages.error(request, "This incident is already resolved.")
            return redirect(back)
        except (CaseNotRunning, CaseBusy) as exc:
            messages.error(request, exc.message)
            return redirect(back)
        step = incident.element_name or incident.bpmn_id or "the failed step"
        messages.success(
            request,
            f"Retried “{step}”. If it fails again, a new incident opens.",
        )
        return redirect(back)
