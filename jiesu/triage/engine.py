"""Triage (分拣): from what a requester said to a suggested dispatch, with reasons.

Pure Python, no Django: everything it knows is handed in when it is built — the rules for
request type, urgency and Art. 11 referrals, a category model (optional: none on a cold start)
and the keyword classifier, the gazetteer, and the routing catalogue. The Django side
(``jiesu.dispatch.runtime``) builds one per process from the database and the model store.

``Triage.triage(TriageInput(...))`` never raises on bad input: empty text, text without any
Chinese, text over the length limit, control characters, an address outside the city — each
gives a result whose ``errors`` say so and whose unknown fields are ``None``.

The overall ``confidence`` is the confidence in the *routing*: the category's, times the
location's where the routing depends on the area (the rule that matched is area-specific, or a
more specific rule exists for a place the text did not pin down); 0 without a routing.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jiesu.triage.gazetteer import Gazetteer, Location
from jiesu.triage.text import has_chinese

MAX_TEXT = 5000  # as intake (jiesu.orders.actions.base.MAX_TEXT)
MAX_ADDRESS = 255
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


# ----------------------------------------------------------------------------- what goes in


@dataclass(frozen=True)
class TriageInput:
    text: str
    address: str = ""
    latitude: float | None = None  # WGS-84
    longitude: float | None = None
    phone: str = ""
    channel: str = ""
    # Already decided by a person (the call-taker chose them): used as they are, not predicted.
    category_code: str | None = None
    area_code: str | None = None


class CategoryModel(Protocol):
    def predict(self, text: str) -> Any: ...


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    path: tuple[str, ...]  # codes from the top-level category down to this one
    names: tuple[str, ...] = ()  # names along the path


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Route:
    """One row of the routing catalogue (派单目录)."""

    id: int | str
    category: str
    area: str | None
    lead: UnitRef
    co: tuple[UnitRef, ...] = ()


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    area_sensitive: bool  # a better-known area could change the units

    def to_dict(self, routes: Routes) -> dict[str, Any]:
        r = self.route
        return {
            "lead": r.lead.to_dict(),
            "co": [u.to_dict() for u in r.co],
            "rule": {
                "id": r.id,
                "category": r.category,
                "category_name": routes.category_name(r.category),
                "area": r.area,
                "area_name": routes.area_name(r.area),
                "label": routes.label(r),
            },
            "area_sensitive": self.area_sensitive,
        }


class Routes:
    """The routing catalogue: the most specific rule wins — the deepest category first, then
    the deepest area on the order's area path, then a rule without area (as RoutingRule says)."""

    def __init__(
        self,
        routes: Iterable[Route],
        categories: Mapping[str, CategoryInfo],
        area_paths: Mapping[str, tuple[str, ...]],
        area_names: Mapping[str, str] | None = None,
    ) -> None:
        self.categories = dict(categories)
        self.area_paths = dict(area_paths)
        self.area_names = dict(area_names or {})
        self.by_category: dict[str, list[Route]] = {}
        for r in routes:
            self.by_category.setdefault(r.category, []).append(r)
        self.count = sum(len(v) for v in self.by_category.values())

    def category_name(self, code: str | None) -> str:
        info = self.categories.get(code or "")
        return info.name if info else ""

    def area_name(self, code: str | None) -> str:
        return self.area_names.get(code or "", "")

    def label(self, r: Route) -> str:
        where = self.area_name(r.area) or ("*" if r.area is None else r.area)
        names = self.categories[r.category].names if r.category in self.categories else ()
        what = " / ".join(names) if names else r.category
        return f"{what} @ {where} → {r.lead.name}"

    def lookup(self, category: str | None, area: str | None) -> RouteMatch | None:
        info = self.categories.get(category or "")
        if info is None:
            return None
        area_path = self.area_paths.get(area or "", ())
        on_path = set(area_path)
        chosen: Route | None = None
        for code in reversed(info.path):
            best, best_depth = None, -1
            for r in self.by_category.get(code, ()):
                if r.area is None:
                    depth = 0
                elif r.area in on_path:
                    depth = len(self.area_paths.get(r.area, ())) or 1
                else:
                    continue
                if depth > best_depth:
                    best, best_depth = r, depth
            if best is not None:
                chosen = best
                break
        if chosen is None:
            return None
        return RouteMatch(route=chosen, area_sensitive=self._sensitive(info, area_path, chosen))

    def _sensitive(self, info: CategoryInfo, area_path: tuple[str, ...], chosen: Route) -> bool:
        """Could knowing the place better change the answer? Yes if the rule is area-specific,
        or if a rule of this category line exists for a place below (or instead of) ours."""
        if chosen.area is not None:
            return True
        here = area_path[-1] if area_path else None
        for code in info.path:
            for r in self.by_category.get(code, ()):
                if r.area is None or r.area in area_path:
                    continue
                if here is None or here in self.area_paths.get(r.area, ()):
                    return True
        return False


# ----------------------------------------------------------------------------- what comes out


@dataclass
class Scored:
    code: str | None
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "confidence": round(self.confidence, 4)}


@dataclass
class UrgencyResult(Scored):
    limit_hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "limit_hint": self.limit_hint}


@dataclass
class CategoryResult:
    code: str | None
    name: str = ""
    names: tuple[str, ...] = ()
    confidence: float = 0.0
    words: list[str] = field(default_factory=list)
    source: str = ""  # model | keywords | given
    alternatives: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name or None, "path": list(self.names),
                "confidence": round(self.confidence, 4), "words": list(self.words), "source": self.source or None,
                "alternatives": self.alternatives}


@dataclass
class TriageResult:
    ok: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    type: Scored = field(default_factory=lambda: Scored(None))
    urgency: UrgencyResult = field(default_factory=lambda: UrgencyResult(None))
    referral: dict[str, Any] | None = None
    category: CategoryResult = field(default_factory=lambda: CategoryResult(None))
    location: Location = field(default_factory=Location)
    routing: dict[str, Any] | None = None
    confidence: float = 0.0
    model_version: str | None = None
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def lead_unit(self) -> str | None:
        return self.routing["lead"]["code"] if self.routing else None

    @property
    def co_units(self) -> list[str]:
        return [u["code"] for u in self.routing["co"]] if self.routing else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "type": self.type.to_dict(),
            "urgency": self.urgency.to_dict(),
            "referral": self.referral,
            "category": self.category.to_dict(),
            "location": self.location.to_dict(),
            "routing": self.routing,
            "confidence": round(self.confidence, 4),
            "model_version": self.model_version,
            "duplicates": list(self.duplicates),
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    def summary(self) -> dict[str, Any]:
        """One flat line (``jiesu triage --jsonl``): names of places, codes of the rest."""
        loc = self.location
        return {
            "type": self.type.code,
            "urgency": self.urgency.code,
            "referral": self.referral,
            "category": self.category.code,
            "category_name": self.category.name or None,
            "district": loc.district.name if loc.district else None,
            "street": loc.street.name if loc.street else None,
            "community": loc.community.name if loc.community else None,
            "location_status": loc.status,
            "unit": self.lead_unit,
            "unit_name": self.routing["lead"]["name"] if self.routing else None,
            "co_units": self.co_units,
            "confidence": {
                "type": round(self.type.confidence, 4),
                "urgency": round(self.urgency.confidence, 4),
                "category": round(self.category.confidence, 4),
                "area": round(loc.confidence, 4),
                "unit": round(self.confidence, 4),
            },
            "model_version": self.model_version,
            "errors": [e["code"] for e in self.errors],
        }


def _err(code: str, message: str, **params: Any) -> dict[str, Any]:
    """A problem: a stable ``code``, an English ``message`` for logs and the command line, and the
    ``params`` its message names, so that an interface can say it in its user's language."""
    return {"code": code, "message": message, "params": params}


def clean(text: Any) -> tuple[str, bool]:
    """NFC text without control and invisible formatting characters (newlines and tabs become
    spaces); and whether any were removed."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFC", text)
    stripped = _CONTROL.sub("", text)
    # lone surrogates cannot be encoded anywhere downstream
    stripped = "".join(ch for ch in stripped if not ("\ud800" <= ch <= "\udfff"))
    return " ".join(stripped.replace("\t", " ").splitlines()).strip(), stripped != text


def _pairs(alternatives: Any) -> list[tuple[str, float]]:
    """A model's alternatives as (label, confidence), whatever shape they come in."""
    out: list[tuple[str, float]] = []
    for alt in alternatives or ():
        if isinstance(alt, tuple | list) and len(alt) >= 2:
            out.append((str(alt[0]), float(alt[1])))
        elif isinstance(alt, Mapping):
            out.append((str(alt.get("label")), float(alt.get("confidence", 0.0))))
        elif hasattr(alt, "label"):
            out.append((str(alt.label), float(getattr(alt, "confidence", 0.0))))
    return out


# ----------------------------------------------------------------------------- the engine


class Triage:
    def __init__(
        self,
        rules: Any,
        category_classifier: CategoryModel | None,
        keyword_classifier: CategoryModel | None,
        gazetteer: Gazetteer,
        routes: Routes,
        *,
        model_version: str | None = None,
        fallback_below: float = 0.5,
        max_text: int = MAX_TEXT,
    ) -> None:
        self.rules = rules
        self.model = category_classifier
        self.keywords = keyword_classifier
        self.gazetteer = gazetteer
        self.routes = routes
        self.model_version = model_version
        self.fallback_below = fallback_below
        self.max_text = max_text
        self.categories = routes.categories
        by_name: dict[str, list[str]] = {}
        for info in self.categories.values():
            by_name.setdefault(info.name, []).append(info.code)
        self._by_name = {name: codes[0] for name, codes in by_name.items() if len(codes) == 1}

    # --- pieces

    def _label_code(self, label: Any) -> str | None:
        """A model's label as a category code: the code itself, or a unique category name."""
        if label is None:
            return None
        label = str(label)
        if label in self.categories:
            return label
        return self._by_name.get(label)

    def _from_prediction(self, pred: Any, source: str) -> CategoryResult | None:
        if pred is None:
            return None
        code = self._label_code(getattr(pred, "label", None))
        if code is None:
            return None
        info = self.categories[code]
        alternatives = []
        for label, conf in _pairs(getattr(pred, "alternatives", ())):
            alt = self._label_code(label)
            if alt and alt != code:
                alternatives.append({"code": alt, "name": self.categories[alt].name, "confidence": round(conf, 4)})
        return CategoryResult(
            code=code, name=info.name, names=info.names, confidence=float(getattr(pred, "confidence", 0.0) or 0.0),
            words=[str(w) for w in (getattr(pred, "words", None) or [])][:10], source=source,
            alternatives=alternatives[:3],
        )

    def classify_category(self, text: str, given: str | None = None) -> CategoryResult:
        best: CategoryResult | None = None
        if self.model is not None:
            best = self._from_prediction(self.model.predict(text), "model")
        if (best is None or best.confidence < self.fallback_below) and self.keywords is not None:
            kw = self._from_prediction(self.keywords.predict(text), "keywords")
            if kw is not None and (best is None or kw.confidence > best.confidence):
                best = kw
        if given and given in self.categories:
            return self._given_category(given, best)
        return best or CategoryResult(code=None)

    def _on_one_line(self, a: str, b: str) -> bool:
        return a in self.categories[b].path or b in self.categories[a].path

    def _given_category(self, given: str, own: CategoryResult | None) -> CategoryResult:
        """The call-taker's category is the answer (the dispatcher's form is pre-filled with it),
        but the confidence is the system's own in it: the model's probability for that category
        or one on its line (a parent or child), 0 when it does not consider it. Auto-dispatch
        then needs the model to agree, as for any order; a person's pick is not a certainty."""
        info = self.categories[given]
        confidence, words, alternatives = 0.0, [], []
        if own is not None and own.code is not None:
            if self._on_one_line(own.code, given):
                confidence, words = own.confidence, own.words
            else:
                confidence = max((a["confidence"] for a in own.alternatives
                                  if a["code"] in self.categories and self._on_one_line(a["code"], given)), default=0.0)
                alternatives = [{"code": own.code, "name": own.name, "confidence": round(own.confidence, 4)}]
            alternatives += [a for a in own.alternatives if a["code"] != given][: 3 - len(alternatives)]
        return CategoryResult(code=given, name=info.name, names=info.names, confidence=float(confidence), words=words,
                              source="given", alternatives=alternatives)

    def _referral(self, text: str) -> dict[str, Any] | None:
        found = self.rules.referral(text) if self.rules is not None else None
        if not found:
            return None
        if isinstance(found, Mapping):
            data = dict(found)
        else:
            data = {k: getattr(found, k) for k in ("outcome", "referred_to", "reason", "words", "confidence")
                    if hasattr(found, k)}
        if "words" in data and data["words"] is not None:
            data["words"] = [str(w) for w in data["words"]]
        return data

    # --- the whole

    def triage(self, given: TriageInput) -> TriageResult:
        started = time.perf_counter()
        result = TriageResult(ok=False, model_version=self.model_version)
        try:
            self._run(given, result)
        except Exception as exc:  # a bug in a model or a rule must not take intake down
            result.ok = False
            result.errors.append(_err("internal", f"triage failed: {type(exc).__name__}"))
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    def _run(self, given: TriageInput, result: TriageResult) -> None:
        raw = given.text if isinstance(given.text, str) else ("" if given.text is None else str(given.text))
        if len(raw) > self.max_text:
            result.errors.append(_err("too_long", f"the text is longer than {self.max_text} characters", limit=self.max_text))
            return
        text, removed = clean(raw)
        address, removed_addr = clean((given.address or "")[: MAX_ADDRESS * 4])
        if removed or removed_addr:
            result.warnings.append(_err("control_characters", "control characters were removed"))
        if len(address) > MAX_ADDRESS:
            result.warnings.append(_err("address_too_long", f"only the first {MAX_ADDRESS} characters of the "
                                                             "address were read", limit=MAX_ADDRESS))
            address = address[:MAX_ADDRESS]
        text_ok = True
        if not text:
            result.errors.append(_err("empty", "the text is empty"))
            text_ok = False
        elif not has_chinese(text):
            result.errors.append(_err("no_chinese", "the text has no Chinese in it"))
            text_ok = False

        # Where: even when the text is unusable, an address or coordinates may still say.
        lat, lng = _coordinate(given.latitude, 90), _coordinate(given.longitude, 180)
        loc = self.gazetteer.locate(address, text if text_ok else "", lat, lng)
        if given.area_code and given.area_code in self.gazetteer.areas:
            # The call-taker's area is used as given; the confidence is the gazetteer's own in it
            # (it located the address or text there, or at a place on the same line), else 0, so
            # a person's pick alone does not auto-dispatch where the place decides the unit.
            node = self.gazetteer.areas[given.area_code]
            own = loc.code if loc.status == "found" else None
            agrees = own is not None and (own in node.path or given.area_code in self.gazetteer.areas[own].path)
            confidence = loc.confidence if agrees else 0.0
            loc = self.gazetteer._location(node)
            loc.status, loc.confidence, loc.source = "found", confidence, "given"
        result.location = loc
        if loc.status == "outside":
            result.errors.append(_err("outside_city", f"the address is outside the city ({loc.outside})", place=loc.outside))
        if not text_ok:
            return

        if self.rules is not None:
            code, conf = self.rules.classify_type(text)
            result.type = Scored(code, float(conf))
            u = self.rules.classify_urgency(text)
            result.urgency = UrgencyResult(u[0], float(u[1]), u[2] if len(u) > 2 else None)
            result.referral = self._referral(text)
        result.category = self.classify_category(text, given.category_code)
        result.ok = True
        if loc.status == "outside" or result.category.code is None:
            return
        area = loc.code if loc.status in ("found", "ambiguous") else None
        match = self.routes.lookup(result.category.code, area)
        if match is None:
            return
        result.routing = match.to_dict(self.routes)
        needs_place = match.area_sensitive
        place_conf = loc.confidence if loc.status == "found" else (loc.confidence * 0.5)
        result.confidence = result.category.confidence * (place_conf if needs_place else 1.0)

    def triage_many(self, inputs: Sequence[TriageInput]) -> list[TriageResult]:
        return [self.triage(i) for i in inputs]


def _coordinate(value: Any, bound: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or abs(number) > bound:  # NaN or out of range
        return None
    return number
