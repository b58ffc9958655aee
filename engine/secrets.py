"""Named connections and secrets from the environment, never from diagrams or cases.

ENGINE_SECRETS='{"erp_token": "..."}' and ENGINE_CONNECTIONS='{"erp": {"url":
"https://erp.example/api", "headers": {"Authorization": "Bearer
{{secret:erp_token}}"}}}' (JSON), or the same two keys, "secrets" and "connections",
in the JSON file named by ENGINE_SECRETS_FILE. A diagram names a connection
(`connection="erp"`) or a secret (`{{secret:erp_token}}` in a parameter); the worker
resolves them when it makes the call, and `secrets_redact` replaces every secret value
in what the call returns or raises, so none reaches case data, incidents, the audit
log or logs.
"""

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings

REDACTED = "[redacted]"
_REFERENCE = re.compile(r"\{\{\s*secret:([A-Za-z0-9_.-]+)\s*\}\}")


class SecretNotFound(Exception):
    """A diagram names a secret or connection the environment does not define."""


def _from_file() -> dict[str, Any]:
    path = getattr(settings, "ENGINE_SECRETS_FILE", "")
    if not path:
        return {}
    loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def secrets_all() -> dict[str, str]:
    """Return {secret name: value} from the settings and the secrets file."""
    found = {
        **getattr(settings, "ENGINE_SECRETS", {}),
        **_from_file().get("secrets", {}),
    }
    return {str(k): str(v) for k, v in found.items()}


def connection_get(name: str) -> dict[str, Any]:
    """Return the named connection ({"url", "headers", ...}).

    Raises:
        SecretNotFound: when no connection has that name.
    """
    found = {
        **getattr(settings, "ENGINE_CONNECTIONS", {}),
        **_from_file().get("connections", {}),
    }
    if name not in found or not isinstance(found[name], dict):
        raise SecretNotFound(f"no connection named '{name}' is configured")
    return dict(found[name])


def secrets_resolve(value: Any, secrets: dict[str, str]) -> Any:
    """Return `value` with every `{{secret:name}}` in its strings replaced.

    Raises:
        SecretNotFound: when a referenced secret is not configured.
    """
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            if match.group(1) not in secrets:
                raise SecretNotFound(
                    f"no secret named '{match.group(1)}' is configured"
                )
            return secrets[match.group(1)]

        return _REFERENCE.sub(one, value)
    if isinstance(value, dict):
        return {k: secrets_resolve(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [secrets_resolve(v, secrets) for v in value]
    return value


def secrets_redact(value: Any, secrets: dict[str, str] | None = None) -> Any:
    """Return `value` with every configured secret value in its strings redacted."""
    secrets = secrets_all() if secrets is None else secrets
    known = sorted((s for s in secrets.values() if s), key=len, reverse=True)
    if not known:
        return value
    if isinstance(value, str):
        for secret in known:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {
            secrets_redact(k, secrets): secrets_redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [secrets_redact(v, secrets) for v in value]
    return value
