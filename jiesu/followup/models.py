"""Follow-up's own rows: the notification outbox and the overdue flags of the sweep."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.orders.models import Assignment, WorkOrder


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued for the gateway")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Outbox(models.Model):
    """Every message Jiesu sends (SMS, e-mail), kept for admins to read. The outbox backend
    only queues here; an SMS gateway (outside Jiesu) delivers the queued rows."""

    channel = models.CharField(_("channel"), max_length=16)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=32, default="callback_link")
    status = models.CharField(_("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"


class Overdue(models.Model):
    """A lead assignment whose handling deadline passed without a reply, found by the sweep.
    One row per assignment (the unique key makes the sweep idempotent); it puts the order on
    the supervisor's callback list until a callback is recorded or the tries run out."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("was due"))
    detected_at = models.DateTimeField(_("found at"))
    callback_attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(_("callback done"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("overdue order")
        verbose_name_plural = _("overdue orders")

    def __str__(self) -> str:
        return f"{self.order_id} overdue since {self.due_at:%Y-%m-%d %H:%M}"
