"""/api/v1/triage: what the triage engine suggests for a text (smart dispatch, DESIGN §5).

Nothing is stored. The same engine triages every new order in the background. Bad text (empty,
no Chinese, too long) or an address outside the city is not an HTTP error: the answer says so in
``errors`` and leaves the unknown fields ``null``. Wrong shapes and types are 422 as everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import AliasChoices, Field

from jiesu.accounts.policy import Action, can
from jiesu.api.auth import actor_of
from jiesu.api.schemas import ErrorOut, In, Text
from jiesu.orders.errors import InvalidInput, NotAllowed
from jiesu.triage.gazetteer import to_wgs84

router = Router(tags=["triage"])

ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 422)}


class TriageIn(In):
    text: Text = Field(..., description="what the requester said (up to 5,000 characters are triaged)")
    address: Text = ""
    # ``lat``/``long`` as Open311 (and the smart-dispatch issue) spell them, or in full.
    latitude: float | None = Field(None, validation_alias=AliasChoices("latitude", "lat"))
    longitude: float | None = Field(None, validation_alias=AliasChoices("longitude", "long"))
    coordinate_system: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84", description="of latitude/longitude; GCJ-02 (most Chinese maps) and BD-09 (Baidu) are converted")
    phone: Text = ""
    channel: Text = ""
    with_duplicates: bool = Field(False, description="also list open or recent orders that look the same")


class Coded(Schema):
    code: str | None
    confidence: float


class UrgencyOut(Coded):
    limit_hint: str | None = None


class AreaOut(Schema):
    code: str
    name: str
    level: int


class LocationOut(Schema):
    status: str = Field(..., description="found | ambiguous | unknown | outside")
    district: AreaOut | None
    street: AreaOut | None
    community: AreaOut | None
    code: str | None
    confidence: float
    matched: list[str]
    ambiguous: list[AreaOut]
    source: str
    conflict: bool
    outside: str | None


class CategoryOut(Schema):
    code: str | None
    name: str | None
    path: list[str]
    confidence: float
    words: list[str]
    source: str | None = Field(None, description="model | keywords | given")
    alternatives: list[dict[str, Any]]


class UnitOut(Schema):
    code: str
    name: str


class RuleOut(Schema):
    id: int | str
    category: str
    category_name: str
    area: str | None
    area_name: str
    label: str


class RoutingOut(Schema):
    lead: UnitOut
    co: list[UnitOut]
    rule: RuleOut
    area_sensitive: bool


class Problem(Schema):
    code: str = Field(..., description="empty | no_chinese | too_long | outside_city | internal (errors); "
                                       "control_characters | address_too_long (warnings)")
    message: str = Field(..., description="in the caller's language (Accept-Language)")


# The engine's problems and referral reasons are English for logs and the command line; the API
# says them in its caller's language, by code, with the values the engine passes along.
PROBLEMS = {
    "empty": _("The text is empty."),
    "no_chinese": _("The text has no Chinese in it."),
    "too_long": _("The text is longer than %(limit)s characters."),
    "outside_city": _("The address is outside the city (%(place)s)."),
    "internal": _("Triage failed; the order waits for a dispatcher."),
    "control_characters": _("Control characters were removed from the text."),
    "address_too_long": _("Only the first %(limit)s characters of the address were read."),
}
# 北京市接诉即办工作条例 (2021), Art. 11: what the hotline refers elsewhere or does not take.
REFERRAL_REASONS = {
    "emergency": _("An emergency for %(to)s: refer the caller at once (Art. 11)."),
    "legal_process": _("A matter for litigation, arbitration, reconsideration, discipline or petition (Art. 11)."),
    "secret": _("It concerns state secrets, trade secrets or another person's private data (Art. 11)."),
    "unlawful": _("The request is unlawful or against public order (Art. 11)."),
    "no_duty": _("It is outside every unit's duty (Art. 11)."),
}


def _say(problem: dict[str, Any]) -> dict[str, str]:
    template = PROBLEMS.get(problem.get("code", ""))
    if template is None:
        return {"code": problem.get("code", ""), "message": problem.get("message", "")}
    try:
        return {"code": problem["code"], "message": str(template) % (problem.get("params") or {})}
    except (KeyError, TypeError, ValueError):
        return {"code": problem["code"], "message": problem.get("message", "")}


def in_callers_language(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (a ``TriageResult.to_dict()``) with its problems and referral reason translated."""
    body["errors"] = [_say(e) for e in body.get("errors", [])]
    body["warnings"] = [_say(w) for w in body.get("warnings", [])]
    referral = body.get("referral")
    if referral and referral.get("outcome") in REFERRAL_REASONS:
        referral["reason"] = str(REFERRAL_REASONS[referral["outcome"]]) % {"to": referral.get("referred_to") or ""}
    return body


class TriageOut(Schema):
    ok: bool
    errors: list[Problem]
    warnings: list[Problem]
    type: Coded
    urgency: UrgencyOut
    referral: dict[str, Any] | None
    category: CategoryOut
    location: LocationOut
    routing: RoutingOut | None
    confidence: float = Field(..., description="confidence in the routing (lead unit)")
    model_version: str | None
    duplicates: list[dict[str, Any]]
    elapsed_ms: float


@router.post("/triage", response={200: TriageOut, **ERRORS}, summary="Suggest type, category, area and units")
def triage(request: HttpRequest, payload: TriageIn) -> dict[str, Any]:
    """Request type and urgency, an Art. 11 referral if one applies, the category with the words
    that drove it, the area (district → street → community) from the coordinates or the address
    and text, the lead and co-handling units with the routing rule that matched, and the overall
    confidence. For staff who record or dispatch orders."""
    from jiesu.dispatch import services

    actor = actor_of(request)
    if not (can(actor, Action.CREATE) or can(actor, Action.DISPATCH)):
        raise NotAllowed(_("You are not allowed to do this."))
    lat, lng = payload.latitude, payload.longitude
    if (lat is None) != (lng is None):
        raise InvalidInput(_("Give both latitude and longitude, or neither."), field="latitude")
    if lat is not None and lng is not None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise InvalidInput(_("Coordinates are out of range."), field="latitude")
        lat, lng = to_wgs84(lat, lng, payload.coordinate_system)
    result = services.suggest(payload.text, payload.address, latitude=lat, longitude=lng, channel=payload.channel)
    body = in_callers_language(result.to_dict())
    if payload.with_duplicates and result.ok:
        rows = services.duplicate_candidates(actor, payload.text[:5000], area_code=result.location.code)
        body["duplicates"] = [
            {"number": r.number, "score": round(r.score, 4), "state": r.state, "place": r.place,
             "received_at": r.received_at.isoformat()}
            for r in rows
        ]
    return body
