from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class Input(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(
            style={"input_type": "password"}, trim_whitespace=False
        )

    class Output(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=Input, responses={200: Output})
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Unable to log in with the given username and password."
                    ]
                }
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
