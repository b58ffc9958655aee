"""POST /api/v1/messages/: deliver a message to the waiting case(s) or start one."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import FormInvalid
from .json_safety import StorableJSONField
from .services import message_deliver


class MessageSendApi(APIView):
    """Deliver a message; 200 lists the cases it reached, 201 the case it started."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MessageInput"

        name = serializers.CharField()
        correlation = StorableJSONField(required=False, default=dict)
        # A field named "data" shadows Serializer.data in the stubs only.
        data = StorableJSONField(required=False, default=dict)  # type: ignore[assignment]
        all = serializers.BooleanField(required=False, default=False)

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "MessageOutput"

        delivered = serializers.ListField(child=serializers.UUIDField())
        started = serializers.ListField(child=serializers.UUIDField())

    @extend_schema(request=Input, responses={200: Output, 201: Output})
    def post(self, request):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        for key in ("correlation", "data"):
            if not isinstance(body[key], dict):
                raise FormInvalid(
                    f"'{key}' must be a JSON object.", details={"fields": {}}
                )
        result = message_deliver(
            user=request.user,
            name=body["name"],
            correlation=body["correlation"],
            data=body["data"],
            deliver_all=body["all"],
        )
        return Response(
            self.Output(result).data,
            status=status.HTTP_201_CREATED if result.started else status.HTTP_200_OK,
        )
