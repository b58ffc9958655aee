"""Read-only Django admin views of versions, cases, tasks, incidents and audit events.

Every change goes through the services (locked, audited); the admin only shows.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent
from engine.models import Case, Incident
from processes.models import ProcessVersion
from tasks_app.models import HumanTask


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows and their fields; never add, change or delete one."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcessVersion)
class ProcessVersionAdmin(ReadOnlyAdmin):
    list_display = ("definition", "number", "status", "uploaded_by", "uploaded_at")
    list_filter = ("status",)
    search_fields = ("definition__key", "name")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "version",
        "business_key",
        "status",
        "has_incident",
        "started_at",
    )
    list_filter = ("status", "has_incident")
    search_fields = ("business_key", "id")
    exclude = ("request_fingerprint",)


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin):
    list_display = ("name", "case", "status", "assignee", "due_at", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "bpmn_id")


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "bpmn_id", "status", "created_at")
    list_filter = ("status", "kind")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_repr", "action", "case_id", "process_key", "task_ref")
    list_filter = ("action",)
    search_fields = ("actor_repr", "process_key", "task_ref")
