"""Built-in operations: `http_request` and `send_email` (no Python code in diagrams).

Registered under their own names (SpiffArena `serviceTaskOperator id`, Camunda external
topic) and under Camunda's connector ids `http-connector` (`http_connector`, answering
with the connector's response variables) and `mail-send`, whose input parameters they
accept too (`payload` for the body, `text` for the mail body, `from`).
Secrets and connections are resolved here, in the worker, at call time (engine.secrets);
the caller redacts them from whatever comes back.
"""

import json as jsonlib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine

from .operations import BusinessError, operation_arguments
from .secrets import connection_get, secrets_all, secrets_resolve

_MAX_BYTES = 1024 * 1024


class HttpStatusError(Exception):
    """A non-2xx answer no error code was mapped for (a technical failure: retried)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header to wherever it points.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _target(connection: str, url: str, path: str) -> tuple[str, dict[str, Any]]:
    if not connection:
        if not url:
            raise ValueError("http_request needs a url or a connection")
        return url, {}
    conn = connection_get(connection)
    base = str(conn.get("url", "")).rstrip("/")
    return (f"{base}/{path.lstrip('/')}" if path else base), conn


def _answer(status: int, headers: Any, raw: bytes) -> dict[str, Any]:
    text = raw[:_MAX_BYTES].decode("utf-8", errors="replace")
    answer: dict[str, Any] = {"status": status, "headers": dict(headers.items())}
    if "json" in headers.get("Content-Type", ""):
        try:
            answer["json"] = jsonlib.loads(text)
            return answer
        except ValueError:
            pass
    answer["text"] = text
    return answer


def _error_code(codes: dict[str, str], status: int) -> str | None:
    return codes.get(str(status)) or codes.get(f"{str(status)[0]}xx")


def http_request(
    *,
    idempotency_key: str,
    url: str = "",
    connection: str = "",
    path: str = "",
    method: str = "GET",
    headers: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    json: Any = None,
    body: str | None = None,
    payload: str | None = None,
    timeout_s: float = 10,
    error_codes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Make one HTTP request; answer {"status", "headers", "json" or "text"}.

    A 2xx answer is the result. Another status is a BPMN error when `error_codes`
    maps it ({"404": "NOT_FOUND", "5xx": "ERP_DOWN"}), else a technical failure.
    TLS certificates are verified; redirects are not followed.
    """
    secrets = secrets_all()
    target, conn = _target(connection, url, path)
    sent_headers = {
        "Idempotency-Key": idempotency_key,
        **conn.get("headers", {}),
        **(headers or {}),
    }
    data: bytes | None = None
    if json is not None:
        data = jsonlib.dumps(secrets_resolve(json, secrets)).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    elif (text := body if body is not None else payload) is not None:
        data = str(secrets_resolve(text, secrets)).encode()
    address = secrets_resolve(target, secrets)
    if query:  # resolved before encoding; `target` (in error messages) keeps the names
        joiner = "&" if "?" in target else "?"
        address += joiner + urllib.parse.urlencode(secrets_resolve(query, secrets))
        target += joiner + urllib.parse.urlencode(query, safe="{}:")
    request = urllib.request.Request(
        address,
        data=data,
        method=method.upper(),
        headers={
            str(k): str(v) for k, v in secrets_resolve(sent_headers, secrets).items()
        },
    )
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPSHandler(context=ssl.create_default_context())
    )
    timeout = float(conn.get("timeout_s", timeout_s))
    try:
        with opener.open(request, timeout=timeout) as response:
            return _answer(response.status, response.headers, response.read(_MAX_BYTES))
    except urllib.error.HTTPError as exc:
        answer = _answer(exc.code, exc.headers, exc.read(_MAX_BYTES))
    code = _error_code(error_codes or {}, answer["status"])
    if code:
        raise BusinessError(code, f"HTTP {answer['status']}", answer)
    raise HttpStatusError(f"HTTP {answer['status']} from {method.upper()} {target}")


def http_connector(*, idempotency_key: str, **params: Any) -> dict[str, Any]:
    """Camunda's `http-connector`: `http_request`, answering with the connector's
    response variables `statusCode`, `headers` and `response` (the body as text),
    which the connector's output parameters map (`${statusCode}`, `${response}`).
    """
    answer = http_request(
        idempotency_key=idempotency_key, **operation_arguments(http_request, params)
    )
    body = answer.get("text")
    if body is None:
        body = jsonlib.dumps(answer.get("json"))
    return {
        "statusCode": answer["status"],
        "headers": answer["headers"],
        "response": body,
    }


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(a).strip() for a in items if str(a).strip()]


def _render(template: str, variables: dict[str, Any]) -> str:
    return Engine(autoescape=False).from_string(template).render(Context(variables))


def send_email(
    *,
    idempotency_key: str,
    to: Any,
    subject: str = "",
    body: str | None = None,
    text: str | None = None,
    html: str | None = None,
    cc: Any = None,
    variables: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Send one e-mail through Django's mail settings; answer {"to", "message_id"}.

    `body` (or Camunda's `text`) and `subject` are Django templates rendered with
    `variables` (e.g. `{"amount": amount}` from the case). The Message-ID comes from
    the idempotency key, so a repeated attempt can be recognised by the receiver.
    """
    variables = variables or {}
    recipients = _addresses(to)
    if not recipients:
        raise ValueError("send_email needs at least one address in 'to'")
    message_id = f"<{idempotency_key.replace(':', '.')}@laneway>"
    message = EmailMultiAlternatives(
        subject=_render(subject, variables),
        body=_render(body if body is not None else text or "", variables),
        from_email=extra.get("from")
        or extra.get("from_email")
        or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        cc=_addresses(cc),
        headers={"Message-ID": message_id},
    )
    if html:
        message.attach_alternative(_render(html, variables), "text/html")
    message.send(fail_silently=False)
    return {"to": recipients, "cc": _addresses(cc), "message_id": message_id}
