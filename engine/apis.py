"""Serializers of engine objects (the case API views live in tasks_app, which shows tasks too)."""

from rest_framework import serializers


class IncidentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    element = serializers.CharField(source="bpmn_id")
    element_name = serializers.CharField()
    error_type = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class CaseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    process = serializers.CharField(source="version.definition.key")
    version = serializers.IntegerField(source="version.number")
    business_key = serializers.CharField()
    started_by = serializers.CharField(source="started_by.username")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    has_incident = serializers.BooleanField()
