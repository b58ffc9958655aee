"""POST /api/v1/signals/: broadcast a signal to every waiting case, start processes;
POST /api/v1/executions/{id}/signal/: continue a receive task without a message."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .apis import idempotency_key_of
from .json_safety import StorableJSONField, json_object
from .services.receive_waits import receive_signal
from .services.signals import signal_send


class SignalSendApi(APIView):
    """Broadcast a signal; the answer lists the cases it reached and started.

    `pending`: cases that waited but were busy; each gets the signal once, later.
    """

    class Input(serializers.Serializer):
        name = serializers.CharField()
        # A field named "data" shadows Serializer.data in the stubs only.
        data = serializers.JSONField(required=False, default=dict)  # type: ignore[assignment]

    class Output(serializers.Serializer):
        delivered = serializers.ListField(child=serializers.UUIDField())
        started = serializers.ListField(child=serializers.UUIDField())
        # Waiting but busy (locked by another command): they get it once, later.
        pending = serializers.ListField(child=serializers.UUIDField())

    @extend_schema(
        request=Input,
        responses={200: Output},
        parameters=[OpenApiParameter("Idempotency-Key", str, location="header")],
    )
    def post(self, request):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        result = signal_send(
            user=request.user,
            name=body["name"],
            data=json_object(body["data"]),
            idempotency_key=idempotency_key_of(request),
        )
        return Response(self.Output(result.as_dict()).data, status=status.HTTP_200_OK)


class ReceiveSignalApi(APIView):
    """Continue a receive task without a message, waiting as execution `id`
    (Camunda 7's RuntimeService.signal): `data` becomes case variables first.

    The execution id is the one the case page shows and `/engine-rest/`
    answers. 404 `execution_not_waiting` when nothing waits as it (never, or
    already continued: a signal continues it once).
    """

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ReceiveSignalInput"

        # Bounded as a task's form data (size, depth, storable numbers).
        data = StorableJSONField(required=False, default=dict)  # type: ignore[assignment]

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "ReceiveSignalOutput"

        case = serializers.UUIDField()
        status = serializers.CharField()

    @extend_schema(request=Input, responses={200: Output})
    def post(self, request, execution_id):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        data = json_object(payload.validated_data["data"])
        case = receive_signal(user=request.user, execution_id=execution_id, data=data)
        return Response(self.Output({"case": case.pk, "status": case.status}).data)
