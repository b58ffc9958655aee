from django.urls import path

from . import views, views_cases, views_discussion, views_personal

urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("profile/", views_personal.ProfileView.as_view(), name="profile"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("filters/", views_personal.FilterSaveView.as_view(), name="filter-save"),
    path(
        "filters/<int:filter_id>/delete/",
        views_personal.FilterDeleteView.as_view(),
        name="filter-delete",
    ),
    path("start/", views_cases.StartListView.as_view(), name="start-list"),
    path("tasks/<uuid:task_id>/", views.TaskDetailView.as_view(), name="task-detail"),
    path(
        "tasks/<uuid:task_id>/claim/", views.TaskClaimView.as_view(), name="task-claim"
    ),
    path(
        "tasks/<uuid:task_id>/release/",
        views.TaskUnclaimView.as_view(),
        name="task-unclaim",
    ),
    path(
        "tasks/<uuid:task_id>/assign/",
        views.TaskHandOnView.as_view(),
        name="task-assign",
    ),
    path(
        "tasks/<uuid:task_id>/delegate/",
        views.TaskHandOnView.as_view(delegate=True),
        name="task-delegate",
    ),
    path("tasks/<uuid:task_id>/plan/", views.TaskPlanView.as_view(), name="task-plan"),
    path(
        "tasks/<uuid:task_id>/comments/",
        views_discussion.CommentAddView.as_view(),
        name="task-comment",
    ),
    path(
        "cases/<uuid:case_id>/comments/",
        views_discussion.CommentAddView.as_view(),
        name="case-comment",
    ),
    path(
        "cases/<uuid:case_id>/attachments/",
        views_discussion.AttachmentAddView.as_view(),
        name="case-attachment-add",
    ),
    path(
        "cases/<uuid:case_id>/attachments/<uuid:attachment_id>/",
        views_discussion.AttachmentDownloadView.as_view(),
        name="case-attachment",
    ),
    # The start page sits under /processes/ but lives here: it needs the engine,
    # which the processes app may not import.
    path(
        "processes/<str:key>/start/",
        views_cases.CaseStartView.as_view(),
        name="case-start",
    ),
    path("cases/", views_cases.CaseListView.as_view(), name="case-list"),
    path(
        "cases/<uuid:case_id>/",
        views_cases.CaseDetailView.as_view(),
        name="case-detail",
    ),
    path(
        "cases/<uuid:case_id>/cancel/",
        views_cases.CaseCancelView.as_view(),
        name="case-cancel",
    ),
    path(
        "cases/<uuid:case_id>/receive/<uuid:execution_id>/signal/",
        views_cases.CaseReceiveSignalView.as_view(),
        name="case-receive-signal",
    ),
]
