"""POST /api/v1/signals/: broadcast a signal to every waiting case, start processes."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .apis import idempotency_key_of
from .errors import FormInvalid
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
        if not isinstance(body["data"], dict):
            raise FormInvalid("'data' must be a JSON object.", details={"fields": {}})
        result = signal_send(
            user=request.user,
            name=body["name"],
            data=body["data"],
            idempotency_key=idempotency_key_of(request),
        )
        return Response(self.Output(result.as_dict()).data, status=status.HTTP_200_OK)
