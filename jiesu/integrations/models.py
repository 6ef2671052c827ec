"""Integration rows: notification templates and messages, webhook subscriptions and deliveries.

A message and a delivery are rows before they are network calls: the row is written first
(after the order's transaction committed), then a task tries to send it, and the row keeps
every attempt's outcome. So a gateway that is down never blocks or undoes a work order, and
nothing is lost: a later attempt (task, or ``jiesu deliver``) picks the row up again.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.orders.models import Event, WorkOrder
from jiesu.org.models import Unit


class NotificationKind(models.TextChoices):
    RECEIVED = "received", _("Requester: request received")
    REPLIED = "replied", _("Requester: the unit replied")
    CALLBACK_LINK = "callback_link", _("Requester: callback link")
    ASSIGNED = "assigned", _("Handler: new assignment")
    DEADLINE_SOON = "deadline_soon", _("Handler: deadline approaching")
    REOPENED = "reopened", _("Handler: order reopened")
    # The legal services' messages (jiesu.services.tasks): their text is written there.
    BOOKING_CONFIRMED = "booking_confirmed", _("Requester: appointment booked")
    BOOKING_MOVED = "booking_moved", _("Requester: appointment moved")
    BOOKING_REMINDER = "booking_reminder", _("Requester: appointment reminder")


class NotifyChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class NotificationTemplate(models.Model):
    """The text of one kind of message, per channel and language, editable in the admin. The
    defaults are seeded by a migration; ``{{ number }}`` and the like are filled in when sent."""

    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=NotifyChannel.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["kind", "channel", "language"]
        constraints = [models.UniqueConstraint(fields=["kind", "channel", "language"], name="notify_template_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.channel} · {self.language}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")


class Notification(models.Model):
    """One message to one recipient. ``key`` makes creating it idempotent (a re-run task or
    sweep finds the row instead of sending twice)."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=NotifyChannel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_ref = models.CharField(_("gateway reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to}"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """A unit's own case system (``unit`` set: only orders assigned to that unit) or another
    system (``unit`` empty: every order) receiving the order events it asks for."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=_new_secret)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text=_("Empty: the whole system (every order)."))
    event_codes = models.JSONField(_("event codes"), default=list, blank=True,
                                   help_text=_("A list such as [\"dispatched\", \"replied\"]; empty: every event."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, code: str) -> bool:
        return not self.event_codes or code in self.event_codes


class WebhookDelivery(models.Model):
    """One event for one subscription. ``delivery_id`` is sent on every attempt (and on a
    replay), so that the receiver can drop what it has already processed."""

    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_code = models.CharField(_("event"), max_length=32)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response (excerpt)"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event_code} → {self.subscription} ({self.delivery_id})"


class DeliveryAttempt(models.Model):
    """The log of every try of a webhook delivery: what the receiver answered."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response (excerpt)"), blank=True)
    error = models.TextField(_("error"), blank=True)
    replay = models.BooleanField(_("replay"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
