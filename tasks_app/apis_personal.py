"""A person's own settings over the JSON API: saved inbox filters, notifications."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import paginated, paginated_response

from . import notifications, saved_filters


class SavedFilterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(help_text="Apply it: GET /api/v1/tasks/?<query>.")
    created_at = serializers.DateTimeField()


class SavedFilterListApi(APIView):
    """Your saved inbox filters; save one (same name replaces it)."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "SavedFilterInput"

        name = serializers.CharField(allow_blank=True, trim_whitespace=False)
        query = serializers.CharField(
            allow_blank=True,
            required=False,
            default="",
            trim_whitespace=False,
            help_text="The inbox query string, e.g. search=laptop&filter=overdue.",
        )

    @extend_schema(
        responses={200: paginated(SavedFilterOutput)},
        operation_id="v1_tasks_filters_list",
    )
    def get(self, request):
        items = saved_filters.filter_list_for_user(user=request.user)
        return paginated_response(
            request=request, view=self, items=items, serializer=SavedFilterOutput
        )

    @extend_schema(request=Input, responses={201: SavedFilterOutput})
    def post(self, request):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = saved_filters.filter_save(user=request.user, **payload.validated_data)
        return Response(SavedFilterOutput(saved).data, status=status.HTTP_201_CREATED)


class SavedFilterDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, filter_id):
        saved_filters.filter_delete(user=request.user, filter_id=filter_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileOutput(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    email_notifications = serializers.BooleanField(
        help_text="E-mail me when a task is offered, assigned or delegated to me, "
        "or becomes overdue."
    )


class ProfileApi(APIView):
    """Your settings: switch task e-mails on or off."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ProfileInput"

        email_notifications = serializers.BooleanField()

    @extend_schema(responses={200: ProfileOutput})
    def get(self, request):
        return Response(
            ProfileOutput(notifications.profile_get(user=request.user)).data
        )

    @extend_schema(request=Input, responses={200: ProfileOutput})
    def patch(self, request):
        payload = self.Input(data=request.data)
        payload.is_valid(raise_exception=True)
        profile = notifications.profile_update(
            user=request.user, **payload.validated_data
        )
        return Response(ProfileOutput(profile).data)
