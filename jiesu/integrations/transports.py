"""How a message leaves Jiesu: one small interface, one class per way.

``JIESU["NOTIFY_TRANSPORTS"]`` maps a channel (``sms``, ``email``) to a class with
``send(*, to, subject, body) -> str`` that returns a reference (or "") and raises
``DeliveryError`` when the message did not go out (the row is then retried with backoff):

- ``ConsoleTransport`` (default): writes the message to the log (``jiesu.notify``, level INFO:
  ``JIESU_LOG_LEVEL=INFO`` shows it) and the row stays readable in the admin — for development
  and for a centre without a gateway yet.
- ``EmailTransport``: Django's e-mail (``EMAIL_BACKEND``, e.g. SMTP, ``DEFAULT_FROM_EMAIL``).
- ``HttpSmsTransport``: an HTTP SMS gateway, configured in ``JIESU["SMS_GATEWAY"]``:
  ``url``, ``format`` (``json`` or ``form``), ``headers`` (e.g. ``{"Authorization": "Bearer …"}``),
  ``fields`` (the gateway's names for ``to`` and ``text``, e.g. ``{"to": "mobile", "text": "content"}``),
  ``extra`` (constant fields such as a sign name). Any 2xx answer is success.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from django.core.mail import EmailMessage, get_connection

from jiesu.integrations.conf import http_timeout, knob

log = logging.getLogger("jiesu.notify")
EXCERPT = 500


class DeliveryError(Exception):
    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Transport(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> str: ...


class ConsoleTransport:
    def send(self, *, to: str, subject: str, body: str) -> str:
        log.info("message to %s: %s %s", to, subject, body)
        return "console"


class EmailTransport:
    """One connection (an SMTP session) for all the messages one instance sends: a fan-out's
    e-mails go in one session; ``close`` ends it."""

    def __init__(self) -> None:
        self.connection: Any = None

    def send(self, *, to: str, subject: str, body: str) -> str:
        try:
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
            EmailMessage(subject, body, None, [to], connection=self.connection).send(fail_silently=False)
        except Exception as err:  # noqa: BLE001 - any SMTP error means "try again later"
            self.close()  # a broken session is not reused
            raise DeliveryError(str(err)[:EXCERPT]) from err
        return "email"

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - the messages are sent; a failed QUIT changes nothing
                log.warning("closing the e-mail connection failed", exc_info=True)


def post(url: str, data: bytes, headers: dict[str, str], *, timeout: float | None = None) -> tuple[int, str]:
    """POST and return (status, body excerpt); raise DeliveryError when there is no answer.
    The standard library's client: a redirect is not followed for a POST, errors are answers."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - admin-set URL
    try:
        with urllib.request.urlopen(request, timeout=timeout or http_timeout()) as response:  # noqa: S310
            return response.status, response.read(4096).decode("utf-8", "replace")[:EXCERPT]
    except urllib.error.HTTPError as err:
        body = err.read(4096).decode("utf-8", "replace")[:EXCERPT] if err.fp else ""
        return err.code, body
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DeliveryError(str(getattr(err, "reason", err))[:EXCERPT]) from err


class HttpSmsTransport:
    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config if config is not None else (knob("SMS_GATEWAY") or {})
        if not self.config.get("url"):
            raise DeliveryError('JIESU["SMS_GATEWAY"]["url"] is not set')

    def send(self, *, to: str, subject: str, body: str) -> str:
        fields = {"to": "to", "text": "text", **self.config.get("fields", {})}
        values = {**self.config.get("extra", {}), fields["to"]: to, fields["text"]: body}
        headers = {"User-Agent": "Jiesu", **self.config.get("headers", {})}
        if self.config.get("format", "json") == "form":
            data = urllib.parse.urlencode(values).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(values, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        status, text = post(self.config["url"], data, headers)
        if not 200 <= status < 300:
            raise DeliveryError(f"gateway answered {status}", status=status, body=text)
        return text[:200]
