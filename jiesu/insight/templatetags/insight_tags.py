"""Reply-quality badges next to each reply on the order page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from jiesu.insight.reply_quality import check

register = template.Library()

LABELS = {
    "action": _("What was done"),
    "result": _("Result"),
    "basis": _("Legal or policy basis"),
    "contact": _("Contact"),
}


@register.inclusion_tag("insight/_reply_quality.html")
def reply_quality(text: str) -> dict[str, Any]:
    quality = check(text or "")
    return {
        "score": quality.score,
        "checks": [{"key": c.criterion, "label": LABELS[c.criterion], "met": c.met,
                    "evidence": [s.text for s in c.evidence]} for c in quality.checks],
    }
