"""Proactive governance: monthly topics (每月一题) and the measures registry (办实事清单).

Hotspots and dashboards are computed from the orders and have no tables of their own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Category
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, Unit


class TopicStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("In progress")
    DONE = "done", _("Completed")


class Topic(models.Model):
    """每月一题: a high-frequency problem taken up as a governance topic for a month."""

    title = models.CharField(_("title"), max_length=120)
    month = models.DateField(_("month"), help_text=_("The first day of the topic's month."))
    lead_unit = models.ForeignKey(Unit, verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TopicStatus.choices, default=TopicStatus.ACTIVE)
    # How orders are matched to the topic (any of the keywords, within the category and area).
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    keywords = models.CharField(_("keywords"), max_length=255, blank=True,
                                help_text=_("Space-separated; an order matches if its text contains any."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    linked_orders = models.ManyToManyField(WorkOrder, through="TopicLink", related_name="topics", blank=True)

    class Meta:
        verbose_name = _("monthly topic")
        verbose_name_plural = _("monthly topics")
        ordering = ["-month", "id"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.split() if k]


class TopicItemKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    TASK = "task", _("Task")
    RESPONSIBILITY = "responsibility", _("Responsibility")


class TopicItem(models.Model):
    """One line of the topic's policy, task or responsibility list (政策清单、任务清单、责任清单)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("list"), max_length=16, choices=TopicItemKind.choices)
    text = models.TextField(_("text"))
    owner_unit = models.ForeignKey(Unit, verbose_name=_("owner unit"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    due = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic item")
        verbose_name_plural = _("topic items")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class TopicLink(models.Model):
    """An order linked to a topic by hand (matched orders are found by the topic's rules)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="links")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "order"], name="topic_link_unique")]


class Measure(models.Model):
    """办实事清单: a practical measure promised to the public, with its owner and target."""

    title = models.CharField(_("title"), max_length=160)
    owner_unit = models.ForeignKey(Unit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+")
    target = models.TextField(_("target"))
    category = models.CharField(_("category"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    public = models.BooleanField(_("public"), default=True, help_text=_("Shown on the public measures page."))
    # The latest update's percentage, kept here for lists; the updates are the record.
    percent = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("practical measure")
        verbose_name_plural = _("practical measures")
        ordering = ["category", "id"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=160)
    due = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.title


class MeasureUpdate(models.Model):
    """A dated progress report with evidence. Append-only: corrections are new updates."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(_("at"))
    percent = models.PositiveSmallIntegerField(_("progress (%)"))
    evidence = models.TextField(_("evidence"), blank=True)
    links = models.TextField(_("links"), blank=True, help_text=_("One address per line."))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("progress updates are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("progress updates are append-only")

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]


class DashboardDay(models.Model):
    """One Asia/Shanghai day of the dashboard, rolled up (汇总): per district, the orders by
    request type, channel and category, and the exact durations behind the timing percentiles.
    Kept exact by ``jiesu.insight.rollup``: a change that can alter the day's numbers marks it
    ``dirty`` in the same transaction; dirty days are read from the raw orders until the sweep
    recomputes them.

    The same row holds the day's scorecard counts (``scores_*``, kept by
    ``jiesu.followup.daily``): one row per day means one ``UPDATE`` marks a change for both,
    and one row lock orders a change against both recomputations."""

    day = models.DateField(_("day"), unique=True)
    dirty = models.BooleanField(_("to recompute"), default=True)
    # {district code: {"t": {type: n}, "c": {channel: n}, "k": {category id: n}, "d": {timing: [offset, n]}}}
    counts = models.JSONField(default=dict)
    # Sorted int64 microseconds, little-endian, at the offsets of counts[district]["d"].
    durations = models.BinaryField(default=bytes)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The scorecard counts of the day's orders (jiesu.followup.daily): any change to one of its
    # orders or their assignments sets ``scores_dirty``.
    scores_dirty = models.BooleanField(_("scores to recompute"), default=True)
    # {"a": [area id, …], "u": [unit id, …]}: the rows of ``scores_counts``, areas then units.
    scores = models.JSONField(default=dict)
    # int32 little-endian, one row of the scorecard's counts (jiesu.followup.rates.COUNT_NAMES) per id.
    scores_counts = models.BinaryField(default=bytes)
    # Counted as of ``scores_at``; exact for any moment before ``scores_until``, the first
    # deadline of the day's open assignments still to come then (None: none).
    scores_at = models.DateTimeField(null=True, blank=True)
    scores_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard day")
        verbose_name_plural = _("dashboard days")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}{' *' if self.dirty else ''}"
