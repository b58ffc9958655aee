import json

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from common.errors import DomainError


def user_named(username: str):
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No active user '{username}'.") from None


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--data is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError("--data must be a JSON object.")
    return value


def domain_error(exc: DomainError) -> CommandError:
    fields = exc.details.get("fields")
    lines = [f"{exc.message} ({exc.code}, HTTP {int(exc.status)})"]
    for name, problems in (fields or {}).items():
        lines.append(f"  {name}: {'; '.join(map(str, problems))}")
    return CommandError("\n".join(lines))
