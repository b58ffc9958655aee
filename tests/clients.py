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


def page_for(user) -> Client:
    """Return a browser-like client logged in as the user."""
    client = Client()
    client.force_login(user)
    return client
