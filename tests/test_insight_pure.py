"""Hotspot clustering, spikes and reply quality: pure functions, no database."""

from __future__ import annotations

import datetime as dt

from jiesu.insight import hotspots, reply_quality
from jiesu.insight.tiles import BEIJING, layout

T0 = dt.datetime(2026, 5, 4, 9, 0)


def doc(key, text, *, area="A", days=0.0, who="", weight=1.0):
    return hotspots.Doc(key=key, area=area, at=T0 + dt.timedelta(days=days), text=text, who=who or key, weight=weight)


NOISE = [
    "小区门口垃圾桶满了好几天没人清运，臭味很大",
    "公交车末班车时间太早，下班后没有车回家",
    "孩子入学需要的材料不清楚，想咨询一下流程",
    "物业费涨价没有开业主大会，不合理",
    "楼下饭店油烟直排，窗户都不能开",
]


def test_similar_requests_in_one_area_and_window_form_one_cluster():
    docs = [
        doc("1", "三里屯路19号路口的路灯坏了一个星期，晚上很黑"),
        doc("2", "三里屯路19号路口路灯不亮一个星期了，晚上走路很黑", days=1),
        doc("3", "三里屯路19号附近路口的路灯坏了，晚上太黑了", days=2.5),
    ] + [doc(f"n{i}", t, days=i * 0.7) for i, t in enumerate(NOISE)]
    found = hotspots.cluster(docs, min_size=2)
    assert len(found) == 1
    c = found[0]
    assert [d.key for d in c.members] == ["1", "2", "3"]
    assert c.area == "A" and c.size == 3 and c.people == 3 and c.score == 3
    assert "三里屯" in c.terms and not any(t.isdigit() for t in c.terms)
    assert c.start == T0 and c.end == T0 + dt.timedelta(days=2.5)


def test_other_areas_and_times_far_apart_stay_apart():
    text = "三里屯路19号路口的路灯坏了一个星期，晚上很黑"
    docs = [doc("1", text), doc("2", text, area="B"), doc("3", text, days=30)]
    assert hotspots.cluster(docs, min_size=2, window=dt.timedelta(days=7)) == []
    # Without areas the first two meet; with a long window the third joins too.
    assert [c.size for c in hotspots.cluster(docs, min_size=2, by_area=False)] == [2]
    assert [c.size for c in hotspots.cluster(docs, min_size=2, by_area=False, window=dt.timedelta(days=40))] == [3]


def test_one_person_calling_again_is_not_a_bigger_hotspot():
    text = "楼下饭店油烟直排，窗户都不能开"
    same = hotspots.cluster([doc(str(i), text, days=i, who="p1") for i in range(4)], min_size=2)
    many = hotspots.cluster([doc(str(i), text, days=i) for i in range(4)], min_size=2)
    assert same[0].size == many[0].size == 4
    assert same[0].people == 1 and same[0].score == 1
    assert many[0].people == 4 and many[0].score == 4
    # Support (likes) weighs a person's best-backed request.
    backed = hotspots.cluster([doc("a", text, who="p1", weight=3.0), doc("b", text, who="p2", days=1)], min_size=2)
    assert backed[0].score == 4.0


def test_similarity_and_features():
    a = hotspots.features("路灯不亮，晚上很黑")
    b = hotspots.features("路灯不亮，晚上很黑")
    c = hotspots.features("公交车末班车太早")
    assert hotspots.similarity(a, b) == 1.0
    assert hotspots.similarity(a, c) < 0.1
    assert "晚上" in a.words and "路灯" in a.bigrams and "的" not in hotspots.features("我的路灯").words
    assert hotspots.jaccard(frozenset(), frozenset({"x"})) == 0.0
    english = hotspots.features("streetlight broken", tokenize=str.split)
    assert english.words == {"streetlight", "broken"} and english.bigrams


def test_spikes_against_the_area_own_history():
    week = dt.date(2026, 5, 4)  # a Monday
    counts = {}
    for i in range(1, 9):
        counts[("quiet", week - dt.timedelta(weeks=i))] = 10 + (i % 2)  # 10 or 11 a week
        counts[("busy", week - dt.timedelta(weeks=i))] = 40 + 10 * (i % 2)  # 40 or 50: noisy
    counts[("quiet", week)] = 30
    counts[("busy", week)] = 55  # within its usual spread
    counts[("new", week)] = 4  # under min_count
    counts[("tiny", week)] = 6  # no history: mean 0, spread floor 1 → threshold 2
    found = hotspots.spikes(counts, week=week)
    keys = [s.key for s in found]
    assert keys == ["quiet", "tiny"]
    quiet = found[0]
    assert quiet.count == 30 and quiet.mean == 10.5 and quiet.ratio == round(30 / 10.5, 2)
    assert quiet.threshold == round(10.5 + 2 * max(0.5, 10.5 ** 0.5, 1), 2)


def test_weekly_counts_bucket_by_monday():
    items = [("a", dt.date(2026, 5, 4)), ("a", dt.date(2026, 5, 10)), ("a", dt.date(2026, 5, 11))]
    assert hotspots.weekly_counts(items) == {("a", dt.date(2026, 5, 4)): 2, ("a", dt.date(2026, 5, 11)): 1}
    assert hotspots.week_start(dt.date(2026, 5, 10)) == dt.date(2026, 5, 4)


GOOD = (
    "您好！您反映的小区路灯不亮问题已收悉。经现场核实，该路段3盏路灯线路老化。我街道已协调路灯管理所于6月3日"
    "更换线路，现已恢复照明。根据《北京市城市照明管理规定》第十条，路灯由属地负责日常巡查。"
    "如有疑问，请拨打联系电话010-84561234。"
)


def test_a_good_reply_states_all_four_with_evidence():
    q = reply_quality.check(GOOD)
    assert q.met == {"action": True, "result": True, "basis": True, "contact": True}
    assert q.score == 100
    for c in q.checks:
        for span in c.evidence:
            assert GOOD[span.start : span.end] == span.text
    assert any("经现场核实" in s.text for s in q["action"].evidence)
    assert any("现已恢复" in s.text for s in q["result"].evidence)
    assert any("《北京市城市照明管理规定》" in s.text for s in q["basis"].evidence)
    assert any("010-84561234" in s.text for s in q["contact"].evidence)


def test_passing_the_request_on_is_not_an_action():
    q = reply_quality.check("您的留言已收悉。关于您反映的问题，已转F9市调查处理。“UU0081160”，谢谢。2019年3月15日")
    assert q.met == {"action": False, "result": False, "basis": False, "contact": False}
    assert q.score == 0
    assert reply_quality.check("").score == 0


def test_partial_reply_and_weights():
    q = reply_quality.check("经调查，该店油烟净化器已安装到位。咨询电话：12345。")
    assert q.met["action"] and q.met["result"] and q.met["contact"] and not q.met["basis"]
    assert q.score == 80
    assert reply_quality.check("经调查，已责令整改。", weights={"action": 1, "result": 0, "basis": 0, "contact": 0}).score == 100


def test_tile_layout():
    names = {code: code for code in BEIJING}
    tiles = layout([(code, names[code], i) for i, code in enumerate(sorted(BEIJING))])
    assert len({(t.col, t.row) for t in tiles}) == 16  # one square each
    other = layout([("X1", "甲", 1), ("X2", "乙", 2), ("X3", "丙", 3), ("X4", "丁", 4), ("X5", "戊", 5)])
    assert [(t.col, t.row) for t in other] == [(0, 0), (1, 0), (2, 0), (3, 0), (0, 1)]
