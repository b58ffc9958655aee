"""HTML views of a person's own settings: the profile (task e-mails), saved filters."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from . import notifications, saved_filters
from .errors import TaskInputInvalid


class ProfileView(LoginRequiredMixin, TemplateView):
    """Your settings; POST switches task e-mails on or off."""

    template_name = "tasks_app/profile.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "profile": notifications.profile_get(user=user),
            "filters": saved_filters.filter_list_for_user(user=user),
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        wanted = request.POST.get("email_notifications") == "on"
        notifications.profile_update(user=request.user, email_notifications=wanted)
        messages.success(
            request,
            "You will get e-mails about your tasks."
            if wanted
            else "You will get no more e-mails about tasks.",
        )
        return redirect("profile")


class FilterSaveView(LoginRequiredMixin, View):
    """Save the inbox's current query under a name."""

    def post(self, request: HttpRequest) -> HttpResponse:
        query = request.POST.get("query", "")
        try:
            saved = saved_filters.filter_save(
                user=request.user, name=request.POST.get("name", ""), query=query
            )
        except TaskInputInvalid as exc:
            messages.error(request, exc.message)
            return redirect(
                reverse("inbox") + "?" + saved_filters.filter_query_clean(query)
            )
        messages.success(request, f"Filter “{saved.name}” saved.")
        return redirect(reverse("inbox") + "?" + saved.query)


class FilterDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, filter_id: int) -> HttpResponse:
        saved_filters.filter_delete(user=request.user, filter_id=filter_id)
        messages.success(request, "Filter deleted.")
        return redirect("inbox")
