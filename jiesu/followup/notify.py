"""Sending messages to requesters: a small interface with one backend per channel.

``JIESU["NOTIFY_BACKENDS"]`` maps a channel (``sms``, ``email``) to a backend class:

- ``OutboxBackend``: writes the message to the ``Outbox`` table (admin: Follow-up → Outbox)
  with status *queued*. This is the SMS channel out of the box: an SMS gateway is outside
  Jiesu and delivers the queued rows (or replace this backend with one that calls it).
- ``EmailBackend``: sends with Django's e-mail (``EMAIL_BACKEND``, ``DEFAULT_FROM_EMAIL``) and
  keeps a copy in the outbox, *sent* or *failed*.

A backend is any class with ``send(message) -> Outbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.core.mail import send_mail
from django.utils.module_loading import import_string

from jiesu import clock
from jiesu.followup.conf import knob
from jiesu.followup.models import Outbox, OutboxStatus

CHANNELS = ("sms", "email")


@dataclass(frozen=True)
class Message:
    channel: str
    to: str
    body: str
    subject: str = ""
    order_id: int | None = None
    kind: str = "callback_link"
    created_by_id: int | None = None


class Backend(Protocol):
    def send(self, message: Message) -> Outbox: ...


def _row(message: Message, status: str, error: str = "") -> Outbox:
    return Outbox.objects.create(
        channel=message.channel, to=message.to, subject=message.subject[:200], body=message.body,
        order_id=message.order_id, kind=message.kind, status=status, error=error,
        created_by_id=message.created_by_id, created_at=clock.now(),
    )


class OutboxBackend:
    """Queue the message in the outbox for a gateway (or a person) to deliver."""

    def send(self, message: Message) -> Outbox:
        return _row(message, OutboxStatus.QUEUED)


class EmailBackend:
    """Send with Django's e-mail; keep a copy in the outbox."""

    def send(self, message: Message) -> Outbox:
        try:
            send_mail(message.subject, message.body, None, [message.to], fail_silently=False)
        except Exception as err:  # noqa: BLE001 - any transport error is recorded, not raised
            return _row(message, OutboxStatus.FAILED, error=str(err)[:2000])
        return _row(message, OutboxStatus.SENT)


def backend_for(channel: str) -> Backend:
    path = (knob("NOTIFY_BACKENDS") or {}).get(channel)
    if not path:
        raise LookupError(f"no notification backend for {channel!r}")
    return import_string(path)()


def send(message: Message) -> Outbox:
    if message.channel not in CHANNELS:
        raise LookupError(f"unknown channel {message.channel!r}")
    return backend_for(message.channel).send(message)
