"""Clients acting as a given user: the JSON API with a token, pages with a session."""

from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_for(user) -> APIClient:
    """Return an API client that sends the user's token (as a script would)."""
    api = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def signed_in_api(user, password: str) -> APIClient:
    """Return an API client holding the token the token endpoint gave the user."""
    api = APIClient()
    token = api.post(
        "/api/v1/auth/token/",
        {"username": user.get_username(), "password": password},
        format="json",
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def page_for(user) -> Client:
    """Return a browser-like client logged in as the user."""
    client = Client()
    client.force_login(user)
    return client
