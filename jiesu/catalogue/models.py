"""The catalogue: what a request is about (Category), what kind it is (RequestType), how it came
in (Channel), and who handles it where (RoutingRule, the 派单目录)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.org.models import Area, TreeNode, Unit


class RequestType(models.TextChoices):
    CONSULT = "consult", _("Consultation")
    HELP = "help", _("Help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGEST = "suggest", _("Suggestion")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    WEB = "web", _("Web portal")
    APP = "app", _("App / H5")
    OUTREACH = "outreach", _("Outreach desk")
    SPECIAL_HOTLINE = "special_hotline", _("Special hotline (e.g. 12309)")
    API = "api", _("REST API")
    OPEN311 = "open311", _("Open311 GeoReport v2")
    LETTER = "letter", _("Letter")
    WALK_IN = "walk_in", _("Walk-in")
    # 未诉先办: opened by the centre itself, with no requester (``create_order(proactive=True)``).
    PROACTIVE = "proactive", _("Proactive (未诉先办)")


class Category(TreeNode):
    """诉求分类: 大类 / 中类 / 小类 (levels 1–3)."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent category"))
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("Space-separated words for triage."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def save(self, *args, **kwargs):
        self.level = self.parent.level + 1 if self.parent else 1
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return " / ".join(self.ancestor_names())

    def ancestor_names(self) -> list[str]:
        names: list[str] = []
        node: Category | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return names[::-1]


class RoutingRule(models.Model):
    """派单目录: (category, area) → lead unit [+ co-units], from the units' lists of duties.

    The most specific rule wins: a deeper category beats a shallower one, then a deeper area.
    """

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="rules")
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    lead_unit = models.ForeignKey(Unit, verbose_name=_("lead unit"), on_delete=models.CASCADE, related_name="+")
    co_units = models.ManyToManyField(Unit, verbose_name=_("co-handling units"), blank=True, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [models.UniqueConstraint(fields=["category", "area"], name="routing_rule_unique")]

    def __str__(self) -> str:
        return f"{self.category} @ {self.area or '*'} → {self.lead_unit}"
