"""The demo city's geography, organisations, 派单目录 (routing rules) and deadline limits.

Areas come from ``data/beijing_areas.csv`` (built from jionlp by ``gazetteer_build.py``);
units are derived from them with stable codes, so that a unit's code never depends on the
order rows were inserted in:

- ``C12345`` the city hotline centre; ``DC<district>`` the district centres;
- ``SO<township>`` a street/township office for every township-level area;
- ``CB-…`` city bureaus, ``UT-…`` utilities, ``CT…``/``PR…``/``JB…`` courts, procuratorates
  and justice bureaus (``-CITY`` or a district code), ``NO-…`` notary offices;
- ``PS<township>`` a police station for each township of the ``FULL_DISTRICTS``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from jiesu.catalogue.models import Category, RoutingRule
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.models import DeadlineLimit
from jiesu.demo.texts import TOWN_SUFFIX, Street
from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

CITY_CODE = "110000"
CENTRE = "C12345"
# Districts whose communities the gazetteer lists, and that get police stations.
FULL_DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "大兴区")

CITY_BUREAUS = (
    ("CB-CGW", "北京市城市管理委员会"),
    ("CB-CGZF", "北京市城市管理综合行政执法局"),
    ("CB-ZJW", "北京市住房和城乡建设委员会"),
    ("CB-JTW", "北京市交通委员会"),
    ("CB-JGJ", "北京市公安局公安交通管理局"),
    ("CB-STHJ", "北京市生态环境局"),
    ("CB-SCJG", "北京市市场监督管理局"),
    ("CB-RSJ", "北京市人力资源和社会保障局"),
    ("CB-YB", "北京市医疗保障局"),
    ("CB-JW", "北京市教育委员会"),
    ("CB-WJW", "北京市卫生健康委员会"),
    ("CB-MZJ", "北京市民政局"),
    ("CB-CL", "北京市残疾人联合会"),
    ("CB-GHZR", "北京市规划和自然资源委员会"),
    ("CB-SWJ", "北京市水务局"),
    ("CB-YLLH", "北京市园林绿化局"),
    ("CB-GAJ", "北京市公安局"),
    ("CB-XF", "北京市消防救援总队"),
    ("CB-YJ", "北京市应急管理局"),
    ("CB-NYNC", "北京市农业农村局"),
    ("CB-WHLY", "北京市文化和旅游局"),
    ("CB-ZWFW", "北京市政务服务和数据管理局"),
)
UTILITIES = (
    ("UT-WATER", "北京市自来水集团", "96116"),
    ("UT-POWER", "国网北京市电力公司", "95598"),
    ("UT-GAS", "北京市燃气集团", "96777"),
    ("UT-HEAT", "北京市热力集团", "96069"),
)
CITY_COURTS = (
    ("CT-HIGH", "北京市高级人民法院"),
    ("CT-1", "北京市第一中级人民法院"),
    ("CT-2", "北京市第二中级人民法院"),
    ("CT-3", "北京市第三中级人民法院"),
    ("CT-4", "北京市第四中级人民法院"),
)
CITY_PROCURATORATES = (
    ("PR-CITY", "北京市人民检察院"),
    ("PR-1", "北京市人民检察院第一分院"),
    ("PR-2", "北京市人民检察院第二分院"),
)
NOTARY_OFFICES = (
    ("NO-FANGYUAN", "北京市方圆公证处"),
    ("NO-CHANGAN", "北京市长安公证处"),
    ("NO-ZHONGXIN", "北京市中信公证处"),
    ("NO-GUOXIN", "北京市国信公证处"),
    ("NO-DONGFANG", "北京市东方公证处"),
    ("NO-HAICHENG", "北京市海诚公证处"),
)

# 派单目录 by category code (leaf or mid level; the deepest match wins, as in RoutingRule):
# ("city", lead, co…) one city-wide rule; ("street", co_kind) the order's street office, with
# the street's police station as co-unit when co_kind is "police"; ("police",) the street's
# police station where there is one, else 市公安局; ("district", prefix, fallback) the
# district's court/procuratorate/justice bureau.
ROUTES: dict[str, tuple[str, ...]] = {
    "0101": ("city", "CB-CGW"),
    "010102": ("city", "CB-JTW"),
    "010104": ("city", "CB-SWJ", "CB-CGW"),
    "0102": ("street", ""),
    "0103": ("street", ""),
    "0104": ("city", "CB-YLLH"),
    "0105": ("city", "CB-ZJW", "CB-CGZF"),
    "0201": ("street", ""),
    "0202": ("city", "CB-ZJW"),
    "0203": ("city", "CB-ZJW"),
    "020302": ("street", "police"),
    "0204": ("city", "CB-ZJW"),
    "0301": ("city", "UT-WATER"),
    "030103": ("city", "UT-WATER", "CB-SWJ"),
    "0302": ("city", "UT-POWER"),
    "0303": ("city", "UT-GAS"),
    "0304": ("city", "UT-HEAT"),
    "0401": ("city", "CB-JTW"),
    "0402": ("city", "CB-JGJ"),
    "040204": ("city", "CB-JTW"),
    "0403": ("city", "CB-JGJ"),
    "0404": ("street", ""),
    "0405": ("city", "CB-JGJ"),
    "0501": ("street", ""),
    "0502": ("city", "CB-STHJ"),
    "050201": ("city", "CB-CGZF"),
    "0503": ("city", "CB-SWJ", "CB-STHJ"),
    "0504": ("city", "CB-YLLH"),
    "06": ("city", "CB-SCJG"),
    "0701": ("city", "CB-RSJ"),
    "0702": ("city", "CB-RSJ"),
    "070202": ("city", "CB-YB"),
    "0703": ("city", "CB-RSJ"),
    "0704": ("city", "CB-RSJ"),
    "08": ("city", "CB-JW"),
    "09": ("city", "CB-WJW"),
    "0903": ("city", "CB-SCJG"),
    "1001": ("police",),
    "1002": ("city", "CB-XF"),
    "1003": ("city", "CB-YJ"),
    "1004": ("street", "police"),
    "1101": ("city", "NO-FANGYUAN"),
    "110102": ("city", "NO-CHANGAN"),
    "110103": ("city", "NO-GUOXIN"),
    "1102": ("district", "JB", "JB-CITY"),
    "1103": ("district", "CT", "CT-HIGH"),
    "1104": ("district", "PR", "PR-CITY"),
    "12": ("city", "CB-MZJ"),
    "1204": ("city", "CB-CL"),
    "1301": ("street", ""),
    "1302": ("city", "CB-NYNC"),
    "14": ("city", "CB-GHZR"),
    "15": ("city", "CB-WHLY"),
    "16": ("city", "CB-ZWFW"),
}


@dataclass
class World:
    """What the order generator needs to know about the city, without querying."""

    streets: list[Street]
    districts: list[tuple[str, str]]  # (code, name)
    units: dict[str, str]  # code → name
    police: dict[str, str]  # street code → police station code
    categories: dict[str, tuple[str, str]]  # leaf code → (name, top code)

    def street(self, code: str) -> Street:
        return next(s for s in self.streets if s.code == code)


def read_gazetteer() -> list[dict[str, str]]:
    text = resources.files("jiesu.demo").joinpath("data/beijing_areas.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_areas() -> list[Street]:
    """Insert every area of the gazetteer (bulk, with the materialised paths computed here)."""
    rows = read_gazetteer()
    paths: dict[str, str] = {}
    areas = []
    for row in rows:  # parents come before children in the file
        parent = row["parent_code"]
        paths[row["code"]] = f"{paths[parent]}/{row['code']}" if parent else row["code"]
        areas.append(
            Area(
                code=row["code"],
                name=row["name"],
                level=int(row["level"]),
                alias=row["alias"],
                path=paths[row["code"]],
            )
        )
    Area.objects.bulk_create(areas, batch_size=1000)
    ids = dict(Area.objects.values_list("code", "id"))
    links = [Area(id=ids[r["code"]], parent_id=ids[r["parent_code"]]) for r in rows if r["parent_code"]]
    Area.objects.bulk_update(links, ["parent"], batch_size=1000)
    return streets_from(rows)


def streets_from(rows: list[dict[str, str]]) -> list[Street]:
    names = {r["code"]: r["name"] for r in rows}
    communities: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        if r["level"] == str(AreaLevel.COMMUNITY):
            communities.setdefault(r["parent_code"], []).append((r["code"], r["name"]))
    return [
        Street(
            code=r["code"],
            name=r["name"],
            alias=r["alias"],
            district_code=r["parent_code"],
            district=names[r["parent_code"]],
            communities=tuple(communities.get(r["code"], ())),
        )
        for r in rows
        if r["level"] == str(AreaLevel.STREET)
    ]


def _office_name(street: Street) -> str:
    if street.name.endswith(("街道", "地区")):
        return f"{street.name}办事处"
    if street.name.endswith(("镇", "乡")):
        return f"{street.name}人民政府"
    return f"{street.name}管理委员会"  # development zones, airport


def _police_name(street: Street) -> str | None:
    if not TOWN_SUFFIX.search(street.name):
        return None  # a development zone has no station of its own here
    return f"{street.district.removesuffix('区')}分局{street.base}派出所"


def build_units(streets: list[Street]) -> tuple[dict[str, str], dict[str, str]]:
    """Create every unit; return (code → name, street code → police station code)."""
    area_ids = dict(Area.objects.values_list("code", "id"))
    districts = sorted({(s.district_code, s.district) for s in streets})
    specs: list[tuple[str, str, str, str | None, str | None, str]] = [
        (CENTRE, "市民热线服务中心", UnitKind.HOTLINE_CENTRE, None, CITY_CODE, "12345"),
    ]
    for code, name in districts:
        specs.append((f"DC{code}", f"{name}热线分中心", UnitKind.DISTRICT_CENTRE, CENTRE, code, ""))
    for s in streets:
        specs.append(
            (f"SO{s.code}", _office_name(s), UnitKind.STREET_OFFICE, f"DC{s.district_code}", s.code, "")
        )
    specs += [(code, name, UnitKind.CITY_BUREAU, None, CITY_CODE, "") for code, name in CITY_BUREAUS]
    specs += [(code, name, UnitKind.UTILITY, None, CITY_CODE, phone) for code, name, phone in UTILITIES]
    specs += [
        (code, name, UnitKind.COURT, None if code == "CT-HIGH" else "CT-HIGH", CITY_CODE, "")
        for code, name in CITY_COURTS
    ]
    specs += [
        (f"CT{code}", f"北京市{name}人民法院", UnitKind.COURT, "CT-HIGH", code, "")
        for code, name in districts
    ]
    specs += [
        (code, name, UnitKind.PROCURATORATE, None if code == "PR-CITY" else "PR-CITY", CITY_CODE, "12309")
        for code, name in CITY_PROCURATORATES
    ]
    specs += [
        (f"PR{code}", f"北京市{name}人民检察院", UnitKind.PROCURATORATE, "PR-CITY", code, "12309")
        for code, name in districts
    ]
    specs.append(("JB-CITY", "北京市司法局", UnitKind.JUSTICE_BUREAU, None, CITY_CODE, "12348"))
    specs += [
        (f"JB{code}", f"北京市{name}司法局", UnitKind.JUSTICE_BUREAU, "JB-CITY", code, "")
        for code, name in districts
    ]
    specs += [(code, name, UnitKind.NOTARY_OFFICE, "JB-CITY", CITY_CODE, "") for code, name in NOTARY_OFFICES]
    police: dict[str, str] = {}
    for s in streets:
        station = _police_name(s) if s.district in FULL_DISTRICTS else None
        if station:
            police[s.code] = f"PS{s.code}"
            specs.append((f"PS{s.code}", station, UnitKind.POLICE_STATION, "CB-GAJ", s.code, "110"))
    paths: dict[str, str] = {}
    units = []
    for code, name, kind, parent, area, phone in specs:  # parents precede children
        paths[code] = f"{paths[parent]}/{code}" if parent else code
        units.append(
            Unit(
                code=code,
                name=name,
                kind=kind,
                area_id=area_ids[area] if area else None,
                phone=phone,
                path=paths[code],
            )
        )
    Unit.objects.bulk_create(units, batch_size=1000)
    ids = dict(Unit.objects.values_list("code", "id"))
    Unit.objects.bulk_update(
        [Unit(id=ids[c], parent_id=ids[p]) for c, _n, _k, p, _a, _ph in specs if p],
        ["parent"],
        batch_size=1000,
    )
    return {code: name for code, name, *_rest in specs}, police


def route(world: World, leaf: str, street: Street) -> tuple[str, list[str]]:
    """(lead, co-units) for a leaf category in a street: what the rules below say."""
    for code in (leaf, leaf[:4], leaf[:2]):
        spec = ROUTES.get(code)
        if spec is None:
            continue
        kind = spec[0]
        if kind == "city":
            return spec[1], list(spec[2:])
        if kind == "street":
            co = [world.police[street.code]] if spec[1] == "police" and street.code in world.police else []
            return f"SO{street.code}", co
        if kind == "police":
            return world.police.get(street.code, "CB-GAJ"), []
        if kind == "district":
            return f"{spec[1]}{street.district_code}", []
    raise KeyError(f"no route for category {leaf}")


def build_routing_rules(world: World) -> int:
    """Write ROUTES as RoutingRule rows: one per city-wide category, one per (category, street)
    for street-level categories, one per (category, district) for the political-legal ones."""
    cats = dict(Category.objects.values_list("code", "id"))
    units = dict(Unit.objects.values_list("code", "id"))
    areas = dict(Area.objects.filter(level__lte=AreaLevel.STREET).values_list("code", "id"))
    rules: list[RoutingRule] = []
    co_links: list[tuple[int, list[str]]] = []  # (index in rules, co-unit codes)

    def add(category: str, area: str | None, lead: str, co: list[str]) -> None:
        if co:
            co_links.append((len(rules), co))
        rules.append(
            RoutingRule(
                category_id=cats[category], area_id=areas[area] if area else None, lead_unit_id=units[lead]
            )
        )

    for code in sorted(ROUTES):
        spec = ROUTES[code]
        kind = spec[0]
        if kind == "city":
            add(code, None, spec[1], list(spec[2:]))
        elif kind == "street":
            for s in world.streets:
                co = [world.police[s.code]] if spec[1] == "police" and s.code in world.police else []
                add(code, s.code, f"SO{s.code}", co)
        elif kind == "police":
            add(code, None, "CB-GAJ", [])
            for street_code in sorted(world.police):
                add(code, street_code, world.police[street_code], [])
        elif kind == "district":
            add(code, None, spec[2], [])
            for district_code, _name in world.districts:
                add(code, district_code, f"{spec[1]}{district_code}", [])
    RoutingRule.objects.bulk_create(rules, batch_size=1000)
    through = RoutingRule.co_units.through
    links = [through(routingrule_id=rules[i].pk, unit_id=units[c]) for i, codes in co_links for c in codes]
    through.objects.bulk_create(links, batch_size=1000)
    return len(rules)


def build_limits() -> int:
    """DESIGN §4 defaults: emergencies 2 hours; water, power, gas, heating 24 hours; general
    7 working days; complaints and reports in complex categories 15 working days. Consultations
    are mostly answered on the spot; dispatched ones follow the general limit."""
    cats = {c.code: c for c in Category.objects.filter(code__in=["03", "010301", "020303", "130103"])}
    rows = [
        DeadlineLimit(amount=7, unit="working_days", contact_hours=24, return_window_hours=2),
        DeadlineLimit(urgency="emergency", amount=2, unit="hours", contact_hours=1, return_window_hours=1),
        DeadlineLimit(category=cats["03"], amount=24, unit="hours", contact_hours=2, return_window_hours=1),
    ]
    for code, types in (
        ("010301", ("complaint", "report")),
        ("020303", ("complaint",)),
        ("130103", ("complaint", "report")),
    ):
        rows += [
            DeadlineLimit(
                request_type=t,
                category=cats[code],
                amount=15,
                unit="working_days",
                contact_hours=48,
                return_window_hours=4,
            )
            for t in types
        ]
    DeadlineLimit.objects.bulk_create(rows)
    deadlines.touch()  # bulk_create sends no signals: other processes re-read the limits
    return len(rows)


def category_index() -> dict[str, tuple[str, str]]:
    return {
        code: (name, code[:2]) for code, name in Category.objects.filter(level=3).values_list("code", "name")
    }
