"""POST /api/v1/messages/: deliver a message to the waiting case(s) or start one."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from .apis import idempotency_key_of
from .json_safety import StorableJSONField, json_object
from .models import BUSINESS_KEY_MAX_LENGTH
from .selectors import buffered_message_list
from .services import message_deliver


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans (CharField takes 42 as "42")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MessageSendApi(APIView):
    """Deliver a message; 200 lists the cases it reached, 201 the case it started.

    With `business_key`, only cases with that business key get it, and a case
    it starts gets that business key (Camunda 7's `processInstanceBusinessKey`).
    With `ttl_s`, a message no case waits for is kept that long for the first
    case that waits for it: 202 `{"buffered": id}`. An `Idempotency-Key`
    header replays the first answer to the same request.
    """

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "MessageInput"

        name = serializers.CharField()
        correlation = StorableJSONField(required=False, default=dict)
        # A field named "data" shadows Serializer.data in the stubs only.
        data = StorableJSONField(required=False, default=dict)  # type: ignore[assignment]
        all = serializers.BooleanField(required=False, default=False)
        business_key = StrictCharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            default="",
            max_length=BUSINESS_KEY_MAX_LENGTH,
            help_text="Only cases with this business key get the message, "
            "besides the correlation; a case the message starts gets it as its "
            "business key. Empty or null: any case.",
        )
        ttl_s = serializers.IntegerField(
            required=False,
            default=0,
            min_value=0,
            max_value=settings.ENGINE_MESSAGE_TTL_MAX_SECONDS,
            help_text="Keep the message this many seconds when no case waits "
            "for it yet (0: answer 404 instead).",
        )

    class Buffered(serializers.Serializer):
        class Meta:
            ref_name = "MessageBuffered"

        buffered = serializers.UUIDField()

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "MessageOutput"

        delivered = serializers.ListField(child=serializers.UUIDField())
        started = serializers.ListField(child=serializers.UUIDField())

    @extend_schema(
        request=Input,
        responses={200: Output, 201: Output, 202: Buffered},
        parameters=[OpenApiParameter("Idempotency-Key", str, location="header")],
    )
    def post(self, request):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        for key in ("correlation", "data"):
            json_object(body[key], key)
        result = message_deliver(
            user=request.user,
            name=body["name"],
            correlation=body["correlation"],
            data=body["data"],
            deliver_all=body["all"],
            ttl_s=body["ttl_s"],
            idempotency_key=idempotency_key_of(request),
            business_key=body["business_key"] or "",
        )
        if result.buffered:
            return Response(
                {"buffered": str(result.buffered)}, status=status.HTTP_202_ACCEPTED
            )
        return Response(
            self.Output(result).data,
            status=status.HTTP_201_CREATED if result.started else status.HTTP_200_OK,
        )


class KeptMessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    correlation = serializers.JSONField()
    # A field named "data" shadows Serializer.data in the stubs only.
    data = serializers.JSONField()  # type: ignore[assignment]
    business_key = serializers.CharField()
    sender = serializers.CharField(source="sender.username")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class KeptMessageListApi(APIView):
    """The messages kept (ttl_s) until a case waits for them (who may send messages)."""

    @extend_schema(responses={200: paginated(KeptMessageOutput)})
    def get(self, request):
        kept = buffered_message_list(user=request.user).select_related("sender")
        return paginated_response(
            request=request, view=self, items=kept, serializer=KeptMessageOutput
        )
