from django.urls import path

from . import views

urlpatterns = [
    path("", views.ProcessListView.as_view(), name="process-list"),
    path("upload/", views.VersionUploadView.as_view(), name="version-upload"),
    path("<str:key>/", views.ProcessDetailView.as_view(), name="process-detail"),
    path(
        "<str:key>/v<int:number>/",
        views.VersionDetailView.as_view(),
        name="version-detail",
    ),
    path(
        "<str:key>/v<int:number>/bpmn/",
        views.VersionXmlView.as_view(),
        name="version-xml",
    ),
]
