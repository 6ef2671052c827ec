"""Deadline configuration: the limit table and the working-day calendar."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Category, RequestType, Urgency
from jiesu.deadlines.calendar import LimitUnit


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (day off)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class DaySource(models.TextChoices):
    LIBRARY = "library", _("chinese-calendar")
    ADMIN = "admin", _("Entered by an administrator")


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday or a make-up working day."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=DaySource.choices, default=DaySource.ADMIN)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """A year whose official holiday schedule is complete in ``CalendarDay``."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=16, choices=DaySource.choices, default=DaySource.ADMIN)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class DeadlineLimit(models.Model):
    """One row of the limit table. Blank type/urgency/category mean "any"."""

    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices, blank=True)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="limits"
    )
    amount = models.PositiveIntegerField(_("handling limit"))
    unit = models.CharField(
        _("limit unit"),
        max_length=16,
        choices=[(LimitUnit.HOURS.value, _("hours")), (LimitUnit.WORKING_DAYS.value, _("working days"))],
    )
    contact_hours = models.PositiveIntegerField(_("contact deadline (hours)"), default=24)
    return_window_hours = models.PositiveIntegerField(_("return window (hours)"), default=2)

    class Meta:
        verbose_name = _("deadline limit")
        verbose_name_plural = _("deadline limits")
        constraints = [
            models.UniqueConstraint(fields=["request_type", "urgency", "category"], name="deadline_limit_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deadline_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.request_type or '*'} × {self.urgency or '*'} × {self.category or '*'}: {self.amount} {self.unit}"


class ConfigStamp(models.Model):
    """One row whose token changes, in the same transaction, whenever the calendar, the limit
    table or a category changes: every process keeps its copy of them and knows with one
    primary-key read whether that copy is stale (``jiesu.deadlines.services``). A random token,
    not a counter, so that a rolled-back change can never be mistaken for another one."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("deadline configuration stamp")
        verbose_name_plural = _("deadline configuration stamps")

    def __str__(self) -> str:
        return self.token
