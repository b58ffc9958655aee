"""Production hardening is one environment away (issue 14, item 4).

`manage.py check --deploy` and a request over plain HTTP run in a fresh process with the
production environment documented in .env.example, exactly as an operator would set it.
"""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import ROOT


def example_environment() -> dict[str, str]:
    """Return .env.example's variables, with a real SECRET_KEY in place of change-me."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    assert values["SECRET_KEY"] == "change-me"  # documented as "replace me"
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **values,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_values_of_env_example():
    result = run(["manage.py", "check", "--deploy"], example_environment())
    assert result.returncode == 0, result.stderr
    issues = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith("?:")
    ]
    assert issues == []


def test_check_deploy_warns_without_them():
    """The quick start's environment is not production: check --deploy says so."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    output = run(["manage.py", "check", "--deploy"], env).stderr
    for check in ("W004", "W008", "W012", "W016"):
        assert f"security.{check}" in output


PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
plain = client.get("/login/", HTTP_HOST="laneway.example.com")
health = client.get("/healthz", HTTP_HOST="laneway.example.com")
tls = client.get(
    "/login/", HTTP_HOST="laneway.example.com", HTTP_X_FORWARDED_PROTO="https"
)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "health_redirected": health.status_code in (301, 302),
    "hsts": tls.get("Strict-Transport-Security", ""),
    "csp": tls.get("Content-Security-Policy", ""),
    "csrf_cookie": {
        k: str(v) for k, v in tls.cookies["csrftoken"].items() if v
    },
}))
"""


def test_the_production_environment_forces_https_with_hsts_and_secure_cookies():
    env = example_environment()
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]  # /healthz needs a database
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://laneway.example.com/login/"]
    assert seen["health_redirected"] is False  # load balancers probe over HTTP
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in seen["csp"]
    assert seen["csrf_cookie"]["secure"] == "True"
    assert seen["csrf_cookie"]["samesite"] == "Lax"


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_without_unsafe_inline(users):
    client = Client()
    client.force_login(users["requester"])
    for response in (Client().get("/login/"), client.get("/"), client.get("/cases/")):
        policy = response["Content-Security-Policy"]
        directives = dict(
            (part.split()[0], part.split()[1:])
            for part in policy.split(";")
            if part.strip()
        )
        assert directives["default-src"] == ["'self'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.mark.django_db
def test_the_api_docs_page_runs_no_inline_script_and_serves_swagger_ui_itself(users):
    client = Client()
    client.force_login(users["requester"])
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert "<script>" not in html  # the split view serves its script as a file
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "cdn" not in html.lower()
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', html).group(1)
    assert client.get(script.replace("&amp;", "&")).status_code == 200
