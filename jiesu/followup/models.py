"""Follow-up's own rows: the overdue flags of the sweep. (Its messages, the callback link among
them, are ``jiesu.integrations`` notifications.)"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.orders.models import Assignment, WorkOrder


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
