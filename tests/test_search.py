"""Chinese full-text search over orders (DESIGN §9): words cut by rjieba with the domain
dictionary, then SQLite FTS5 or a PostgreSQL tsvector; one selector that honours visibility;
the desk's search box and ``GET /api/v1/orders?q=``. Runs on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from jiesu.orders import actions, numbering, selectors
from jiesu.search import tokens
from jiesu.search.models import OrderText
from jiesu.search.selectors import search_orders
from jiesu.search.services import rebuild
from tests.api_helpers import Api

# --- pure rules (no database) ---------------------------------------------------------------


def test_documents_hold_the_short_words_inside_long_ones():
    words = tokens.document_words("", "楼下饭店噪音扰民严重，路灯杆倒了", "")
    assert {"噪音", "扰民", "噪音扰民", "路灯", "路灯杆"} <= set(words)
    assert len(words) == len(set(words))  # each word once
    assert "，" not in words and "了" not in words  # punctuation and stop words carry no topic


def test_query_words_are_the_longest_cut_and_stop_words_go_unless_alone():
    assert tokens.query_words("路灯") == ["路灯"]
    assert tokens.query_words("  噪音  ") == ["噪音"]
    assert tokens.query_words("的") == ["的"]
    assert tokens.query_words("，。！") == []
    assert tokens.query_words("ＡＢＣ 路灯") == ["abc", "路灯"]  # NFKC and case folded like documents


def test_query_syntax_in_user_input_stays_literal():
    assert tokens.fts5_match(['a"b', "NOT"]) == '"a""b" "NOT"'
    assert tokens.tsquery(["it's", "a\\b"]) == "'it''s' & 'a\\\\b'"


def test_numbers_are_recognised():
    assert tokens.is_number("20260105000001") and tokens.is_number(" 20260105 ")
    assert not tokens.is_number("1234567") and not tokens.is_number("2026010500000a")


# --- on the database (SQLite FTS5 / PostgreSQL GIN) --------------------------------------------


@pytest.fixture
def orders(city, new_order):
    return {
        "lamp": new_order(title="路灯不亮", content="小区门口路灯杆倒了，晚上很黑。"),
        "noise": new_order(content="楼下饭店噪音扰民，夜里十二点还在营业。", category_code="0201"),
        "haidian": new_order(content="中关村大街有噪音，施工到深夜。", area_code="110108001"),
        "water": new_order(content="停水三天了，一直没人来修。", address="朝阳区三里屯路5号"),
    }


def _numbers(qs) -> set[str]:
    return {o.number for o in qs}


def test_two_character_queries_find_their_orders(city, orders):
    admin = city.actor("admin")
    assert _numbers(search_orders(admin, "路灯")) == {orders["lamp"].number}
    assert _numbers(search_orders(admin, "噪音")) == {orders["noise"].number, orders["haidian"].number}
    # Every word must be present; the address is indexed too.
    assert _numbers(search_orders(admin, "噪音 饭店")) == {orders["noise"].number}
    assert _numbers(search_orders(admin, "三里屯路 停水")) == {orders["water"].number}
    assert _numbers(search_orders(admin, "地铁")) == set()
    assert _numbers(search_orders(admin, "！！")) == set()


def test_search_by_number_and_newest_first(city, orders):
    admin = city.actor("admin")
    assert _numbers(search_orders(admin, orders["water"].number)) == {orders["water"].number}
    found = list(search_orders(admin, "噪音"))
    assert [o.number for o in found] == [orders["haidian"].number, orders["noise"].number]


def test_search_honours_visibility(city, orders, new_order):
    # A Chaoyang dispatcher does not see Haidian's orders; a unit sees only what it was given.
    assert _numbers(search_orders(city.actor("cy_dispatcher"), "噪音")) == {orders["noise"].number}
    assert _numbers(search_orders(city.actor("handler"), "噪音")) == set()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=orders["noise"].number, lead_unit="SLT")
    assert _numbers(search_orders(city.actor("handler"), "噪音")) == {orders["noise"].number}
    assert _numbers(search_orders(city.actor("nobody"), "噪音")) == set()
    assert _numbers(search_orders(city.actor("nobody"), orders["noise"].number)) == set()


def test_query_operators_are_not_interpreted(city, orders):
    admin = city.actor("admin")
    for q in ['路灯 OR 噪音', '"路灯', "路灯*", "NOT 噪音", "路灯'", "a:b", "噪音 & 路灯", "(噪音"]:
        list(search_orders(admin, q))  # no syntax error from the database
    assert _numbers(search_orders(admin, '"路灯')) == {orders["lamp"].number}


def test_the_index_is_written_with_the_order_and_can_be_rebuilt(city, orders):
    row = OrderText.objects.get(order=orders["lamp"])
    assert "路灯" in row.words.split()
    OrderText.objects.all().delete()
    admin = city.actor("admin")
    assert _numbers(search_orders(admin, "路灯")) == set()
    assert rebuild() == 4
    assert _numbers(search_orders(admin, "路灯")) == {orders["lamp"].number}
    assert _numbers(search_orders(admin, "噪音")) == {orders["noise"].number, orders["haidian"].number}


def test_order_list_delegates_q_to_the_index(city, orders):
    found = selectors.order_list(city.actor("supervisor"), selectors.OrderFilter(q="噪音", area="110105"))
    assert _numbers(found) == {orders["noise"].number}


def test_desk_search_box(client, city, orders):
    client.force_login(city.users["calltaker"])
    client.cookies["django_language"] = "en"
    html = client.get(reverse("desk:orders"), {"q": "路灯"}).content.decode()
    assert orders["lamp"].number in html and orders["noise"].number not in html
    html = client.get(reverse("desk:orders"), {"q": orders["water"].number}).content.decode()
    assert orders["water"].number in html and orders["lamp"].number not in html


def test_api_q(city, orders):
    api = Api(city)
    body = api.get("orders", query={"q": "噪音"}).json()
    assert body["count"] == 2
    assert [r["number"] for r in body["results"]] == [orders["haidian"].number, orders["noise"].number]
    body = api.get("orders", query={"q": "噪音"}, as_="cy_dispatcher").json()
    assert [r["number"] for r in body["results"]] == [orders["noise"].number]
    assert api.get("orders", query={"q": "路灯", "state": "received"}).json()["count"] == 1


def test_search_query_count(city, orders, new_order, django_assert_max_num_queries):
    for i in range(10):
        new_order(content=f"第{i}次反映路灯问题")
    with django_assert_max_num_queries(4):
        found = list(selectors.order_list(city.actor("calltaker"), selectors.OrderFilter(q="路灯")))
    assert len(found) == 11
    for o in found:
        _ = o.lead_assignment, o.category, o.area


def test_the_index_follows_updates_and_deletes(city, orders):
    admin = city.actor("admin")
    OrderText.objects.filter(order=orders["lamp"]).update(words="地铁")
    assert _numbers(search_orders(admin, "地铁")) == {orders["lamp"].number}
    assert _numbers(search_orders(admin, "路灯")) == set()
    orders["lamp"].delete()
    assert _numbers(search_orders(admin, "地铁")) == set()


@pytest.mark.parametrize("estimate", [10**6, 0])
def test_common_words_find_the_same_newest_orders(city, orders, new_order, monkeypatch, estimate):
    """On PostgreSQL a word the statistics say is common is searched by walking the newest rows
    (``jiesu.search.selectors.narrow``); the orders found, their order and the visibility are
    those of the GIN lookup. On SQLite both runs take FTS5."""
    from jiesu.search import selectors as search

    monkeypatch.setattr(search, "_matches_estimate", lambda words: estimate)
    for i in range(3):
        new_order(content=f"第{i}次反映噪音问题")
    everyone = [o.number for o in selectors.order_list(city.actor("calltaker"), selectors.OrderFilter(q="噪音"))]
    assert len(everyone) == 5 and everyone == sorted(everyone, reverse=True)
    assert everyone[-2:] == [orders["haidian"].number, orders["noise"].number]
    chaoyang = [o.number for o in selectors.order_list(city.actor("cy_dispatcher"), selectors.OrderFilter(q="噪音"))]
    assert orders["haidian"].number not in chaoyang and len(chaoyang) == 4
    assert list(selectors.order_list(city.actor("calltaker"), selectors.OrderFilter(q="地铁"))) == []
    page = Api(city).get("orders", query={"q": "噪音", "limit": 2}).json()
    assert page["count"] == 5 and [r["number"] for r in page["results"]] == everyone[:2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statistics; SQLite searches FTS5")
def test_matches_estimate_comes_from_the_statistics(city, orders, new_order, monkeypatch):
    from jiesu.search import selectors as search

    for i in range(20):
        new_order(content=f"第{i}次反映噪音问题")
    monkeypatch.setattr(search, "_stats", {"at": None, "freqs": {}, "rows": 0.0, "newest": 0, "oldest": 0})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_ordertext")
    assert search._matches_estimate(["噪音"]) > 15
    assert search._matches_estimate(["噪音", "没有的词"]) == 0  # a rare word: read the matches


# --- windows of the newest ids (jiesu.search.selectors.windows) --------------------------------


@pytest.fixture
def noisy(city, orders, new_order):
    """Twelve more orders about noise, some closed: 14 matches of 噪音 among 16 orders."""
    made = [new_order(content=f"第{i}次反映噪音问题") for i in range(12)]
    for o in made[::3]:
        type(o).objects.filter(pk=o.pk).update(state="closed")
    return made


def _bounds(*back):
    """Windows ``back`` orders below the newest id, then every order."""
    from jiesu.orders.models import WorkOrder

    newest = WorkOrder.objects.order_by("-id").values_list("id", flat=True).first()
    return lambda query, *, need, narrowed: iter([*(newest - b for b in back), None])


@pytest.mark.parametrize("back", [(2,), (3, 6, 40), (40,), ()])
@pytest.mark.parametrize(("start", "stop"), [(0, 5), (0, 101), (3, 8), (12, 20)])
def test_windows_give_the_page_of_every_order(city, noisy, monkeypatch, back, start, stop):
    """Whatever the windows tried (too narrow, then wide enough, or none), a page is the page of
    every match: the same orders in the same order, on SQLite and PostgreSQL."""
    from jiesu.search import selectors as search

    calltaker = city.actor("calltaker")
    for f in (selectors.OrderFilter(q="噪音"), selectors.OrderFilter(q="噪音", state="closed"),
              selectors.OrderFilter(q="地铁")):
        expected = [o.number for o in selectors.order_list(calltaker, f)[start:stop]]
        monkeypatch.setattr(search, "windows", _bounds(*back))
        found = [o.number for o in selectors.order_page(calltaker, f, start=start, stop=stop)]
        monkeypatch.undo()
        assert found == expected


@pytest.mark.parametrize("back", [(2,), (3, 6), ()])
def test_windows_give_the_api_page_and_count_of_every_order(city, noisy, monkeypatch, back):
    from jiesu.api import orders as api_orders
    from jiesu.search import selectors as search

    api = Api(city)
    queries = [{"q": "噪音", "limit": 3}, {"q": "噪音", "limit": 4, "offset": 5}, {"q": "噪音", "state": "closed"},
               {"q": "噪音", "limit": 20}, {"q": "地铁"}]
    expected = [api.get("orders", query=q).json() for q in queries]
    capped = api.get("orders", query={"q": "噪音", "limit": 2}).json()
    monkeypatch.setattr(search, "windows", _bounds(*back))
    assert [api.get("orders", query=q).json() for q in queries] == expected
    # A count capped below the matches: a window that holds cap + 1 of them answers as all would.
    monkeypatch.setattr(api_orders, "COUNT_CAP", 3)
    body = api.get("orders", query={"q": "噪音", "limit": 2}).json()
    assert body["count"] == 3 and body["count_is_estimate"] is True
    assert body["results"] == capped["results"]


def test_the_desk_search_page_reads_through_the_windows(client, city, noisy, monkeypatch):
    from jiesu.search import selectors as search

    def table(q: dict) -> str:
        html = client.get(reverse("desk:orders"), q).content.decode()
        return html[html.index("<tbody>"):html.index("</tbody>")]

    client.force_login(city.users["calltaker"])
    expected = table({"q": "噪音"})
    asked = []

    def windows(query, *, need, narrowed):
        asked.append((query, need, narrowed))
        return _bounds(2, 5)(query, need=need, narrowed=narrowed)

    monkeypatch.setattr(search, "windows", windows)
    html = table({"q": "噪音"})
    assert html == expected and noisy[-1].number in html
    assert asked == [("噪音", 101, False)]
    client.get(reverse("desk:orders"), {"q": "噪音", "state": "closed"})
    assert asked[-1] == ("噪音", 101, True)


@pytest.mark.parametrize("share", [0.0, 0.5])
@pytest.mark.parametrize("up_to", [None, 0, 2, 13, 14, 100])
def test_the_count_is_the_lists_length_however_it_is_counted(city, noisy, monkeypatch, up_to, share):
    """``order_count``: in the search index alone where the words are the only filter of a
    city-wide list (on PostgreSQL, unless the statistics call a word common), through the
    orders otherwise; either way the list's length, capped."""
    from jiesu.search import selectors as search

    monkeypatch.setattr(search, "_read_stats", lambda: None)
    monkeypatch.setattr(search, "_stats", {"at": None, "freqs": {}, "rows": 100.0, "newest": 0, "oldest": 0})
    monkeypatch.setattr(search, "_matches_estimate", lambda words: share * 100)

    noisy[0].delete()  # its index row goes with it (a foreign key): counted nowhere
    merged = noisy[1]
    cases = [(city.actor(u), f) for u in ("calltaker", "cy_dispatcher", "handler") for f in (
        selectors.OrderFilter(q="噪音"), selectors.OrderFilter(q="噪音", state="closed"),
        selectors.OrderFilter(q="地铁"), selectors.OrderFilter(q="的"), selectors.OrderFilter(q=merged.number),
        selectors.OrderFilter(q="噪音 问题"), selectors.OrderFilter())]
    for actor, f in cases:
        length = len(selectors.order_list(actor, f))
        want = length if up_to is None else min(length, up_to + 1)
        assert selectors.order_count(actor, f, up_to=up_to) == want, (actor.username, f)
    common = connection.vendor == "postgresql" and share > 0  # counted through the orders
    assert search.count_matches("噪音", up_to=None) == (None if common else 13)
    assert search.count_matches(merged.number, up_to=5) is None


def test_several_common_words_are_counted_from_the_bitmap_where_that_costs_less(monkeypatch):
    """The cost model of ``_bitmap_is_cheaper``: the walk passes need / (the product of the
    words' shares) rows; the bitmap reads the rarest word's matches and need rows."""
    from jiesu.search import selectors as search

    stats = {"at": 1e18, "rows": 10_000_000.0, "newest": 0, "oldest": 0,
             "freqs": {"小区": 0.154, "停车": 0.0257, "物业": 0.065, "问题": 0.2}}
    monkeypatch.setattr(search, "_stats", stats)
    monkeypatch.setattr(search, "_read_stats", lambda: None)
    # 小区 停车 at 10M: the walk ~1001 / 0.4 % = 253,000 rows (134 ms by the model), the bitmap
    # 257,000 entries of 停车 (39 ms) and 1,001 rows (3 ms).
    assert search._bitmap_is_cheaper(["小区", "停车"], 1001)
    assert search._bitmap_is_cheaper(["停车", "小区", "停车"], 1001)  # a word twice counts once
    # 物业 has 650,000 entries (98 ms); the walk finds 1,001 of 小区 物业 in ~100,000 rows (53 ms).
    assert not search._bitmap_is_cheaper(["小区", "物业"], 1001)
    assert not search._bitmap_is_cheaper(["问题", "小区"], 1001)
    # One word (WALK_SHARE decides), or a word the statistics do not know (rare: the bitmap
    # is the count already).
    assert not search._bitmap_is_cheaper(["停车"], 1001)
    assert not search._bitmap_is_cheaper(["停车", "没有的词"], 1001)
    # A few matches are found by a short walk; the bitmap's cost does not shrink with them.
    assert not search._bitmap_is_cheaper(["小区", "停车"], 20)
    # The same query on a small database: the bitmap is small too.
    stats["rows"] = 10_000.0
    assert search._bitmap_is_cheaper(["小区", "停车"], 20)


def test_several_words_are_walked_only_if_common_together(monkeypatch):
    from jiesu.search import selectors as search

    monkeypatch.setattr(search, "_read_stats", lambda: None)
    monkeypatch.setattr(search, "_stats", {"at": 1e18, "rows": 10_000_000.0, "newest": 0, "oldest": 0,
                                           "freqs": {"小区": 0.154, "停车": 0.0259, "漏水": 0.0263}})
    assert search._is_common(["停车"]) and search._is_common(["小区", "停车"])  # 0.4 % together: 40,000
    assert search._joint_estimate(["停车", "漏水", "停车"]) == pytest.approx(0.0259 * 0.0263 * 10_000_000)
    assert not search._is_common(["停车", "漏水"])  # 0.07 % together: 6,800, under sqrt(10 × 10M)
    assert not search._is_common(["停车", "没有的词"])


@pytest.mark.parametrize(("start", "stop"), [(0, 5), (0, 101), (3, 8), (12, 20)])
@pytest.mark.parametrize("share", [0.03, 0.5])
def test_words_that_seldom_meet_give_the_page_of_every_order(city, noisy, new_order, monkeypatch, start, stop, share):
    """Each word common, the two together not (PostgreSQL: the page's newest ids are kept from
    every match, not walked for); or common together (the walk): the same page either way."""
    from jiesu.search import selectors as search

    new_order(content="小区门口反映噪音")
    new_order(content="小区的问题")
    calltaker = city.actor("calltaker")
    f = selectors.OrderFilter(q="噪音 问题")
    expected = [o.number for o in list(selectors.order_list(calltaker, f))[start:stop]]
    monkeypatch.setattr(search, "_read_stats", lambda: None)
    monkeypatch.setattr(search, "_stats", {"at": None, "rows": 10_000_000.0, "newest": 0, "oldest": 0,
                                           "freqs": {"噪音": share, "问题": share}})
    asked = []
    matching_ids = search.matching_ids
    monkeypatch.setattr(search, "matching_ids", lambda *a, **k: asked.append(k.get("every_match")) or matching_ids(*a, **k))
    page = selectors.order_page(calltaker, f, start=start, stop=stop)
    assert [o.number for o in page] == expected
    # 3 % each, 0.09 % together: 9,000 of 10M orders, under sqrt(10 × 10M); 50 % each: the walk.
    assert asked == [connection.vendor == "postgresql" and share < 0.1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the walk and its statistics are PostgreSQL's")
@pytest.mark.parametrize("up_to", [0, 2, 13, 100])
def test_common_words_counted_from_the_bitmap_count_what_the_list_holds(city, noisy, new_order, monkeypatch, up_to):
    from jiesu.search import selectors as search

    new_order(content="小区门口反映噪音")  # 噪音 without 问题
    new_order(content="小区的问题")  # 问题 without 噪音
    monkeypatch.setattr(search, "_read_stats", lambda: None)
    monkeypatch.setattr(search, "_stats", {"at": None, "rows": 1000.0, "newest": 0, "oldest": 0,
                                           "freqs": {"噪音": 0.5, "问题": 0.3}})
    asked, cheaper = [], [True]
    monkeypatch.setattr(search, "_bitmap_is_cheaper", lambda words, need: asked.append((words, need)) or cheaper[0])
    calltaker = city.actor("calltaker")
    f = selectors.OrderFilter(q="噪音 问题")
    length = len(selectors.order_list(calltaker, f))
    assert length >= 12
    assert search.count_matches("噪音 问题", up_to=up_to) == min(length, up_to + 1)
    assert selectors.order_count(calltaker, f, up_to=up_to) == min(length, up_to + 1)
    assert asked == [(["噪音", "问题"], up_to + 1)] * 2
    assert search.count_matches("噪音 问题", up_to=None) is None  # every match: through the orders
    cheaper[0] = False
    assert search.count_matches("噪音 问题", up_to=up_to) is None  # the walk: through the orders
    assert selectors.order_count(calltaker, f, up_to=up_to) == min(length, up_to + 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="windows only on PostgreSQL")
def test_windows_come_from_the_statistics(city, monkeypatch):
    from jiesu.search import selectors as search

    stats = {"at": 1e18, "rows": 1_000_000.0, "newest": 1_000_000, "oldest": 1,
             "freqs": {"路灯": 0.004, "物业": 0.065, "中关村": 0.0025}}
    monkeypatch.setattr(search, "_stats", stats)
    monkeypatch.setattr(search.time, "monotonic", lambda: 1e18)

    def w(q, need=101, narrowed=False):
        return list(search.windows(q, need=need, narrowed=narrowed))

    # 2 × 101 / 0.004 = 50,500 ids, then four times as many, until every order.
    assert w("路灯") == [1_000_000 - 50_500, 1_000_000 - 202_000, 1_000_000 - 808_000, None]
    assert w("中关村 路灯") == [1_000_000 - 80_800, 1_000_000 - 323_200, None]  # the rarer word decides
    assert w("物业") == [None]  # common: the walk
    assert w("没有的词") == [None]  # too rare for the statistics: every match
    assert w("路灯", narrowed=True) == [None]  # other filters: every match
    assert w("20260105000001") == [None] and w("") == [None]
    assert w("路灯", need=1001)[0] == 1_000_000 - 500_500

    # Ids that carry their day (jiesu.orders.numbering): 1M orders over 2026, about 2,740 a
    # day, so 50,500 orders are the newest 19 days (and the rest of the 20th), and so on.
    stats.update(oldest=20260101000001, newest=20261231000500)
    day = numbering.first_id
    assert w("路灯") == [day(dt.date(2026, 12, 12)), day(dt.date(2026, 10, 18)), day(dt.date(2026, 3, 11)), None]


# --- queries as the user types them (a walkthrough of the demo: 楼道灯 found nothing) ----------

# (text of an order, what the user types, whether it must find it). A query's words are cut
# without neighbours, the text's inside a sentence: 楼道灯 is 楼道 灯 alone, but 楼道 灯坏 in
# 楼道灯坏了 (jieba's HMM) and 楼道 灯不亮 in 楼道灯不亮 (a dictionary word).
TYPED = [
    ("小区楼道灯坏了好几天了，晚上上楼看不见。", "楼道灯", True),
    ("我家楼道灯不亮了，物业一直不来修。", "楼道灯", True),
    ("3号楼楼道灯泡坏了，一直没人换。", "楼道灯", True),
    ("路口信号灯坏了很久了。", "信号灯", True),
    ("门口路灯不亮，晚上很黑。", "路灯", True),
    ("楼下饭店噪音扰民，夜里十二点还在营业。", "噪音扰民", True),
    ("楼下饭店噪音扰民，夜里十二点还在营业。", "噪音", True),
    ("工地噪音很大，吵得睡不着。", "噪音扰民", False),  # every word must be there, as before
    ("夜间施工噪音扰民，凌晨两点还在打桩。", "施工噪音", True),
    ("小区停车难问题一直没有解决。", "停车难", True),
    ("小区停车难问题一直没有解决。", "停车", True),
    ("小区停车位太少，天天抢车位。", "停车难", False),
    ("暖气片不热，供暖公司不管。", "供暖", True),
    ("今年供暖不热，室温只有十五度。", "供暖", True),
    ("街道办事处不作为，反映多次没人理。", "街道办", True),
    ("开发商私下转移小区物业管理权。", "物业管理", True),
    ("商铺占用消防通道堆放货物。", "消防通道", True),
    ("楼道里堆满杂物，灯也不亮。", "楼道灯", True),  # 楼道 and a word starting with 灯: accepted
    ("马路边的灯光太刺眼。", "楼道灯", False),
    ("盛庭岚小区内停车难，晚上没有车位。", "小区", True),  # 小区内 was cut 小 区内
    ("2单元楼道里堆满了杂物。", "楼道", True),  # 单元楼道 was cut 单元楼 道
]


@pytest.mark.parametrize(("text", "query", "found"), TYPED)
def test_what_the_user_types_finds_the_text_that_holds_it(city, new_order, text, query, found):
    order = new_order(content=text)
    other = new_order(content="自来水管道漏水，已经三天了。")
    hits = _numbers(search_orders(city.actor("admin"), query))
    assert (order.number in hits) is found
    assert other.number not in hits


def test_a_lone_character_is_a_prefix_only_beside_longer_words():
    assert tokens.query_words("楼道灯") == ["楼道", "灯"]
    assert tokens.fts5_match(["楼道", "灯"]) == '"楼道" "灯"*'
    assert tokens.tsquery(["楼道", "灯"]) == "'楼道' & '灯':*"
    # One character alone stays exact (as a prefix it would read every word starting with it),
    # and so do letters and digits.
    assert tokens.fts5_match(["水"]) == '"水"' and tokens.tsquery(["水"]) == "'水'"
    assert tokens.fts5_match(["楼道", "a", "3"]) == '"楼道" "a" "3"'


def test_documents_hold_the_domain_words_the_sentence_cut_otherwise():
    words = tokens.document_words("", "夜间施工噪音扰民，小区物业管理权被转移，街道办事处不管", "")
    assert {"施工噪音", "物业管理", "街道办", "噪音扰民", "夜间施工"} <= set(words)
    assert len(words) == len(set(words))


def test_rows_of_the_old_rule_are_found_again_after_the_reindex(city, new_order):
    admin = city.actor("admin")
    order = new_order(content="夜间施工噪音扰民，凌晨两点还在打桩。")
    # As the rule before the domain words wrote it: 施工噪音 was not among the words.
    OrderText.objects.filter(order=order).update(words="夜间 施工 夜间施工 噪音 扰民 噪音扰民 凌晨 两点 打桩")
    assert _numbers(search_orders(admin, "施工噪音")) == set()
    assert _numbers(search_orders(admin, "噪音")) == {order.number}  # still found as before
    assert rebuild() == 1  # ``jiesu reindex_search``
    assert _numbers(search_orders(admin, "施工噪音")) == {order.number}


# --- a query past the box's limit ----------------------------------------------------------------


@pytest.mark.parametrize(("language", "message"), [
    ("zh-hans", "编号或关键词过长：最多 100 个字符。"),
    ("en", "Number or words is too long: at most 100 characters."),
])
def test_a_query_too_long_finds_nothing_and_says_so(client, city, orders, language, message):
    client.force_login(city.users["calltaker"])
    client.cookies["django_language"] = language
    long_query = "路灯" * 51  # 102 characters: a complaint pasted into the box
    response = client.get(reverse("desk:orders"), {"q": long_query})
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and "data-search-refused" in html
    assert not any(o.number in html for o in orders.values())  # not every order, as before
    assert long_query in html  # the text stays in the box, to be shortened
    # The export of the same search exports nothing either.
    export = client.get(reverse("integrations:export", args=["orders", "csv"]), {"q": long_query})
    assert export.status_code == 200
    assert not any(o.number in export.content.decode("utf-8-sig") for o in orders.values())
    # At the limit the search runs.
    html = client.get(reverse("desk:orders"), {"q": "路灯" + " " * 0 + "杆" * 98}).content.decode()
    assert "data-search-refused" not in html
