from django.urls import path

from . import views

# Case pages show tasks too, so they live in tasks_app (the layer above engine);
# the incident pages need the engine only.
urlpatterns = [
    path("", views.IncidentListView.as_view(), name="incident-list"),
    path(
        "<uuid:incident_id>/",
        views.IncidentDetailView.as_view(),
        name="incident-detail",
    ),
    path(
        "<uuid:incident_id>/skip/",
        views.IncidentSkipView.as_view(),
        name="incident-skip",
    ),
    path(
        "<uuid:incident_id>/cancel-case/",
        views.IncidentCancelCaseView.as_view(),
        name="incident-cancel-case",
    ),
    path(
        "<uuid:incident_id>/retry/",
        views.IncidentRetryView.as_view(),
        name="incident-retry",
    ),
]
