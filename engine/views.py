"""HTML views: the incidents of the cases the user may see, and fixing them."""

import json
from datetime import datetime
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
from .errors import (
    CancellationFailed,
    CaseBusy,
    CaseNotRunning,
    FormInvalid,
    IncidentNotOpen,
    IncidentSkipUnsupported,
    ModificationRefused,
)
from .incident_text import incident_sentence, incident_skippable
from .models import Incident

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


class IncidentDetailView(LoginRequiredMixin, TemplateView):
    template_name = "engine/incident_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        incident = selectors.incident_get(
            user=self.request.user, incident_id=kwargs["incident_id"]
        )
        return {
            **super().get_context_data(**kwargs),
            "incident": incident,
            "summary": incident_sentence(incident),
            "can_skip": incident_skippable(incident),
            "flows": (
                selectors.element_outgoing_flows(
                    case=incident.case, bpmn_id=incident.bpmn_id
                )
                if incident.kind != Incident.Kind.ENGINE and incident.bpmn_id
                else []
            ),
            "attempts": [
                {"at": _parse_time(a.get("at")), "message": a.get("message", "")}
                for a in incident.attempts
            ],
            "can_fix": incident.status == Incident.Status.OPEN
            and (
                incident.case.is_running
                or services.incident_fixable_after_end(incident, incident.case)
            )
            and self.request.user.has_perm("engine.retry_incident"),
        }


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _back(request: HttpRequest, incident_id: str) -> str:
    back = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    return reverse("incident-detail", args=[incident_id])


def _step(incident: Incident) -> str:
    return f"“{incident.element_name or incident.bpmn_id or 'the failed step'}”"


def _retry_message(request: HttpRequest, incident: Incident) -> None:
    if incident.kind == Incident.Kind.MESSAGE:
        if incident.status == Incident.Status.RESOLVED:
            messages.success(request, "The message was re-sent and reached its case.")
        else:
            messages.error(
                request, f"Re-sent; still not delivered: {incident_sentence(incident)}"
            )
        return
    if incident.status == Incident.Status.RESOLVED:
        messages.success(request, f"{_step(incident)} ran again and got through.")
    elif incident.retrying:
        messages.info(
            request,
            f"Retry of {_step(incident)} queued; this incident shows how it ends.",
        )
    else:
        messages.error(
            request, f"{_step(incident)} failed again: {incident_sentence(incident)}"
        )


class IncidentActionView(LoginRequiredMixin, View):
    """POST one fix (retry, skip, cancel case); errors become a message, not a 500."""

    def act(self, request: HttpRequest, incident_id: str) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, incident_id: str) -> HttpResponse:
        try:
            self.act(request, incident_id)
        except IncidentNotOpen as exc:
            messages.error(request, exc.message)
        except (
            CancellationFailed,
            CaseNotRunning,
            CaseBusy,
            IncidentSkipUnsupported,
            FormInvalid,
            ModificationRefused,
        ) as exc:
            messages.error(request, exc.message)
        return redirect(_back(request, incident_id))


class IncidentRetryView(IncidentActionView):
    def act(self, request: HttpRequest, incident_id: str) -> None:
        incident = services.incident_retry(user=request.user, incident_id=incident_id)
        _retry_message(request, incident)


class IncidentSkipView(IncidentActionView):
    def act(self, request: HttpRequest, incident_id: str) -> None:
        try:
            data = json.loads(request.POST.get("data") or "{}")
        except ValueError:
            data = None  # the service refuses it once it knows who may skip
        flow = request.POST.get("flow", "")
        incident = services.incident_skip(
            user=request.user,
            incident_id=incident_id,
            data=data,
            flow=flow,
            reason=request.POST.get("reason", "")[:1000],
        )
        if incident.kind == Incident.Kind.MESSAGE:
            messages.success(request, "The message was dropped; nothing was sent.")
        elif flow:
            messages.success(
                request, f"The case took the chosen path past {_step(incident)}."
            )
        else:
            messages.success(
                request, f"{_step(incident)} completed with the data you entered."
            )


class IncidentCancelCaseView(IncidentActionView):
    def act(self, request: HttpRequest, incident_id: str) -> None:
        services.incident_cancel_case(
            user=request.user,
            incident_id=incident_id,
            reason=request.POST.get("reason", "")[:1000],
            skip_custom_listeners=request.POST.get("skip_custom_listeners") == "on",
        )
        messages.success(request, "The case is cancelled; its incidents are resolved.")
