from django.urls import path

from . import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="cockpit-dashboard"),
    path("cases/<uuid:case_id>/", views.CaseRepairView.as_view(), name="cockpit-case"),
    path(
        "processes/<str:key>/versions/<int:number>/",
        views.VersionHeatmapView.as_view(),
        name="cockpit-version",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/migrate/",
        views.VersionMigrateView.as_view(),
        name="cockpit-version-migrate",
    ),
    path(
        "processes/<str:key>/migrations/<uuid:migration_id>/",
        views.MigrationView.as_view(),
        name="cockpit-migration",
    ),
]
