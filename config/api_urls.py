from django.urls import path

from audit import apis as audit_apis
from cockpit import apis as cockpit_apis
from engine import apis as engine_apis
from engine.apis_messages import KeptMessageListApi, MessageSendApi
from engine.apis_signals import ReceiveSignalApi, SignalSendApi
from processes import apis as process_apis
from tasks_app import apis as task_apis
from tasks_app import apis_cases as case_apis
from tasks_app import apis_discussion as discussion_apis
from tasks_app import apis_personal as personal_apis

from .apis import TokenObtainApi, TokenRevokeApi

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("auth/logout/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path(
        "processes/", process_apis.ProcessListUploadApi.as_view(), name="api-processes"
    ),
    path(
        "processes/<str:key>/versions/",
        process_apis.VersionListApi.as_view(),
        name="api-versions",
    ),
    path(
        "processes/<str:key>/start-form/",
        case_apis.StartFormApi.as_view(),
        name="api-process-start-form",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/start-form/",
        case_apis.StartFormApi.as_view(),
        name="api-version-start-form",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/xml/",
        process_apis.VersionXmlApi.as_view(),
        name="api-version-xml",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/statistics/",
        cockpit_apis.VersionStatisticsApi.as_view(),
        name="api-version-statistics",
    ),
    path(
        "processes/<str:key>/reports/cycle-times/",
        cockpit_apis.CycleTimeApi.as_view(),
        name="api-process-cycle-times",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/reports/tasks/",
        cockpit_apis.TaskReportApi.as_view(),
        name="api-version-task-report",
    ),
    path(
        "processes/<str:key>/migrations/",
        cockpit_apis.ProcessMigrationApi.as_view(),
        name="api-process-migrations",
    ),
    path(
        "processes/<str:key>/migrations/<uuid:migration_id>/",
        cockpit_apis.MigrationDetailApi.as_view(),
        name="api-process-migration",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/suspend/",
        cockpit_apis.VersionSuspendApi.as_view(),
        name="api-version-suspend",
    ),
    path(
        "processes/<str:key>/versions/<int:number>/resume/",
        cockpit_apis.VersionSuspendApi.as_view(resume=True),
        name="api-version-resume",
    ),
    path(
        "cases/<uuid:case_id>/suspend/",
        cockpit_apis.CaseSuspendApi.as_view(),
        name="api-case-suspend",
    ),
    path(
        "cases/<uuid:case_id>/resume/",
        cockpit_apis.CaseResumeApi.as_view(),
        name="api-case-resume",
    ),
    path(
        "cases/<uuid:case_id>/modify/",
        cockpit_apis.CaseModifyApi.as_view(),
        name="api-case-modify",
    ),
    path(
        "cases/<uuid:case_id>/data/",
        cockpit_apis.CaseDataApi.as_view(),
        name="api-case-data",
    ),
    path("cases/", case_apis.CaseListStartApi.as_view(), name="api-cases"),
    path("cases/<uuid:case_id>/", case_apis.CaseDetailApi.as_view(), name="api-case"),
    path(
        "cases/<uuid:case_id>/cancel/",
        case_apis.CaseCancelApi.as_view(),
        name="api-case-cancel",
    ),
    path(
        "cases/<uuid:case_id>/comments/",
        discussion_apis.CaseCommentsApi.as_view(),
        name="api-case-comments",
    ),
    path(
        "cases/<uuid:case_id>/attachments/",
        discussion_apis.CaseAttachmentsApi.as_view(),
        name="api-case-attachments",
    ),
    path(
        "cases/<uuid:case_id>/attachments/<uuid:attachment_id>/",
        discussion_apis.CaseAttachmentApi.as_view(),
        name="api-case-attachment",
    ),
    path(
        "tasks/<uuid:task_id>/comments/",
        discussion_apis.TaskCommentsApi.as_view(),
        name="api-task-comments",
    ),
    path("tasks/", task_apis.TaskListApi.as_view(), name="api-tasks"),
    path(
        "tasks/filters/",
        personal_apis.SavedFilterListApi.as_view(),
        name="api-task-filters",
    ),
    path(
        "tasks/filters/<int:filter_id>/",
        personal_apis.SavedFilterDetailApi.as_view(),
        name="api-task-filter",
    ),
    path("profile/", personal_apis.ProfileApi.as_view(), name="api-profile"),
    path("tasks/team/", task_apis.TaskTeamApi.as_view(), name="api-task-team"),
    path("tasks/counts/", task_apis.TaskCountsApi.as_view(), name="api-task-counts"),
    path("tasks/<uuid:task_id>/", task_apis.TaskDetailApi.as_view(), name="api-task"),
    path(
        "tasks/<uuid:task_id>/claim/",
        task_apis.TaskClaimApi.as_view(),
        name="api-task-claim",
    ),
    path(
        "tasks/<uuid:task_id>/unclaim/",
        task_apis.TaskUnclaimApi.as_view(),
        name="api-task-unclaim",
    ),
    path(
        "tasks/<uuid:task_id>/assign/",
        task_apis.TaskAssignApi.as_view(),
        name="api-task-assign",
    ),
    path(
        "tasks/<uuid:task_id>/delegate/",
        task_apis.TaskDelegateApi.as_view(),
        name="api-task-delegate",
    ),
    path(
        "tasks/<uuid:task_id>/complete/",
        task_apis.TaskCompleteApi.as_view(),
        name="api-task-complete",
    ),
    path("incidents/", engine_apis.IncidentListApi.as_view(), name="api-incidents"),
    path(
        "incidents/<uuid:incident_id>/retry/",
        engine_apis.IncidentRetryApi.as_view(),
        name="api-incident-retry",
    ),
    path(
        "incidents/<uuid:incident_id>/",
        engine_apis.IncidentDetailApi.as_view(),
        name="api-incident-detail",
    ),
    path(
        "incidents/<uuid:incident_id>/skip/",
        engine_apis.IncidentSkipApi.as_view(),
        name="api-incident-skip",
    ),
    path(
        "incidents/<uuid:incident_id>/cancel-case/",
        engine_apis.IncidentCancelCaseApi.as_view(),
        name="api-incident-cancel-case",
    ),
    path("messages/", MessageSendApi.as_view(), name="api-messages"),
    path("messages/kept/", KeptMessageListApi.as_view(), name="api-messages-kept"),
    path("signals/", SignalSendApi.as_view(), name="api-signals"),
    path(
        "executions/<str:execution_id>/signal/",
        ReceiveSignalApi.as_view(),
        name="api-execution-signal",
    ),
    path(
        "conditions/", case_apis.ConditionEvaluateApi.as_view(), name="api-conditions"
    ),
    path("audit/", audit_apis.AuditExportApi.as_view(), name="api-audit"),
    path("audit/verify/", audit_apis.AuditVerifyApi.as_view(), name="api-audit-verify"),
]
