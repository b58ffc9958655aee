"""HTML views: process definitions, versions and uploads (see templates/processes/)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import TemplateView

from . import selectors, services
from .errors import BpmnInvalid
from .forms import VersionUploadForm
from .staffing import version_staffing, version_start_offer


def deployed_message(deployed: list[services.DeployedVersion]) -> str:
    """Return "key v2 deployed" / "key unchanged (identical to v1)" for each process."""
    parts = []
    for item in deployed:
        key, number = item.version.definition.key, item.version.number
        parts.append(
            f"{key} v{number} deployed"
            if item.created
            else f"{key} unchanged (identical to v{number})"
        )
    return "; ".join(parts) + "."


def deployed_warnings(deployed: list[services.DeployedVersion]) -> list[str]:
    """Return each new version's upload warnings as "key vN: line L: message"."""
    lines = []
    for item in (d for d in deployed if d.created):
        version = item.version
        for warning in version.warnings:
            where = f"line {warning['line']}: " if warning.get("line") else ""
            lines.append(
                f"{version.definition.key} v{version.number}: {where}"
                f"{warning['message']}"
            )
    return lines


class ProcessListView(LoginRequiredMixin, TemplateView):
    template_name = "processes/process_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "definitions": selectors.definition_list(),
            "upload_form": VersionUploadForm(),
        }


class VersionUploadView(LoginRequiredMixin, View):
    """Upload a BPMN file (and DMN files); every problem is listed with its location."""

    template_name = "processes/upload.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated:  # the login redirect comes first
            services.deploy_check(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": VersionUploadForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = VersionUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        upload = form.cleaned_data["file"]
        try:
            deployed = services.version_upload_files(
                user=request.user,
                upload=upload,
                dmn_uploads=form.cleaned_data["dmn"],
                form_uploads=form.cleaned_data["form_files"],
                default_group=form.cleaned_data["default_group"],
                columns=form.cleaned_data["columns"],
            )
        except BpmnInvalid as exc:
            context = {
                "form": VersionUploadForm(),
                "invalid": exc,
                "problems": exc.details.get("errors", []),
                "filename": exc.details.get("file", upload.name),
            }
            return render(request, self.template_name, context, status=400)
        messages.success(request, deployed_message(deployed))
        for warning in deployed_warnings(deployed):
            messages.warning(request, warning)
        return redirect("process-detail", key=deployed[0].version.definition.key)


class ProcessDetailView(LoginRequiredMixin, TemplateView):
    template_name = "processes/process_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        key = kwargs["key"]
        latest = selectors.version_latest_deployed(key=key)
        return {
            **super().get_context_data(**kwargs),
            "definition": selectors.definition_get(key=key),
            "versions": selectors.version_list(key=key),
            "latest": latest,
            "staffing": version_staffing(version=latest) if latest else None,
            "start_offer": (
                version_start_offer(user=self.request.user, version=latest)
                if latest
                else None
            ),
        }


class VersionDetailView(LoginRequiredMixin, TemplateView):
    template_name = "processes/version_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        version = selectors.version_get(key=kwargs["key"], number=kwargs["number"])
        # The start page starts the current version (Camunda 7's Tasklist starts
        # a definition's latest version): the Start button follows that one.
        current = selectors.version_latest_deployed(key=kwargs["key"])
        if current is not None and current.pk == version.pk:
            current = version  # one object: its diagram is compiled once
        return {
            **super().get_context_data(**kwargs),
            "version": version,
            "definition": version.definition,
            "current": current,
            "is_current": current is not None and current.pk == version.pk,
            "staffing": version_staffing(version=version),
            "start_offer": (
                version_start_offer(user=self.request.user, version=current)
                if current
                else None
            ),
        }


class VersionXmlView(LoginRequiredMixin, View):
    """The version's BPMN exactly as uploaded."""

    def get(self, request: HttpRequest, key: str, number: int) -> HttpResponse:
        version = selectors.version_get(key=key, number=number)
        response = HttpResponse(
            bytes(version.original_xml), content_type="application/xml"
        )
        disposition = "attachment" if request.GET.get("download") else "inline"
        response["Content-Disposition"] = (
            f'{disposition}; filename="{key}-v{number}.bpmn"'
        )
        return response
