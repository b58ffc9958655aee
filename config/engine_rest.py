"""/engine-rest/: Camunda 7's external-task REST API, POST /condition,
POST /message, GET /execution, /execution/count and /execution/{id}, and
POST /execution/{id}/signal (engine.apis_external).

Mounted here because the authentication and error shape are configuration:
HTTP basic (Camunda's clients; failures counted by django-axes like the login),
or a Laneway API token as `Token` or `Bearer`; errors as Camunda's
`{"type", "message"}`.
"""

from django.urls import path

from engine import apis_external as api

from .authentication import (
    BearerTokenAuthentication,
    ExpiringTokenAuthentication,
    ThrottledBasicAuthentication,
)
from .errors import camunda_exception_handler

_AUTH = [
    ThrottledBasicAuthentication,  # first: a 401 asks for basic credentials
    ExpiringTokenAuthentication,
    BearerTokenAuthentication,
]


def _view(view_class: type[api.EngineRestView]):
    return view_class.as_view(
        authentication_classes=_AUTH, exception_handler=camunda_exception_handler
    )


urlpatterns = [
    path(
        "condition",
        _view(api.ConditionEvaluateApi),
        name="engine-rest-condition",
    ),
    path(
        "message",
        _view(api.MessageCorrelationApi),
        name="engine-rest-message",
    ),
    path(
        "execution",
        _view(api.ExecutionListApi),
        name="engine-rest-executions",
    ),
    path(
        "execution/count",
        _view(api.ExecutionCountApi),
        name="engine-rest-execution-count",
    ),
    path(
        "execution/<str:execution_id>",
        _view(api.ExecutionDetailApi),
        name="engine-rest-execution",
    ),
    path(
        "execution/<str:execution_id>/signal",
        _view(api.ExecutionSignalApi),
        name="engine-rest-execution-signal",
    ),
    path(
        "external-task",
        _view(api.ExternalTaskListApi),
        name="engine-rest-external-tasks",
    ),
    path(
        "external-task/count",
        _view(api.ExternalTaskCountApi),
        name="engine-rest-external-task-count",
    ),
    path(
        "external-task/fetchAndLock",
        _view(api.FetchAndLockApi),
        name="engine-rest-fetch-and-lock",
    ),
    path(
        "external-task/<str:task_id>",
        _view(api.ExternalTaskDetailApi),
        name="engine-rest-external-task",
    ),
    path(
        "external-task/<str:task_id>/complete",
        _view(api.CompleteApi),
        name="engine-rest-complete",
    ),
    path(
        "external-task/<str:task_id>/failure",
        _view(api.FailureApi),
        name="engine-rest-failure",
    ),
    path(
        "external-task/<str:task_id>/bpmnError",
        _view(api.BpmnErrorApi),
        name="engine-rest-bpmn-error",
    ),
    path(
        "external-task/<str:task_id>/extendLock",
        _view(api.ExtendLockApi),
        name="engine-rest-extend-lock",
    ),
    path(
        "external-task/<str:task_id>/lock",
        _view(api.LockApi),
        name="engine-rest-lock",
    ),
    path(
        "external-task/<str:task_id>/errorDetails",
        _view(api.ErrorDetailsApi),
        name="engine-rest-error-details",
    ),
    path(
        "external-task/<str:task_id>/unlock",
        _view(api.UnlockApi),
        name="engine-rest-unlock",
    ),
]
