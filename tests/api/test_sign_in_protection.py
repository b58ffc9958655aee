"""Sign-in protection (issue 14, item 3): lockouts, throttles, tokens, validators.

Everything goes through real HTTP: the token endpoint and the API with token auth, the
login form, the logout button and the admin's password form.
"""

import os
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.clients import api_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 3
lockout = override_settings(AXES_FAILURE_LIMIT=LIMIT)


def token_post(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def form_post(client: Client, username: str, password: str, address="10.0.0.1"):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


# --- lockout: token endpoint ------


@lockout
def test_token_endpoint_locks_a_user_out_after_repeated_failures(users):
    codes = [token_post("requester", f"guess-{n}").status_code for n in range(LIMIT)]
    assert codes == [400] * (LIMIT - 1) + [429]
    right = token_post("requester", PASSWORD)
    assert right.status_code == 429
    body = right.json()
    assert body["code"] == "login_locked_out" and "token" not in body
    assert int(right["Retry-After"]) == body["details"]["retry_after"] > 0
    assert not Token.objects.filter(user=users["requester"]).exists()


@lockout
def test_the_lockout_follows_the_username_across_addresses(users):
    for n in range(LIMIT):
        token_post("requester", "wrong", address=f"10.0.1.{n}")
    assert token_post("requester", PASSWORD, address="10.0.2.1").status_code == 429
    assert token_post("manager1", PASSWORD, address="10.0.2.1").status_code == 200


@lockout
def test_the_lockout_follows_the_address_across_usernames(users):
    for name in ["requester", "manager1", "nobody"]:
        token_post(name, "wrong", address="10.0.3.1")
    assert token_post("finance", PASSWORD, address="10.0.3.1").status_code == 429
    assert token_post("finance", PASSWORD, address="10.0.3.2").status_code == 200


@lockout
def test_signing_in_to_ones_own_account_does_not_reset_guesses_at_another(users):
    for _ in range(LIMIT - 1):
        assert token_post("manager1", "guess").status_code == 400
    assert token_post("requester", PASSWORD).status_code == 200  # attacker's own
    assert token_post("manager1", "guess").status_code == 429
    assert token_post("manager1", PASSWORD).status_code == 429


@lockout
@override_settings(AXES_COOLOFF_TIME=timedelta(seconds=1))
def test_a_locked_out_user_may_try_again_after_the_cool_off(users):
    for _ in range(LIMIT):
        token_post("requester", "wrong")
    assert token_post("requester", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=5))
    assert token_post("requester", PASSWORD).status_code == 200


@lockout
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(users):
    for n in range(LIMIT):  # a forged X-Forwarded-For entry does not help
        APIClient().post(
            "/api/v1/auth/token/",
            {"username": f"user{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7",
            REMOTE_ADDR="10.0.0.1",
        )
    blocked = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "finance", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        REMOTE_ADDR="10.0.0.1",
    )
    other = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "finance", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.8",
        REMOTE_ADDR="10.0.0.1",
    )
    assert (blocked.status_code, other.status_code) == (429, 200)


# --- lockout: login form ------


@lockout
def test_login_form_locks_out_and_says_so(users):
    client = Client()
    codes = [form_post(client, "manager1", f"guess-{n}").status_code for n in range(3)]
    assert codes == [200] * (LIMIT - 1) + [429]
    locked = form_post(client, "manager1", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert not signed_in(client)


@lockout
def test_failures_on_the_form_count_for_the_token_endpoint_too(users):
    client = Client()
    for _ in range(LIMIT):
        form_post(client, "manager1", "wrong")
    assert token_post("manager1", PASSWORD, address="10.9.9.9").status_code == 429


# --- throttles ------


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def throttled(rates: dict):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": rates,
        }
    )


def test_the_api_throttles_a_signed_in_user(users, fresh_cache):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {token_post('requester', PASSWORD).json()['token']}"
    )
    with throttled({"anon": "100/minute", "user": "3/minute"}):
        codes = [client.get("/api/v1/cases/").status_code for _ in range(4)]
        last = client.get("/api/v1/cases/")
    assert codes == [200, 200, 200, 429]
    assert last.json()["code"] == "throttled" and int(last["Retry-After"]) > 0


def test_the_api_throttles_anonymous_calls_per_address(users, fresh_cache):
    with throttled({"anon": "2/minute", "user": "100/minute"}):
        codes = [token_post("requester", PASSWORD).status_code for _ in range(3)]
        other_address = token_post("requester", PASSWORD, address="10.0.0.2")
    assert codes == [200, 200, 429]
    assert other_address.status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_anonymous_allowance(
    users, fresh_cache
):
    def forged(n: int):
        return APIClient().post(
            "/api/v1/auth/token/",
            {"username": "requester", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            REMOTE_ADDR="10.0.0.1",
        )

    with throttled({"anon": "2/minute", "user": "100/minute"}):
        codes = [forged(n).status_code for n in range(3)]
    assert codes == [200, 200, 429]


# --- tokens ------


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@override_settings(API_TOKEN_TTL_SECONDS=3600)
def test_a_token_expires_and_the_endpoint_then_issues_a_new_one(users):
    old = token_post("requester", PASSWORD).json()["token"]
    assert token_client(old).get("/api/v1/cases/").status_code == 200
    assert token_post("requester", PASSWORD).json()["token"] == old  # still live
    Token.objects.filter(key=old).update(
        created=timezone.now() - timedelta(seconds=3601)
    )
    expired = token_client(old).get("/api/v1/cases/")
    assert expired.status_code == 401 and expired.json()["code"] == "not_authenticated"
    new = token_post("requester", PASSWORD).json()["token"]
    assert new != old and len(new) == 40
    assert token_client(new).get("/api/v1/cases/").status_code == 200


def test_api_logout_revokes_the_token(users):
    token = token_post("requester", PASSWORD).json()["token"]
    client = token_client(token)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/cases/").status_code == 401


def test_logging_out_of_the_web_revokes_the_api_token(users):
    token = token_post("manager1", PASSWORD).json()["token"]
    browser = Client()
    assert form_post(browser, "manager1", PASSWORD).status_code == 302
    assert browser.post("/logout/").status_code == 302
    assert token_client(token).get("/api/v1/cases/").status_code == 401


# --- password validators ------


@pytest.fixture
def admin_client(users):
    admin = get_user_model().objects.create_superuser(
        "root", "root@example.com", PASSWORD
    )
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.parametrize("weak", ["password", "12345678901234", "short-1"])
def test_a_weak_password_is_refused_when_changed_through_a_form(
    admin_client, users, weak
):
    url = f"/admin/auth/user/{users['requester'].pk}/password/"
    response = admin_client.post(url, {"password1": weak, "password2": weak})
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["form"].errors
    assert token_post("requester", PASSWORD).status_code == 200
    assert token_post("requester", weak, address="10.0.0.5").status_code == 400


def test_a_strong_password_is_accepted_through_the_same_form(admin_client, users):
    url = f"/admin/auth/user/{users['requester'].pk}/password/"
    strong = "correct horse battery staple 42"
    response = admin_client.post(url, {"password1": strong, "password2": strong})
    assert response.status_code == 302
    assert token_post("requester", strong).status_code == 200


def test_a_deleted_token_or_deactivated_user_is_refused_at_once(users):
    """The token and its user are read on every request (one statement, no cache):
    deleting the token or deactivating the user takes effect on the next call."""
    token = token_post("manager1", PASSWORD).json()["token"]
    client = token_client(token)
    assert client.get("/api/v1/tasks/").status_code == 200
    user = users["manager1"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused = client.get("/api/v1/tasks/")
    assert (refused.status_code, refused.json()["message"]) == (
        401,
        "User inactive or deleted.",
    )
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert client.get("/api/v1/tasks/").status_code == 200
    Token.objects.filter(key=token).delete()
    refused = client.get("/api/v1/tasks/")
    assert (refused.status_code, refused.json()["message"]) == (401, "Invalid token.")
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bearer.get("/api/v1/tasks/").status_code == 401


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis (production's), emptied before and after."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "throttle-test",
        }
    }
    cache.clear()
    yield
    cache.clear()


def test_on_redis_the_user_throttle_counts_in_one_round_trip(users, redis_cache):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {token_post('requester', PASSWORD).json()['token']}"
    )
    other = api_for(users["manager1"])
    with throttled({"anon": "100/minute", "user": "3/minute"}):
        codes = [client.get("/api/v1/cases/").status_code for _ in range(4)]
        last = client.get("/api/v1/cases/")
        assert other.get("/api/v1/tasks/").status_code == 200  # per user
    assert codes == [200, 200, 200, 429]
    assert last.json()["code"] == "throttled"
    assert 0 < int(last["Retry-After"]) <= 60
    key = cache.make_and_validate_key(f"throttle_user_{users['requester'].pk}:log")
    client_of_redis = cache._cache.get_client(write=True)
    assert client_of_redis.zcard(key) == 3 and 0 < client_of_redis.ttl(key) <= 60
    # A window of one second: the next second allows again (DRF's sliding window).
    with throttled({"anon": "100/minute", "user": "1/second"}):
        client_of_redis.delete(key)
        assert client.get("/api/v1/cases/").status_code == 200
        assert client.get("/api/v1/cases/").status_code == 429
        time.sleep(1.05)
        assert client.get("/api/v1/cases/").status_code == 200
