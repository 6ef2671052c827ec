"""A triage result (``TriageResult.to_dict()``) as the desk shows it: labels in the user's
language, the reasons (words, rule, confidence), and what the form fields can be filled with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jiesu.catalogue.models import RequestType, Urgency
from jiesu.orders.models import OutcomeChoice

ERROR_LABELS = {
    "empty": lambda: _("Type what the caller says to see suggestions."),
    "no_chinese": lambda: _("The text has no Chinese in it: no suggestion."),
    "too_long": lambda: _("The text is too long to triage."),
    "outside_city": lambda: _("The address is outside the city."),
    "internal": lambda: _("Triage is not available right now; dispatch by hand."),
}
LIMIT_LABELS = {
    "2h": lambda: _("2 hours"),
    "24h": lambda: _("24 hours"),
    "7d": lambda: _("7 days"),
    "15d": lambda: _("15 days"),
}


def _choice(choices, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def percent(value: Any) -> int:
    try:
        return round(float(value) * 100)
    except (TypeError, ValueError):
        return 0


@dataclass
class Panel:
    ok: bool
    errors: list[str]
    type_label: str = ""
    type_conf: int = 0
    urgency_label: str = ""
    urgency_conf: int = 0
    limit: str = ""
    referral: dict[str, Any] | None = None
    referral_label: str = ""
    category: dict[str, Any] = field(default_factory=dict)
    category_conf: int = 0
    words: list[str] = field(default_factory=list)
    location: dict[str, Any] = field(default_factory=dict)
    place: str = ""
    place_conf: int = 0
    ambiguous: list[str] = field(default_factory=list)
    routing: dict[str, Any] | None = None
    confidence: int = 0
    model_version: str = ""
    source: str = ""
    fill_area: str = ""  # a district or street code the desk's area list offers
    fill_category: str = ""
    category_path: list[str] = field(default_factory=list)  # in the user's language
    rule_label: str = ""


def _categories() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """code → (name, English name, the codes from the top category down), kept with the
    catalogue as the desk's pick lists are: no query per panel."""
    from jiesu.catalogue.models import Category
    from jiesu.dispatch.runtime import kept_with_catalogue

    def load() -> dict[str, tuple[str, str, tuple[str, ...]]]:
        rows = Category.objects.values_list("code", "name", "name_en", "path")
        return {code: (name, en, tuple(path.split("/"))) for code, name, en, path in rows}

    return kept_with_catalogue(("categories_by_code",), load)


def _category_path(code: str | None, fallback: list[str]) -> list[str]:
    """A category's path in the user's language, as the order page says it (``cat_name``): the
    English name where the catalogue has one. The engine's own names are Chinese."""
    cats = _categories()
    found = cats.get(code or "")
    if not found:
        return fallback
    english = (get_language() or "").startswith("en")
    return [(cats[c][1] if english and cats[c][1] else cats[c][0]) for c in found[2] if c in cats] or fallback


def panel(result: dict[str, Any] | None) -> Panel | None:
    if not result:
        return None
    errors = [str(ERROR_LABELS[e["code"]]()) for e in result.get("errors", []) if e.get("code") in ERROR_LABELS]
    loc = result.get("location") or {}
    cat = result.get("category") or {}
    urg = result.get("urgency") or {}
    typ = result.get("type") or {}
    names = [loc[k]["name"] for k in ("district", "street", "community") if loc.get(k)]
    referral = result.get("referral")
    limit = urg.get("limit_hint") or ""
    p = Panel(
        ok=bool(result.get("ok")),
        errors=errors,
        type_label=_choice(RequestType, typ.get("code")) if typ.get("code") else "",
        type_conf=percent(typ.get("confidence")),
        urgency_label=_choice(Urgency, urg.get("code")) if urg.get("code") else "",
        urgency_conf=percent(urg.get("confidence")),
        limit=str(LIMIT_LABELS[limit]()) if limit in LIMIT_LABELS else str(limit),
        referral=referral,
        referral_label=_choice(OutcomeChoice, (referral or {}).get("outcome")) if referral else "",
        category=cat,
        category_conf=percent(cat.get("confidence")),
        words=[str(w) for w in cat.get("words") or []][:8],
        location=loc,
        place=" / ".join(names),
        place_conf=percent(loc.get("confidence")),
        ambiguous=[a["name"] for a in loc.get("ambiguous") or []],
        routing=result.get("routing"),
        confidence=percent(result.get("confidence")),
        model_version=result.get("model_version") or "",
        source=str(cat.get("source") or ""),
    )
    if loc.get("status") in ("found", "ambiguous"):
        street, district = loc.get("street"), loc.get("district")
        p.fill_area = (street or district or {}).get("code", "")
    if cat.get("code") and cat.get("source") != "given":
        p.fill_category = cat["code"]
    p.category_path = _category_path(cat.get("code"), [str(n) for n in cat.get("path") or []])
    rule = (p.routing or {}).get("rule") or {}
    if rule:
        # From the rule's parts, not the engine's ready-made Chinese label (API and command line).
        what = " / ".join(_category_path(rule.get("category"), [str(rule.get("category_name") or "")]))
        where = rule.get("area_name") or ("*" if rule.get("area") is None else rule.get("area"))
        p.rule_label = f"{what} @ {where} → {(p.routing or {}).get('lead', {}).get('name', '')}"
    return p
