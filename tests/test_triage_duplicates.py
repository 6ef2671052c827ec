"""Possible duplicates: text similarity, place and time (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu.triage.duplicates import Candidate, DuplicateFinder, _place, bigrams, corpus_idf

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
WANGJING = "110000/110105/110105001"
WANGJING_COMMUNITY = "110000/110105/110105001/110105001002"
SANLITUN = "110000/110105/110105002"
HAIDIAN = "110000/110108/110108001"

LAMP = "望京西园三区12号楼门口的路灯坏了一个星期，晚上很黑，老人出门不方便，请尽快修理。"
LAMP_AGAIN = "望京西园三区12号楼门口路灯坏了好几天了，晚上漆黑一片，希望尽快派人修理路灯。"
NOISE = "小区对面工地夜间施工，凌晨两点还在打桩，噪音太大，严重影响休息。"
WATER = "家里停水两天了，物业说是管道维修，一直没有通知什么时候恢复供水。"
HEATING = "暖气不热，室温只有十五度，家里有老人孩子，请热力公司尽快处理。"


def pool(*items):
    return [Candidate(number=n, text=t, area=a, at=at) for n, t, a, at in items]


def test_bigrams():
    assert bigrams("路灯坏了") == ["路灯", "灯坏", "坏了"]
    assert bigrams("3号楼，ABC") == ["3", "号楼", "abc"]
    assert bigrams("灯") == ["灯"]
    assert bigrams("") == [] and bigrams(None) == []


def test_the_same_complaint_in_other_words_is_found_first():
    finder = DuplicateFinder()
    candidates = pool(
        ("A", LAMP_AGAIN, WANGJING, NOW - dt.timedelta(days=2)),
        ("B", NOISE, WANGJING, NOW - dt.timedelta(days=1)),
        ("C", WATER, WANGJING, NOW - dt.timedelta(days=1)),
        ("D", HEATING, SANLITUN, NOW - dt.timedelta(days=3)),
    )
    found = finder.find(LAMP, candidates, area=WANGJING, at=NOW)
    assert [m.number for m in found] == ["A"]
    assert found[0].score >= finder.threshold
    assert found[0].place == "street"


def test_place_bonus_and_other_district_penalty():
    finder = DuplicateFinder(threshold=0.0)
    same = finder.find(LAMP, pool(("A", LAMP_AGAIN, WANGJING_COMMUNITY, NOW)), area=WANGJING_COMMUNITY, at=NOW)
    street = finder.find(LAMP, pool(("A", LAMP_AGAIN, WANGJING, NOW)), area=WANGJING_COMMUNITY, at=NOW)
    elsewhere = finder.find(LAMP, pool(("A", LAMP_AGAIN, HAIDIAN, NOW)), area=WANGJING, at=NOW)
    unknown = finder.find(LAMP, pool(("A", LAMP_AGAIN, "", NOW)), area=WANGJING, at=NOW)
    assert same[0].place == "community" and street[0].place == "street"
    assert elsewhere[0].place == "other_district" and unknown[0].place == ""
    assert same[0].score > street[0].score > unknown[0].score > elsewhere[0].score
    assert same[0].similarity == pytest.approx(elsewhere[0].similarity)


def test_time_decay_has_a_floor():
    finder = DuplicateFinder(threshold=0.0, half_life_days=30, time_floor=0.7)
    fresh = finder.find(LAMP, pool(("A", LAMP_AGAIN, WANGJING, NOW)), area=WANGJING, at=NOW)[0]
    month = finder.find(LAMP, pool(("A", LAMP_AGAIN, WANGJING, NOW - dt.timedelta(days=30))), area=WANGJING,
                        at=NOW)[0]
    year = finder.find(LAMP, pool(("A", LAMP_AGAIN, WANGJING, NOW - dt.timedelta(days=365))), area=WANGJING,
                       at=NOW)[0]
    assert fresh.score > month.score > year.score
    assert month.score == pytest.approx(fresh.score * 0.85, rel=1e-6)
    assert year.score >= fresh.score * 0.7 - 1e-9
    assert month.days == pytest.approx(30)
    assert finder.time_factor(None) == 1.0


def test_threshold_limit_and_exclude():
    finder = DuplicateFinder(limit=2)
    candidates = pool(*[(f"N{i}", LAMP_AGAIN + "。" * i, WANGJING, NOW) for i in range(5)])
    assert len(finder.find(LAMP, candidates, area=WANGJING, at=NOW)) == 2
    assert finder.find(LAMP, candidates, exclude=[c.number for c in candidates]) == []
    assert finder.find(LAMP, candidates, threshold=1.01) == []
    assert finder.find(LAMP, []) == [] and finder.find("", candidates) == []
    assert finder.find("!!!", candidates) == []


def test_identical_text_scores_top():
    finder = DuplicateFinder()
    found = finder.find(NOISE, pool(("A", NOISE, SANLITUN, NOW), ("B", LAMP, SANLITUN, NOW)), area=SANLITUN, at=NOW)
    assert found[0].number == "A" and found[0].similarity == pytest.approx(1.0)
    assert found[0].score == 1.0  # capped


def test_background_idf_fixes_the_weights_and_caches_vectors():
    corpus = [LAMP, LAMP_AGAIN, NOISE, WATER, HEATING] * 3
    finder = DuplicateFinder(background=corpus_idf(corpus))
    candidates = pool(("A", LAMP_AGAIN, WANGJING, NOW), ("B", WATER, WANGJING, NOW))
    first = finder.find(LAMP, candidates, area=WANGJING, at=NOW)
    assert candidates[0].vector is not None
    assert finder.find(LAMP, candidates, area=WANGJING, at=NOW) == first
    assert [m.number for m in first] == ["A"]


def test_template_phrases_weigh_less_with_idf_from_the_pool():
    template = "市民来电反映："
    a = template + "望京西园路灯不亮。请相关部门尽快处理。"
    noise = [template + t + "请相关部门尽快处理。" for t in (NOISE, WATER, HEATING, "楼道堆放杂物。", "垃圾没人清运。")]
    finder = DuplicateFinder(threshold=0.0)
    candidates = pool(*[(f"N{i}", t, "", NOW) for i, t in enumerate(noise)],
                      ("L", template + "望京西园的路灯坏了不亮。请相关部门尽快处理。", "", NOW))
    found = finder.find(a, candidates, at=NOW)
    assert found[0].number == "L"
    assert found[0].score > 2 * found[1].score


@pytest.mark.parametrize("a,b,place", [
    (WANGJING_COMMUNITY, WANGJING_COMMUNITY, "community"),
    (WANGJING_COMMUNITY, WANGJING, "street"),
    (WANGJING, SANLITUN, "district"),
    (WANGJING, HAIDIAN, "other_district"),
    ("110000", WANGJING, ""),
    ("", WANGJING, ""),
    ("X1", "X1", "street"),
])
def test_place(a, b, place):
    assert _place(a, b) == place


def test_to_dict_is_json_ready():
    m = DuplicateFinder().find(LAMP, pool(("A", LAMP_AGAIN, WANGJING, NOW)), area=WANGJING, at=NOW)[0]
    d = m.to_dict()
    assert set(d) == {"number", "score", "similarity", "place", "days"} and d["number"] == "A"
