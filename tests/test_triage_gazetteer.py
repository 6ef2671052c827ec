"""Jurisdiction from addresses, text and coordinates (pure: no database)."""

from __future__ import annotations

import csv
import random
from importlib import resources

import pytest

from jiesu.triage.gazetteer import (
    Gazetteer,
    bd09_to_gcj02,
    bd09_to_wgs84,
    boundary_problem,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    short_form,
    to_wgs84,
    wgs84_to_gcj02,
)


def demo_rows() -> list[dict[str, str]]:
    text = resources.files("jiesu.demo").joinpath("data/beijing_areas.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def beijing() -> Gazetteer:
    return Gazetteer.from_areas(demo_rows())


def names(loc):
    return (
        loc.district.name if loc.district else None,
        loc.street.name if loc.street else None,
        loc.community.name if loc.community else None,
    )


# --------------------------------------------------------------------------- the demo city


def test_every_district_and_a_sample_of_streets_resolve(beijing):
    """DESIGN/issue: the demo city resolves addresses in all 16 districts to district and street."""
    rows = demo_rows()
    by_code = {r["code"]: r for r in rows}
    streets: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["level"] == "3":
            streets.setdefault(r["parent_code"], []).append(r)
    districts = [r for r in rows if r["level"] == "2"]
    assert len(districts) == 16
    rng = random.Random(16)
    checked = 0
    for d in districts:
        sample = streets[d["code"]] if len(streets[d["code"]]) <= 8 else rng.sample(streets[d["code"]], 8)
        for s in sample:
            for name in filter(None, (s["name"], s["alias"])):
                loc = beijing.locate(f"北京市{d['name']}{name}某小区3号楼", "")
                assert loc.status == "found", (d["name"], name, loc)
                assert loc.district and loc.district.code == d["code"], (d["name"], name, loc)
                assert loc.street and loc.street.code == s["code"], (d["name"], name, loc)
                assert by_code[loc.street.code]["parent_code"] == d["code"]
                checked += 1
    assert checked >= 16 * 3


def test_every_street_resolves_by_its_full_name_with_its_district(beijing):
    rows = demo_rows()
    names_ = {r["code"]: r["name"] for r in rows}
    failures = []
    for r in rows:
        if r["level"] != "3":
            continue
        loc = beijing.locate(f"{names_[r['parent_code']]}{r['name']}", "")
        if loc.street is None or loc.street.code != r["code"]:
            failures.append((r["name"], loc.status))
    assert not failures


def test_short_forms_of_districts_streets_and_townships(beijing):
    assert names(beijing.locate("朝阳望京西园三区", "")) == ("朝阳区", "望京街道", "望京西园三区社区")
    loc = beijing.locate("望京街道", "")
    assert names(loc)[:2] == ("朝阳区", "望京街道")
    loc = beijing.locate("朝阳区望京", "")
    assert names(loc)[:2] == ("朝阳区", "望京街道")
    # a township with two names (旧宫地区 / 旧宫镇), and the short form of both
    for address in ("大兴区旧宫地区", "大兴区旧宫镇", "旧宫镇", "大兴旧宫"):
        assert names(beijing.locate(address, ""))[:2] == ("大兴区", "旧宫地区"), address


def test_longest_match_wins(beijing):
    # 朝阳门 is a street of 东城区, not the district 朝阳区
    loc = beijing.locate("朝阳门外大街10号", "")
    assert names(loc)[:2] == ("东城区", "朝阳门街道")
    # 海淀 is the district, although 海淀街道 and 海淀镇 share the short form
    assert beijing.locate("海淀", "").district.name == "海淀区"


def test_a_township_named_like_a_province_is_in_the_city(beijing):
    loc = beijing.locate("北京市房山区河北镇某村", "")
    assert loc.status == "found"
    assert names(loc)[:2] == ("房山区", "河北镇")
    assert beijing.locate("河北镇政府门口", "").status == "found"


def test_address_is_preferred_over_content(beijing):
    loc = beijing.locate("朝阳区望京街道花家地西里3号楼", "我上周在海淀区中关村也看到过")
    assert names(loc)[:2] == ("朝阳区", "望京街道")
    assert loc.source == "address"


def test_content_alone_locates_with_lower_confidence(beijing):
    from_content = beijing.locate("", "望京街道这边路灯坏了")
    from_address = beijing.locate("望京街道", "路灯坏了")
    assert names(from_content)[:2] == ("朝阳区", "望京街道")
    assert from_content.source == "content"
    assert from_content.confidence < from_address.confidence


def test_content_deepens_a_district_address(beijing):
    loc = beijing.locate("朝阳区", "花家地西里社区门口有积水")
    assert loc.district.name == "朝阳区"
    assert loc.community is not None and loc.community.name == "花家地西里社区"


def test_ambiguous_community_is_reported_not_guessed(beijing):
    # 黄寺社区 exists in 东城区 and in 朝阳区
    loc = beijing.locate("黄寺社区3号楼", "")
    assert loc.status == "ambiguous"
    assert loc.district is None and loc.community is None
    assert {a.name for a in loc.ambiguous} == {"黄寺社区"}
    assert len(loc.ambiguous) == 2
    # the district decides
    loc = beijing.locate("东城区黄寺社区3号楼", "")
    assert loc.status == "found" and loc.district.name == "东城区" and loc.community.name == "黄寺社区"


def test_same_street_name_in_two_districts(beijing):
    # 八里庄街道 is a street of 朝阳区 and of 海淀区
    loc = beijing.locate("八里庄街道", "")
    assert loc.status == "ambiguous" and {a.code[:6] for a in loc.ambiguous} == {"110105", "110108"}
    assert beijing.locate("海淀区八里庄街道", "").district.name == "海淀区"


def test_contradicting_address_is_ambiguous(beijing):
    loc = beijing.locate("海淀区望京街道", "")  # 望京 is in 朝阳区
    assert loc.status == "ambiguous"
    assert {a.name for a in loc.ambiguous} == {"海淀区", "望京街道"}


def test_a_road_named_like_a_street_elsewhere_does_not_override_the_district(beijing):
    loc = beijing.locate("朝阳区光明路3号", "")
    assert loc.status == "found" and loc.district.name == "朝阳区"


@pytest.mark.parametrize("address", ["上海市浦东新区世纪大道1号", "河北省石家庄市长安区", "天津滨海新区",
                                     "中国上海市黄浦区", "广东省深圳市南山区"])
def test_outside_the_city_is_explicit(beijing, address):
    loc = beijing.locate(address, "路灯坏了")
    assert loc.status == "outside"
    assert loc.district is None and loc.code is None
    assert loc.outside


@pytest.mark.parametrize("address,content", [
    ("", ""), ("   ", ""), ("12345", "hello"), ("\x00\x01\x02", "\x7f"), ("某某路3号", "路灯坏了"),
    ("朝阳区" * 40000, ""), (None, None),
])
def test_unknown_is_explicit_and_never_raises(beijing, address, content):
    loc = beijing.locate(address, content)
    assert loc.status in ("unknown", "found")
    if not (address and "朝阳区" in address):
        assert loc.status == "unknown" and loc.code is None and loc.confidence == 0


def test_short_form_rules():
    assert short_form("朝阳区") == "朝阳"
    assert short_form("望京街道") == "望京"
    assert short_form("旧宫地区") == "旧宫"
    assert short_form("花家地西里社区") == "花家地西里"
    assert short_form("和平里社区居委会") == "和平里"


def test_generic_or_ambiguous_short_forms_are_not_registered():
    rows = [
        {"code": "1", "name": "城市", "level": 1, "parent_code": ""},
        {"code": "11", "name": "东区", "level": 2, "parent_code": "1"},
        {"code": "12", "name": "西区", "level": 2, "parent_code": "1"},
        {"code": "111", "name": "长安街道", "level": 3, "parent_code": "11"},
        {"code": "121", "name": "长安镇", "level": 3, "parent_code": "12"},
        {"code": "112", "name": "光明街道", "level": 3, "parent_code": "11"},
    ]
    g = Gazetteer.from_areas(rows)
    assert "长安" not in g.index  # two places: only the full names match
    assert "光明" not in g.index  # an everyday word
    assert g.locate("长安街道", "").street.code == "111"
    assert g.locate("长安", "").status == "unknown"


# --------------------------------------------------------------------------- coordinates


def square(lng: float, lat: float, size: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size],
                                                [lng, lat + size], [lng, lat]]]}


@pytest.fixture
def squares() -> Gazetteer:
    rows = [
        {"code": "110000", "name": "北京市", "level": 1, "parent_code": ""},
        {"code": "110105", "name": "朝阳区", "level": 2, "parent_code": "110000", "polygon": square(116.4, 39.9, 0.2)},
        {"code": "110108", "name": "海淀区", "level": 2, "parent_code": "110000", "polygon": square(116.2, 39.9, 0.2)},
        {"code": "110105001", "name": "望京街道", "level": 3, "parent_code": "110105",
         "polygon": {"type": "Feature", "geometry": square(116.45, 39.98, 0.05)}},
        {"code": "110105002", "name": "三里屯街道", "level": 3, "parent_code": "110105",
         "boundary": '{"type": "MultiPolygon", "coordinates": [[[[116.42, 39.92], [116.44, 39.92], [116.44, 39.94],'
                     ' [116.42, 39.94], [116.42, 39.92]]]]}'},
        {"code": "110105002001", "name": "幸福社区", "level": 4, "parent_code": "110105002"},
        {"code": "110108001", "name": "中关村街道", "level": 3, "parent_code": "110108",
         "polygon": {"type": "Polygon", "coordinates": "broken"}},
    ]
    return Gazetteer.from_areas(rows)


def test_point_in_polygon_finds_the_deepest_area(squares):
    loc = squares.locate("", "", 39.99, 116.47)
    assert loc.status == "found" and loc.source == "coordinates"
    assert names(loc)[:2] == ("朝阳区", "望京街道")
    loc = squares.locate("", "", 39.93, 116.43)  # the MultiPolygon given as JSON text
    assert names(loc)[:2] == ("朝阳区", "三里屯街道")
    loc = squares.locate("", "", 39.95, 116.55)  # in the district, in no street polygon
    assert names(loc) == ("朝阳区", None, None)


def test_coordinates_win_over_a_contradicting_address_but_text_may_go_deeper(squares):
    loc = squares.locate("海淀区", "", 39.99, 116.47)
    assert names(loc)[:2] == ("朝阳区", "望京街道")
    loc = squares.locate("幸福社区", "", 39.93, 116.43)
    assert names(loc) == ("朝阳区", "三里屯街道", "幸福社区")


def test_outside_every_polygon_falls_back_to_text(squares):
    loc = squares.locate("海淀区中关村街道", "", 31.23, 121.47)  # Shanghai
    assert loc.source == "address" and names(loc)[:2] == ("海淀区", "中关村街道")
    assert squares.locate("", "", 31.23, 121.47).status == "unknown"


@pytest.mark.parametrize("lat,lng", [(None, 116.4), ("x", "y"), (float("nan"), 116.4), (float("inf"), 1.0)])
def test_bad_coordinates_are_ignored(squares, lat, lng):
    assert squares.locate("", "", lat, lng).status == "unknown"


def test_broken_boundaries_are_skipped_and_reported():
    assert boundary_problem(square(0, 0, 1)) == ""
    assert boundary_problem({"type": "Polygon", "coordinates": "broken"})
    assert boundary_problem("{not json")
    assert "Point" in boundary_problem({"type": "Point", "coordinates": [1, 2]})


def test_the_demo_city_has_no_polygons(beijing):
    assert beijing.polygons == []
    assert beijing.locate("", "", 39.99, 116.47).status == "unknown"


# --------------------------------------------------------------------------- conversions


def test_gcj02_round_trip_is_accurate():
    for lat, lng in [(39.9087, 116.3975), (31.2304, 121.4737), (22.5431, 114.0579)]:
        glat, glng = wgs84_to_gcj02(lat, lng)
        assert abs(glat - lat) > 1e-4 or abs(glng - lng) > 1e-4  # there is an offset in China
        wlat, wlng = gcj02_to_wgs84(glat, glng)
        assert abs(wlat - lat) < 1e-6 and abs(wlng - lng) < 1e-6


def test_known_offset_near_tiananmen():
    # WGS-84 (39.90872, 116.39748) is about (39.91012, 116.40372) in GCJ-02: ~500 m east.
    glat, glng = wgs84_to_gcj02(39.90872, 116.39748)
    assert abs(glat - 39.91012) < 3e-4 and abs(glng - 116.40372) < 3e-4


def test_bd09_round_trip():
    lat, lng = 39.915, 116.404
    blat, blng = gcj02_to_bd09(lat, lng)
    back = bd09_to_gcj02(blat, blng)
    assert abs(back[0] - lat) < 1e-5 and abs(back[1] - lng) < 1e-5
    wlat, wlng = bd09_to_wgs84(blat, blng)
    assert abs(wlat - gcj02_to_wgs84(lat, lng)[0]) < 1e-5


def test_outside_china_no_offset_and_unknown_systems_refused():
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)
    assert to_wgs84(39.9, 116.4, "WGS84") == (39.9, 116.4)
    assert to_wgs84(39.9, 116.4, "gcj-02") != (39.9, 116.4)
    with pytest.raises(ValueError):
        to_wgs84(39.9, 116.4, "mercator")
