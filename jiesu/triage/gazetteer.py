"""Jurisdiction (辖区): which district, street/township and community a request is about.

Pure Python (shapely only for polygons), no Django. Built from area rows — code, name, alias,
level, parent_code and optionally a GeoJSON ``polygon`` — as the database or the demo
gazetteer CSV hold them (DESIGN §5). Two ways in:

- coordinates, when areas have polygons: the deepest area whose polygon contains the point;
- text: the address first, then the content. Every official name and alias is looked up, and
  short forms with the administrative suffix stripped (朝阳区 → 朝阳, 望京街道 → 望京,
  旧宫地区 / 旧宫镇 → 旧宫), scanning left to right with the longest match at each position,
  so that 朝阳门 (a street of 东城区) is never read as 朝阳 (the district).

A short form is registered only where it names one place (or several on one line of descent,
like 海淀 for both 海淀区 and its 海淀街道: then the higher one). The candidates of all matches
are weighed against each other for consistency — a street is believed in the district the
address names — and when two places fit the evidence equally well (two districts each have a
community of that name, and nothing else decides), the answer is "ambiguous" with the
candidates, not a guess. An address in another province or municipality is "outside".

Coordinates are WGS-84 (as Open311 expects); ``gcj02_to_wgs84`` and ``bd09_to_wgs84`` convert
what Chinese map services and phones report, at the edges where the source is known.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Suffixes stripped for short forms (longest first). 居委会/村委会 are how residents' and
# villagers' committees are often written; 地区 is the street-type name of a township.
SUFFIXES = ("社区居委会", "村民委员会", "居民委员会", "社区居委", "村委会", "居委会", "街道办事处", "街道办",
            "街道", "地区", "社区", "区", "镇", "乡", "村")
# Suffixes accepted after a short form, as people write them (望京街道办, 朝阳区政府 …)
# are not needed: the official names cover them. Levels: 1 city, 2 district, 3 street, 4 community.
CITY, DISTRICT, STREET, COMMUNITY = 1, 2, 3, 4

# Short forms that are everyday words or common road names; the official names still match.
GENERIC_SHORT = frozenset({
    "新村", "光明", "胜利", "向阳", "东风", "新华", "城关", "城南", "城北", "河北", "新镇", "古城",
    "曙光", "星城", "四海", "果园", "滨河", "清水", "空港", "东升", "长沟", "荣华", "和义", "安定",
    "南口", "北口", "东口", "西口", "中心", "城区", "新区", "开发",
})
# Province-level units other than the city itself: an address naming one of these is outside.
# (The 34 provincial-level divisions; the gazetteer's own city is removed at build time.)
PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
    "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
_SPACE = re.compile(r"\s+")
MAX_SCAN = 2000  # characters of content scanned (addresses are short; contents are cut)

# Weights of evidence, as (source, kind) → confidence of a place named that way.
CONFIDENCE = {
    ("coordinates", "polygon"): 0.97,
    ("address", "official"): 0.95,
    ("address", "short"): 0.88,
    ("content", "official"): 0.8,
    ("content", "short"): 0.65,
}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: int
    parent: str | None
    alias: str = ""
    path: tuple[str, ...] = ()  # codes from the root down to this area, itself included


@dataclass(frozen=True)
class AreaRef:
    code: str
    name: str
    level: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level}


@dataclass(frozen=True)
class Match:
    surface: str  # the text as found
    codes: tuple[str, ...]  # every area it may name
    kind: str  # official (name or alias) | short
    source: str  # address | content


@dataclass
class Location:
    """Where. ``status`` is ``found``, ``ambiguous`` (``ambiguous`` lists the candidates; the
    levels they share are still filled in), ``unknown`` or ``outside`` (another province)."""

    status: str = "unknown"
    district: AreaRef | None = None
    street: AreaRef | None = None
    community: AreaRef | None = None
    confidence: float = 0.0
    matched: list[str] = field(default_factory=list)
    ambiguous: list[AreaRef] = field(default_factory=list)
    source: str = ""  # coordinates | address | content
    conflict: bool = False  # the evidence pointed at more than one place; the stronger won
    outside: str = ""  # the foreign place named, when status == "outside"

    @property
    def deepest(self) -> AreaRef | None:
        return self.community or self.street or self.district

    @property
    def code(self) -> str | None:
        deepest = self.deepest
        return deepest.code if deepest else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "district": self.district.to_dict() if self.district else None,
            "street": self.street.to_dict() if self.street else None,
            "community": self.community.to_dict() if self.community else None,
            "code": self.code,
            "confidence": round(self.confidence, 4),
            "matched": list(self.matched),
            "ambiguous": [a.to_dict() for a in self.ambiguous],
            "source": self.source,
            "conflict": self.conflict,
            "outside": self.outside or None,
        }


def normalise(text: str | None) -> str:
    """NFKC (full-width digits and letters to ASCII), no whitespace, no control characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return _SPACE.sub("", text)


def short_form(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _polygon(value: Any):
    """A shapely geometry from GeoJSON (geometry, Feature or its JSON text), else None."""
    if value in (None, "", {}):
        return None
    from shapely.geometry import shape
    from shapely.prepared import prep

    data = json.loads(value) if isinstance(value, str | bytes) else value
    if isinstance(data, Mapping) and data.get("type") == "Feature":
        data = data.get("geometry")
    if isinstance(data, Mapping) and data.get("type") == "FeatureCollection":
        from shapely.ops import unary_union

        geom = unary_union([shape(f["geometry"]) for f in data.get("features", []) if f.get("geometry")])
    else:
        geom = shape(data)
    if geom.is_empty:
        return None
    return prep(geom)


def boundary_problem(value: Any) -> str:
    """Why a boundary cannot be used ("" if it can): for admins loading polygons."""
    try:
        geom = _polygon(value)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return str(exc) or type(exc).__name__
    except Exception as exc:  # shapely's own errors (GEOSException …)
        return str(exc) or type(exc).__name__
    if geom is None:
        return "empty geometry"
    if geom.context.geom_type not in ("Polygon", "MultiPolygon"):
        return f"a {geom.context.geom_type}, not a polygon"
    return ""


class Gazetteer:
    def __init__(self, areas: Iterable[Area], polygons: Mapping[str, Any] | None = None) -> None:
        self.areas: dict[str, Area] = {a.code: a for a in areas}
        roots = [a for a in self.areas.values() if a.level == CITY]
        self.city: Area | None = roots[0] if len(roots) == 1 else None
        city_short = self.city.name.removesuffix("市") if self.city else ""
        self._provinces = tuple(p for p in PROVINCES if p != city_short)
        self._foreign = re.compile(
            r"(" + "|".join(self._provinces) + r")(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)"
        ) if self._provinces else None
        self._foreign_start = re.compile(r"^(?:中国|中华人民共和国)?(" + "|".join(self._provinces) + ")")
        self.index: dict[str, tuple[tuple[str, ...], str]] = {}
        self._build_index()
        # first character → the lengths of names starting with it, longest first
        lengths: dict[str, set[int]] = {}
        for surface in self.index:
            lengths.setdefault(surface[0], set()).add(len(surface))
        self._lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}
        self.polygons: list[tuple[str, Any]] = []
        for code, geom in (polygons or {}).items():
            if code in self.areas and geom is not None:
                self.polygons.append((code, geom))
        # deepest first, so that the first containing polygon is the most specific
        self.polygons.sort(key=lambda item: -self.areas[item[0]].level)

    # ----------------------------------------------------------------------------- building

    @classmethod
    def from_areas(cls, rows: Iterable[Mapping[str, Any]]) -> Gazetteer:
        """From mappings with ``code, name, level, parent_code`` and optionally ``alias`` and a
        GeoJSON ``polygon`` (or ``boundary``). Parents may come after their children."""
        raw: dict[str, dict[str, Any]] = {}
        polygons: dict[str, Any] = {}
        for row in rows:
            code = str(row["code"]).strip()
            if not code:
                continue
            level = int(row.get("level") or 0)
            parent = str(row.get("parent_code") or "").strip() or None
            raw[code] = {"code": code, "name": normalise(row["name"]), "alias": normalise(row.get("alias") or ""),
                         "level": level, "parent": parent}
            geo = row.get("polygon") or row.get("boundary")
            if geo:
                try:
                    polygons[code] = _polygon(geo)
                except Exception:  # a broken boundary is skipped, not fatal (admins are told on save)
                    polygons[code] = None
        paths: dict[str, tuple[str, ...]] = {}

        def path_of(code: str, seen: tuple[str, ...] = ()) -> tuple[str, ...]:
            if code in paths:
                return paths[code]
            parent = raw[code]["parent"]
            if parent and parent in raw and parent not in seen:
                result = path_of(parent, (*seen, code)) + (code,)
            else:
                result = (code,)
            paths[code] = result
            return result

        areas = []
        for code, r in raw.items():
            areas.append(Area(code=code, name=r["name"], level=r["level"], parent=r["parent"] if r["parent"] in raw
                              else None, alias=r["alias"], path=path_of(code)))
        return cls(areas, polygons)

    def _build_index(self) -> None:
        official: dict[str, set[str]] = {}
        for a in self.areas.values():
            for name in (a.name, a.alias):
                if name:
                    official.setdefault(name, set()).add(a.code)
        shorts: dict[str, set[str]] = {}
        for a in self.areas.values():
            if a.level == CITY:
                forms = {a.name.removesuffix("市")}
            else:
                forms = {short_form(n) for n in (a.name, a.alias) if n}
            for s in forms:
                if s in official or s in GENERIC_SHORT or len(s) < 2:
                    continue
                if a.level >= COMMUNITY and len(s) < 3:
                    continue  # 二条, 前进: too many everyday two-character words
                shorts.setdefault(s, set()).add(a.code)
        index: dict[str, tuple[tuple[str, ...], str]] = {
            name: (tuple(sorted(codes)), "official") for name, codes in official.items()
        }
        for s, codes in shorts.items():
            chosen = self._one_line(codes)
            if chosen is not None:
                index[s] = ((chosen,), "short")
        self.index = index

    def _one_line(self, codes: set[str]) -> str | None:
        """The highest of ``codes`` if they all lie on one line of descent, else None."""
        ordered = sorted(codes, key=lambda c: self.areas[c].level)
        top = ordered[0]
        for c in ordered[1:]:
            if top not in self.areas[c].path:
                # A district's short form beats the short forms of other districts' places:
                # 延庆 is 延庆区, not 延庆镇 elsewhere (there is none, but the rule is general).
                tops = [x for x in ordered if self.areas[x].level == self.areas[top].level]
                if len(tops) == 1 and self.areas[top].level <= DISTRICT:
                    return top
                return None
        return top

    # ----------------------------------------------------------------------------- lookup

    def ref(self, code: str | None) -> AreaRef | None:
        a = self.areas.get(code or "")
        return AreaRef(a.code, a.name, a.level) if a else None

    def scan(self, text: str, source: str) -> list[Match]:
        """Non-overlapping matches, longest first at each position, left to right."""
        out: list[Match] = []
        i, n = 0, len(text)
        index, lengths = self.index, self._lengths
        while i < n:
            hit = None
            for length in lengths.get(text[i], ()):
                if i + length <= n:
                    surface = text[i : i + length]
                    found = index.get(surface)
                    if found is not None:
                        hit = (surface, found)
                        break
            if hit is None:
                i += 1
                continue
            surface, (codes, kind) = hit
            out.append(Match(surface=surface, codes=codes, kind=kind, source=source))
            i += len(surface)
        return out

    def outside(self, address: str) -> tuple[str, bool]:
        """The other province or municipality an address names ("" if none), and whether the
        address starts with it (then it is decisive, whatever follows)."""
        if not address or not self._provinces:
            return "", False
        start = self._foreign_start.match(address)
        if start and not self._starts_in_city(address[start.start(1):]):
            return start.group(1), True
        m = self._foreign.search(address) if self._foreign is not None else None
        return (m.group(0), False) if m else ("", False)

    def _starts_in_city(self, text: str) -> bool:
        """Whether a place of the city's own starts the text (河北镇 is in 房山区)."""
        for length in self._lengths.get(text[:1], ()):
            found = self.index.get(text[:length])
            if found is not None and any(self.areas[c].level > CITY for c in found[0]):
                return True
        return False

    def locate_point(self, latitude: float | None, longitude: float | None) -> Area | None:
        if not self.polygons or latitude is None or longitude is None:
            return None
        try:
            lat, lng = float(latitude), float(longitude)
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(lat) and math.isfinite(lng)):
            return None
        from shapely.geometry import Point

        point = Point(lng, lat)  # GeoJSON order: x = longitude, y = latitude
        for code, geom in self.polygons:
            if geom.contains(point):
                return self.areas[code]
        return None

    def locate(
        self,
        address: str | None = "",
        content: str | None = "",
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Location:
        address = normalise(address)[:MAX_SCAN]
        content = normalise(content)[:MAX_SCAN]
        matches = self.scan(address, "address") + self.scan(content, "content")
        point = self.locate_point(latitude, longitude)
        if point is not None:
            loc = self._from_point(point, matches)
            if loc is not None:
                return loc
        foreign, at_start = self.outside(address)
        in_city = [m for m in matches if m.source == "address" and self._below_city(m)]
        if foreign and (at_start or not in_city):
            return Location(status="outside", outside=foreign, matched=[foreign], source="address")
        return self._from_text(matches)

    def _below_city(self, m: Match) -> bool:
        return any(self.areas[c].level > CITY for c in m.codes)

    # ----------------------------------------------------------------------------- weighing

    def _from_point(self, area: Area, matches: list[Match]) -> Location | None:
        """The polygon decides; text may only go deeper inside it (a community within the
        street found), never elsewhere."""
        deeper = [
            (m, c) for m in matches for c in m.codes
            if area.code in self.areas[c].path and self.areas[c].level > area.level
        ]
        node = area
        extra: list[str] = []
        if deeper:
            best = max(deeper, key=lambda mc: (mc[0].source == "address", mc[0].kind == "official",
                                               self.areas[mc[1]].level))
            candidates = {c for m, c in deeper if self.areas[c].level == self.areas[best[1]].level}
            if len(candidates) == 1:
                node, extra = self.areas[best[1]], [best[0].surface]
        loc = self._location(node)
        loc.status, loc.source = "found", "coordinates"
        loc.confidence = CONFIDENCE[("coordinates", "polygon")]
        loc.matched = [f"({area.name})", *extra]
        return loc

    def _location(self, node: Area | None) -> Location:
        loc = Location()
        if node is None:
            return loc
        for code in node.path:
            a = self.areas[code]
            ref = AreaRef(a.code, a.name, a.level)
            if a.level == DISTRICT:
                loc.district = ref
            elif a.level == STREET:
                loc.street = ref
            elif a.level == COMMUNITY:
                loc.community = ref
        return loc

    def _from_text(self, matches: list[Match]) -> Location:
        useful = [m for m in matches if self._below_city(m)]
        if not useful:
            return Location(status="unknown", matched=[m.surface for m in matches])
        hypotheses = {c for m in useful for c in m.codes if self.areas[c].level > CITY}
        scored = []
        for h in hypotheses:
            path = set(self.areas[h].path)
            score = [0, 0, 0, 0]
            for m in useful:
                if any(c in path for c in m.codes):
                    slot = (0 if m.source == "address" else 2) + (0 if m.kind == "official" else 1)
                    score[slot] += 1
            scored.append((tuple(score), self.areas[h].level, h))
        scored.sort(reverse=True)
        best_score, _level, best = scored[0]
        tied = [h for s, _lv, h in scored if s == best_score]
        rivals = [h for h in tied if not self._same_line(h, best)]
        if rivals:
            return self._ambiguous([best, *rivals], useful)
        node = self.areas[best]
        loc = self._location(node)
        loc.status = "found"
        support = [m for m in useful if any(c in node.path for c in m.codes)]
        own = [m for m in support if node.code in m.codes] or support
        first = max(own, key=lambda m: (m.source == "address", m.kind == "official"))
        loc.source = first.source
        conf = CONFIDENCE[(first.source, first.kind)]
        if len({self.areas[c].level for m in support for c in m.codes if c in node.path}) > 1:
            conf = min(0.99, conf + 0.03)  # parent and child both named, and consistent
        # An address that also names a place elsewhere (海淀区 … 望京) lowers confidence.
        unexplained = [m for m in useful if m.source == "address" and not any(c in node.path for c in m.codes)]
        if unexplained:
            loc.conflict = True
            conf *= 0.75
        loc.confidence = conf
        loc.matched = [m.surface for m in support]
        return loc

    def _same_line(self, a: str, b: str) -> bool:
        return a in self.areas[b].path or b in self.areas[a].path

    def _ambiguous(self, codes: list[str], useful: list[Match]) -> Location:
        paths = [self.areas[c].path for c in codes]
        shared: list[str] = []
        for level_codes in zip(*paths, strict=False):
            if len(set(level_codes)) != 1:
                break
            shared.append(level_codes[0])
        common = self.areas[shared[-1]] if shared else None
        loc = self._location(common if common is not None and common.level > CITY else None)
        loc.status = "ambiguous"
        loc.ambiguous = sorted((AreaRef(self.areas[c].code, self.areas[c].name, self.areas[c].level)
                                for c in set(codes)), key=lambda r: r.code)
        loc.matched = [m.surface for m in useful]
        loc.source = "address" if any(m.source == "address" for m in useful) else "content"
        loc.confidence = 0.5 * CONFIDENCE[(loc.source, "official")] if loc.deepest else 0.0
        return loc

    # ----------------------------------------------------------------------------- misc

    def names(self, code: str | None) -> list[str]:
        """Names from the district down, for display: ["朝阳区", "望京街道"]."""
        a = self.areas.get(code or "")
        if a is None:
            return []
        return [self.areas[c].name for c in a.path if self.areas[c].level > CITY]

    def __len__(self) -> int:
        return len(self.areas)


# ----------------------------------------------------------------------------- coordinates
#
# GCJ-02 ("Mars coordinates", required of Chinese map services) is WGS-84 with a published,
# non-linear offset inside China; BD-09 (Baidu) is GCJ-02 further rotated. The forward formula
# is public (e.g. the widely used eviltransform); the inverse is found by fixed-point iteration,
# accurate to well under a metre.

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def in_china(lat: float, lng: float) -> bool:
    """The rough box inside which GCJ-02 is offset (outside it, GCJ-02 equals WGS-84)."""
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse of :func:`wgs84_to_gcj02` by iteration (error < 1e-7 degrees, ~1 cm)."""
    if not in_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-9 and abs(dlng) < 1e-9:
            break
    return wlat, wlng


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


def to_wgs84(lat: float, lng: float, system: str = "wgs84") -> tuple[float, float]:
    """Convert from ``wgs84`` (unchanged), ``gcj02`` or ``bd09``; unknown systems raise ValueError."""
    system = (system or "wgs84").lower().replace("-", "")
    if system == "wgs84":
        return lat, lng
    if system == "gcj02":
        return gcj02_to_wgs84(lat, lng)
    if system == "bd09":
        return bd09_to_wgs84(lat, lng)
    raise ValueError(f"unknown coordinate system {system!r}")
