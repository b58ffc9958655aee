from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .authentication import token_issue, token_revoke


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class TokenInput(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(
            style={"input_type": "password"}, trim_whitespace=False
        )

    class TokenOutput(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=TokenInput, responses={200: TokenOutput})
    def post(self, request):
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes counts failures on the Django request; once the username or
        # the address is locked out, AxesMiddleware answers 429 (config.security).
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Unable to log in with the given username and password."
                    ]
                }
            )
        # A token is a sign-in: django-axes resets the failures, last_login moves.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response({"token": token_issue(user=user).key})


class TokenRevokeApi(APIView):
    """Revoke your API token (log out): it answers 401 from now on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(user=request.user)
        return Response(status=204)
