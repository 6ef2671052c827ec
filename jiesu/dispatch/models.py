"""What triage leaves behind: the suggestion per order, the dispatchers' corrections, and the
auto-dispatch switch."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.orders.models import WorkOrder


class TriageSuggestion(models.Model):
    """The engine's answer for an order (``TriageResult.to_dict()``), as it was when triaged."""

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="triage")
    result = models.JSONField(_("result"), default=dict)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    confidence = models.FloatField(_("confidence"), default=0.0)
    auto_dispatched = models.BooleanField(_("dispatched by the system"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("triage suggestion")
        verbose_name_plural = _("triage suggestions")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.confidence:.2f}"

    # What a dispatcher may overrule (and so what a correction records), from the result.
    def suggested(self, field: str) -> str:
        r = self.result or {}
        if field == CorrectionField.CATEGORY:
            return (r.get("category") or {}).get("code") or ""
        if field == CorrectionField.UNIT:
            return ((r.get("routing") or {}).get("lead") or {}).get("code") or ""
        if field == CorrectionField.AREA:
            return (r.get("location") or {}).get("code") or ""
        if field == CorrectionField.TYPE:
            return (r.get("type") or {}).get("code") or ""
        return ""


class CorrectionField(models.TextChoices):
    CATEGORY = "category", _("Category")
    UNIT = "unit", _("Lead unit")
    AREA = "area", _("Area")
    TYPE = "type", _("Request type")


class TriageCorrection(models.Model):
    """A dispatcher chose something else than the suggestion: training data for the next model."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="triage_corrections")
    field = models.CharField(_("field"), max_length=16, choices=CorrectionField.choices)
    suggested = models.CharField(_("suggested"), max_length=64, blank=True)
    chosen = models.CharField(_("chosen"), max_length=64)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(_("at"))
    model_version = models.CharField(_("model version"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("triage correction")
        verbose_name_plural = _("triage corrections")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["field", "at"])]

    def __str__(self) -> str:
        return f"{self.order_id} {self.field}: {self.suggested or '—'} → {self.chosen}"


class DispatchSettings(models.Model):
    """One row (pk 1): whether the system dispatches confident suggestions by itself, and from
    which confidence. ``generation`` moves whenever areas, units, categories or routing rules
    change, so that every process rebuilds its triage engine."""

    auto_dispatch = models.BooleanField(_("dispatch confident suggestions automatically"), default=True)
    threshold = models.FloatField(
        _("auto-dispatch threshold"), default=0.9,
        help_text=_("From 0 to 1. Orders whose suggestion is at least this confident are dispatched by the "
                    "system; the others wait for a dispatcher."),
    )
    generation = models.PositiveBigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dispatch settings")
        verbose_name_plural = _("dispatch settings")

    def __str__(self) -> str:
        return str(_("Dispatch settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        self.threshold = min(max(float(self.threshold), 0.0), 1.0)
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> DispatchSettings:
        obj = cls.objects.filter(pk=1).first()
        return obj if obj is not None else cls(pk=1)


class RuleTarget(models.TextChoices):
    TYPE = "type", _("Request type")
    URGENCY = "urgency", _("Urgency")
    REFERRAL = "referral", _("Art. 11 referral or decline")
    HEDGE = "hedge", _("Hedge (a risk or a memory, not an emergency now)")
    CATEGORY = "category", _("Category")


class KeywordRule(models.Model):
    """A cold-start keyword rule, editable by administrators (jiesu/triage/rules.py does the
    matching; the shipped defaults in jiesu/triage/data/rules.csv are loaded into this table by a
    migration). Type, urgency, referral and hedge rules are always applied; category rules add
    keywords to the category's own, used when no model exists or the model is unsure. Every
    process picks up an edit within seconds, without a restart (see ``jiesu.dispatch.runtime``)."""

    target = models.CharField(_("what it decides"), max_length=16, choices=RuleTarget.choices)
    label = models.CharField(
        _("answer"), max_length=64,
        help_text=_("Type: consult, help, complaint, report, suggest, praise or other. Urgency: emergency, utility, "
                    "general or complex. Referral: emergency:110 (119, 120, 122), legal_process, secret, unlawful or "
                    "no_duty. Hedge: before or after. Category: the category code."),
    )
    keywords = models.TextField(
        _("keywords"), help_text=_("Separated by spaces or commas; 'A+B' needs both parts in the text."))
    weight = models.FloatField(_("weight"), default=1.0,
                               help_text=_("How much one matched keyword counts: explicit words 3, suggestive ones 1."))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("keyword rule")
        verbose_name_plural = _("keyword rules")
        ordering = ["target", "label", "id"]

    def __str__(self) -> str:
        return f"{self.target} → {self.label}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from jiesu.catalogue.models import Category
        from jiesu.triage.rules import RuleSet

        if self.weight is None or not (0 < float(self.weight) <= 100):
            raise ValidationError({"weight": _("The weight must be above 0 and at most 100.")})
        if self.target == RuleTarget.CATEGORY:
            if not Category.objects.filter(code=self.label.strip()).exists():
                raise ValidationError({"label": _("No category has this code.")})
            if not self.keywords.split():
                raise ValidationError({"keywords": _("Give at least one keyword.")})
            return
        try:
            RuleSet.from_rows([(self.target, self.label, self.keywords, self.weight)])
        except ValueError:
            raise ValidationError(_("The answer does not fit what the rule decides, or there are no keywords.")) \
                from None
