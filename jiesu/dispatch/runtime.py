"""One triage engine per process, built from the database and the model store.

``engine()`` answers the cached engine. It is rebuilt when

- this process changed an area, unit, category or routing rule (signals call ``invalidate``);
- another process did (the ``generation`` of DispatchSettings moved, or the row counts of the
  catalogue tables changed — bulk loads send no signals), checked at most every
  ``JIESU["TRIAGE_REFRESH_SECONDS"]`` seconds (default 5) with one query;
- the model store has a newer category model (``ModelStore.latest`` picks it up without a
  restart).

A model that is missing or fails to load leaves the keyword classifier in charge (cold start);
nothing here may stop intake.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection

from jiesu.triage.engine import CategoryInfo, Route, Routes, Triage, UnitRef
from jiesu.triage.gazetteer import Gazetteer

log = logging.getLogger("jiesu.dispatch")

MODEL_NAME = "category"

T = TypeVar("T")

_lock = threading.RLock()
_state: dict[str, Any] = {"engine": None, "key": None, "checked": 0.0, "dirty": True, "rows": None}
# Values built from the catalogue without the engine (the desk's pick lists): their own key and
# check time, so that a page needing only a pick list never builds the whole engine.
_lists: dict[str, Any] = {"key": None, "checked": 0.0, "values": {}}


@dataclass(frozen=True)
class DispatchConfig:
    """What ``DispatchSettings`` says about auto-dispatch (the row's defaults without a row)."""

    auto_dispatch: bool = True
    threshold: float = 0.9


def invalidate() -> None:
    _state["dirty"] = True
    _lists.update(key=None, checked=0.0, values={})


def reset() -> None:
    """Forget the engine entirely (tests)."""
    with _lock:
        _state.update(engine=None, key=None, checked=0.0, dirty=True, rows=None)
        _lists.update(key=None, checked=0.0, values={})


def kept_with_catalogue(key: tuple, load: Callable[[], T]) -> T:
    """``load()``, kept while areas, units, categories and routing rules stay as they are: built
    anew at once after this process changed one of them (signals), and within
    ``TRIAGE_REFRESH_SECONDS`` after another process did (its ``generation``, or the row counts
    for bulk loads), as the engine is. For what every desk page would otherwise rebuild from
    the same rows, such as the pick lists of areas, categories and units."""
    now = time.monotonic()
    if _lists["key"] is None or now - _lists["checked"] >= _refresh_seconds():
        current = _catalogue_key()
        with _lock:
            if current != _lists["key"]:
                _lists.update(key=current, values={})
            _lists["checked"] = now
    values = _lists["values"]
    if key not in values:
        values[key] = load()
    return values[key]


def _refresh_seconds() -> float:
    return float(getattr(settings, "JIESU", {}).get("TRIAGE_REFRESH_SECONDS", 5))


def _catalogue_key() -> tuple:
    from jiesu.catalogue.models import Category, RoutingRule
    from jiesu.dispatch.models import DispatchSettings, KeywordRule
    from jiesu.org.models import Area, Unit

    # One round trip. Only our own models' table names go into the text, quoted: no input.
    q = connection.ops.quote_name
    settings_table, *tables = (q(m._meta.db_table)
                               for m in (DispatchSettings, Area, Unit, Category, RoutingRule, KeywordRule))
    parts = [f"(SELECT MAX(generation) FROM {settings_table})"]  # noqa: S608
    for t in tables:
        parts.append(f"(SELECT COUNT(*) FROM {t}), (SELECT MAX(id) FROM {t})")  # noqa: S608
    sql = "SELECT " + ", ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def _model_store():
    from jiesu.triage.store import ModelStore

    return ModelStore(settings.DATA_DIR)


def latest_model() -> tuple[str | None, Any]:
    """(version, classifier) of the newest category model, or (None, None): a missing or broken
    model is logged and treated as none."""
    try:
        found = _model_store().latest(MODEL_NAME)
    except Exception:
        log.exception("triage: the category model could not be loaded; using keyword rules")
        return None, None
    if not found:
        return None, None
    version, classifier = found
    return str(version), classifier


def engine() -> Triage:
    now = time.monotonic()
    current = _state["engine"]
    if current is not None and not _state["dirty"] and now - _state["checked"] < _refresh_seconds():
        return current
    with _lock:
        key = _catalogue_key()
        version, classifier = latest_model()
        built = _state["engine"]
        if built is None or _state["dirty"] or key != _state["key"]:
            built = build(classifier=classifier, model_version=version)
            _state["rows"] = None  # the same changes (signals, generation) that rebuild the engine
        elif version != built.model_version:
            built.model, built.model_version = classifier, version  # a new model, same catalogue
        _state.update(engine=built, key=key, dirty=False, checked=time.monotonic())
        return built


def dispatch_config() -> DispatchConfig:
    """Auto-dispatch on or off, and its threshold: read on every triage (an administrator's
    change applies to the next order), in plain SQL, which costs a tenth of the ORM's query."""
    from jiesu.dispatch.models import DispatchSettings

    table = connection.ops.quote_name(DispatchSettings._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT auto_dispatch, threshold FROM {table} WHERE id = 1")  # noqa: S608 (our table)
        row = cursor.fetchone()
    return DispatchConfig(bool(row[0]), float(row[1])) if row else DispatchConfig()


def unit(code: str) -> Any:
    """The active unit with this code (a ``Unit``), or None. Like ``category`` and ``area``:
    kept with the engine, so a row changed, added or deactivated here or in another process is
    seen when the engine sees it (at once, or within ``TRIAGE_REFRESH_SECONDS``), as the routes
    the engine dispatches by are. Auto-dispatch takes its rows from here instead of a query each."""
    from jiesu.org.models import Unit

    return _kept("unit", code, lambda: Unit.objects.filter(code=code, is_active=True).first())


def category(code: str) -> Any:
    """The active category with this code, or None (see ``unit``)."""
    from jiesu.catalogue.models import Category

    return _kept("category", code, lambda: Category.objects.filter(code=code, is_active=True).first())


def area(code: str) -> Any:
    """The area with this code, or None (see ``unit``)."""
    from jiesu.org.models import Area

    return _kept("area", code, lambda: Area.objects.filter(code=code).first())


def _kept(kind: str, code: str, load: Any) -> Any:
    rows = _state["rows"]
    if rows is None:
        rows = _state["rows"] = {}
    key = (kind, code)
    if key not in rows:
        rows[key] = load()
    return rows[key]


def area_path(code: str | None) -> str:
    """"110000/110105/110105001" for an area code: from the engine's gazetteer when this process
    has one (no query), else from the database."""
    if not code:
        return ""
    built = _state["engine"]
    if built is not None and code in built.gazetteer.areas:
        return "/".join(built.gazetteer.areas[code].path)
    from jiesu.org.models import Area

    return Area.objects.filter(code=code).values_list("path", flat=True).first() or ""


# ----------------------------------------------------------------------------- building


def area_rows() -> list[dict[str, Any]]:
    from jiesu.org.models import Area

    return [
        {"code": code, "name": name, "alias": alias, "level": level, "parent_code": parent or "",
         "polygon": boundary}
        for code, name, alias, level, parent, boundary in Area.objects.values_list(
            "code", "name", "alias", "level", "parent__code", "boundary"
        )
    ]


def category_infos() -> tuple[dict[str, CategoryInfo], list[dict[str, Any]]]:
    """Active categories as the engine sees them, and as rows for the keyword classifier."""
    from jiesu.catalogue.models import Category

    rows = list(Category.objects.filter(is_active=True).values_list("code", "name", "path", "keywords", "name_en"))
    names = {code: name for code, name, *_rest in rows}
    infos: dict[str, CategoryInfo] = {}
    for code, name, path, _kw, _en in rows:
        chain = tuple(c for c in path.split("/") if c in names)
        infos[code] = CategoryInfo(code=code, name=name, path=chain, names=tuple(names[c] for c in chain))
    parents = {c for info in infos.values() for c in info.path[:-1]}
    extra = category_rule_keywords()
    cat_rows = [
        {"code": code, "name": name, "path": path, "keywords": " ".join(filter(None, [kw or "", extra.get(code, "")])),
         "name_en": en, "leaf": code not in parents, "names": list(infos[code].names)}
        for code, name, path, kw, en in rows
    ]
    return infos, cat_rows


def routes(categories: dict[str, CategoryInfo], areas: list[dict[str, Any]]) -> Routes:
    from jiesu.catalogue.models import RoutingRule

    co: dict[int, list[UnitRef]] = {}
    through = RoutingRule.co_units.through
    for rule_id, code, name in through.objects.filter(unit__is_active=True).values_list(
        "routingrule_id", "unit__code", "unit__name"
    ).order_by("routingrule_id", "unit__code"):
        co.setdefault(rule_id, []).append(UnitRef(code, name))
    rows = RoutingRule.objects.filter(is_active=True, lead_unit__is_active=True).values_list(
        "id", "category__code", "area__code", "lead_unit__code", "lead_unit__name"
    )
    table = [
        Route(id=rid, category=cat, area=area, lead=UnitRef(lead, lead_name), co=tuple(co.get(rid, ())))
        for rid, cat, area, lead, lead_name in rows
        if cat in categories
    ]
    by_code = {r["code"]: r for r in areas}
    paths: dict[str, tuple[str, ...]] = {}

    def path(code: str) -> tuple[str, ...]:
        if code not in paths:
            parent = by_code[code]["parent_code"]
            paths[code] = (path(parent) if parent in by_code and parent != code else ()) + (code,)
        return paths[code]

    for code in by_code:
        path(code)
    return Routes(table, categories, paths, {c: r["name"] for c, r in by_code.items()})


def category_rule_keywords() -> dict[str, str]:
    """Keywords that administrators added to categories as keyword rules, per category code."""
    from jiesu.dispatch.models import KeywordRule, RuleTarget

    out: dict[str, list[str]] = {}
    for label, keywords in KeywordRule.objects.filter(target=RuleTarget.CATEGORY, is_active=True).values_list(
            "label", "keywords"):
        out.setdefault(label.strip(), []).append(keywords)
    return {code: " ".join(kws) for code, kws in out.items()}


def rule_set() -> Any:
    """The type, urgency, referral and hedge rules: the administrators' table (seeded with the
    shipped defaults by a migration), or the defaults file when the table has no rows at all. A
    row that does not parse (written around the admin's validation) is logged and left out: a
    bad rule must not stop triage."""
    from jiesu.dispatch.models import KeywordRule, RuleTarget
    from jiesu.triage.rules import RuleSet

    rows = list(KeywordRule.objects.exclude(target=RuleTarget.CATEGORY).order_by("id").values_list(
        "id", "target", "label", "keywords", "weight", "is_active"))
    if not rows and not KeywordRule.objects.exists():
        return RuleSet()
    rules = []
    for pk, target, label, keywords, weight, active in rows:
        if not active:
            continue
        try:
            rules.extend(RuleSet.from_rows([(target, label, keywords, weight)]).rules)
        except ValueError as err:
            log.warning("triage: keyword rule %s left out: %s", pk, err)
    return RuleSet(rules)


def keyword_classifier(cat_rows: list[dict[str, Any]]) -> Any:
    from jiesu.triage.rules import KeywordCategoryClassifier

    return KeywordCategoryClassifier(cat_rows)


def build(*, classifier: Any = None, model_version: str | None = None) -> Triage:
    started = time.perf_counter()
    areas = area_rows()
    categories, cat_rows = category_infos()
    engine_ = Triage(
        rules=rule_set(),
        category_classifier=classifier,
        keyword_classifier=keyword_classifier(cat_rows),
        gazetteer=Gazetteer.from_areas(areas),
        routes=routes(categories, areas),
        model_version=model_version,
    )
    log.info("triage engine built in %.0f ms (%d areas, %d categories, %d rules, model %s)",
             (time.perf_counter() - started) * 1000, len(areas), len(categories), engine_.routes.count,
             model_version or "none")
    return engine_
