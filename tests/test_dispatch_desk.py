"""The desk's triage panel: suggestions as the text is typed, duplicates, the dispatcher's pane."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jiesu.dispatch import runtime
from jiesu.dispatch.models import DispatchSettings
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import State
from tests.dispatch_helpers import triage_world  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"


@pytest.fixture
def login(client, city):
    def as_user(username: str):
        client.force_login(city.users[username])
        client.cookies["django_language"] = "en"
        return client

    return as_user


def panel(client, **data):
    return client.post(reverse("desk:triage_panel"), data, headers={"HX-Request": "true"})


def test_intake_form_asks_for_suggestions_as_text_is_typed(login):
    html = login("calltaker").get(reverse("desk:intake")).content.decode()
    assert html.count('hx-trigger="keyup changed delay:400ms, input changed delay:400ms"') == 2  # content, address
    assert f'hx-post="{reverse("desk:triage_panel")}"' in html
    assert 'id="triage-panel"' in html


def test_the_panel_shows_the_suggestion_with_its_reasons(login):
    r = panel(login("calltaker"), content=LAMP, address="朝阳区三里屯街道")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="triage-panel"' in html
    # the category's path as the order page says it: English names where the catalogue has them
    assert "City management / 道路 / 路灯" in html and "城市管理" not in html
    assert "Routing rule: City management / 道路 / 路灯 @" in html
    assert "<mark>路灯</mark>" in html  # the words behind it
    assert "朝阳区 / 三里屯街道" in html
    assert "三里屯街道办事处" in html and "Routing rule:" in html
    assert "95%" in html
    assert 'data-area="110105001"' in html and 'data-category="010101"' in html


def test_the_panel_in_chinese_names_the_category_in_chinese(login):
    client = login("calltaker")
    client.cookies["django_language"] = "zh-hans"
    html = panel(client, content=LAMP, address="朝阳区三里屯街道").content.decode()
    assert "城市管理 / 道路 / 路灯" in html and "City management" not in html


def test_the_panel_warns_of_a_referral(login):
    html = panel(login("calltaker"), content="楼道里燃气泄漏了", address="朝阳区").content.decode()
    assert "Possible referral (Art. 11)" in html and "119" in html
    assert "Never done automatically" in html


@pytest.mark.parametrize("content,address,text", [
    ("", "", "Suggestions appear here"),
    ("hello", "", "no Chinese"),
    ("路灯坏了", "上海市黄浦区", "outside the city"),
    ("<script>alert(1)</script>路灯", "<b>朝阳区</b>", "路灯"),
])
def test_bad_input_renders_a_clear_panel(login, content, address, text):
    r = panel(login("calltaker"), content=content, address=address)
    assert r.status_code == 200
    html = r.content.decode()
    assert text in html
    assert "<script>alert" not in html and "<b>朝阳区" not in html


def test_long_text_is_cut_not_refused(login):
    assert panel(login("calltaker"), content="路灯坏了" * 30_000).status_code == 200


def test_duplicates_are_listed_beside_the_form(login, new_order):
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    other = new_order(content="小区里有人遛狗不牵绳，吓到了孩子。")
    html = panel(login("calltaker"), content="三里屯路口路灯坏了好几天，晚上很黑",
                 address="朝阳区三里屯街道").content.decode()
    assert "Possible duplicates" in html
    assert reverse("desk:order", args=[earlier.number]) in html
    assert other.number not in html
    assert "Merge into" not in html  # nothing to merge at intake


def test_who_may_use_the_panel(login, client):
    assert panel(login("dispatcher"), content=LAMP).status_code == 200
    assert panel(login("handler"), content=LAMP).status_code == 403
    client.logout()
    assert client.post(reverse("desk:triage_panel"), {"content": LAMP}).status_code == 302
    assert login("calltaker").get(reverse("desk:triage_panel")).status_code == 405


@pytest.mark.parametrize("n", [3, 25])
def test_panel_query_count_does_not_grow(login, new_order, django_assert_max_num_queries, n):
    for i in range(n):
        new_order(content=f"三里屯路口的路灯坏了第{i}次，晚上很黑。")
    client = login("calltaker")
    panel(client, content=LAMP, address="朝阳区三里屯街道")  # builds the engine once per process
    # Duplicates take three small queries (the district's areas, its open and its recently
    # closed orders) instead of one that walked every order (jiesu.dispatch.services).
    with django_assert_max_num_queries(6):
        html = panel(client, content="三里屯路口路灯坏了，晚上很黑", address="朝阳区三里屯街道").content.decode()
    assert html.count('class="excerpt"') == min(n, 5)


# --------------------------------------------------------------------------- the dispatcher


def waiting(new_order, django_capture_on_commit_callbacks, **kw):
    DispatchSettings.objects.filter(pk=1).update(auto_dispatch=False)
    kw.setdefault("category_code", None)
    kw.setdefault("area_code", None)
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order(**kw)
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    return order


def test_dispatch_form_is_prefilled_from_the_stored_suggestion(login, new_order, django_capture_on_commit_callbacks):
    order = waiting(new_order, django_capture_on_commit_callbacks, content=LAMP, address="朝阳区三里屯街道")
    html = login("dispatcher").get(reverse("desk:dispatch"), {"n": order.number}).content.decode()
    assert "Triage suggestion" in html and "<mark>路灯</mark>" in html and "Routing rule:" in html
    assert '<option value="110105001" selected>' in html  # area
    assert '<option value="010101" selected>' in html  # category
    assert '<option value="SLT" selected>' in html  # lead unit


def duplicates(client, number):
    return client.get(reverse("desk:dispatch_duplicates", args=[number]), headers={"HX-Request": "true"})


def test_the_pane_leaves_the_duplicates_to_a_request_after_the_page(login, new_order, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    """Scoring the duplicates is the slowest part of the pane: the page only leaves the slot."""
    from jiesu.dispatch import services

    order = waiting(new_order, django_capture_on_commit_callbacks, content=LAMP, address="朝阳区三里屯街道")
    monkeypatch.setattr(services, "duplicate_candidates", lambda *a, **k: pytest.fail("scored on the page"))
    html = login("dispatcher").get(reverse("desk:dispatch"), {"n": order.number}).content.decode()
    url = reverse("desk:dispatch_duplicates", args=[order.number])
    assert f'hx-get="{url}" hx-trigger="load"' in html
    assert "Looking for possible duplicates" in html and 'aria-busy="true"' in html
    assert f'?n={order.number}&amp;dups=1"' in html  # without JavaScript: the page with them inline


def test_dispatcher_can_merge_into_a_duplicate(login, new_order, django_capture_on_commit_callbacks):
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    order = waiting(new_order, django_capture_on_commit_callbacks, content="三里屯路口路灯坏了好几天了，晚上很黑",
                    address="朝阳区三里屯街道")
    client = login("dispatcher")
    html = duplicates(client, order.number).content.decode()
    assert html.startswith('<div id="dups-panel"') and "hx-get" not in html and "aria-busy" not in html
    assert f"Merge into {earlier.number}" in html
    assert reverse("desk:action", args=[order.number, "merge"]) in html
    assert f">{order.number}<" not in html  # never itself
    r = client.post(reverse("desk:action", args=[order.number, "merge"]),
                    {"next": "dispatch", "into": earlier.number, "reason": "duplicate"})
    assert r.status_code == 302
    assert WorkOrder.objects.get(pk=order.pk).state == State.MERGED


def test_without_javascript_the_page_shows_the_duplicates_inline(login, new_order, django_capture_on_commit_callbacks):
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    order = waiting(new_order, django_capture_on_commit_callbacks, content="三里屯路口路灯坏了好几天了，晚上很黑",
                    address="朝阳区三里屯街道")
    html = login("dispatcher").get(reverse("desk:dispatch"), {"n": order.number, "dups": "1"}).content.decode()
    assert f"Merge into {earlier.number}" in html
    assert 'hx-trigger="load"' not in html


def test_duplicates_of_an_order_without_an_area_come_from_its_stored_suggestion(
        login, new_order, django_capture_on_commit_callbacks):
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    order = waiting(new_order, django_capture_on_commit_callbacks, content="三里屯路口路灯坏了好几天了，晚上很黑",
                    address="朝阳区三里屯街道")
    assert order.area_id is None
    html = duplicates(login("dispatcher"), order.number).content.decode()
    assert f"Merge into {earlier.number}" in html


def test_no_duplicates_says_so(login, new_order, django_capture_on_commit_callbacks):
    order = waiting(new_order, django_capture_on_commit_callbacks, content="海淀区某小区夜间施工噪音很大",
                    address="海淀区中关村街道")
    html = duplicates(login("dispatcher"), order.number).content.decode()
    assert "No possible duplicates." in html and "Merge into" not in html


def test_an_order_past_triage_has_no_duplicates_to_merge(login, city, new_order):
    from jiesu.orders import actions

    new_order()
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    html = duplicates(login("dispatcher"), order.number).content.decode()
    assert "No possible duplicates." in html and "Merge into" not in html


def test_who_may_ask_for_the_duplicates(login, client, city, new_order):
    order = new_order()  # 朝阳区: the district dispatcher sees it
    other = new_order(area_code="110108001", address="海淀区中关村大街1号")  # 海淀区: it does not
    assert duplicates(login("dispatcher"), order.number).status_code == 200
    assert duplicates(login("cy_dispatcher"), order.number).status_code == 200
    assert duplicates(login("cy_dispatcher"), other.number).status_code == 404
    assert duplicates(login("dispatcher"), "20990101000001").status_code == 404
    assert duplicates(login("handler"), order.number).status_code == 403
    assert duplicates(login("calltaker"), order.number).status_code == 403
    url = reverse("desk:dispatch_duplicates", args=[order.number])
    assert login("dispatcher").post(url).status_code == 405
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("n", [3, 25])
def test_duplicates_query_count_does_not_grow(login, new_order, django_assert_max_num_queries,
                                              django_capture_on_commit_callbacks, n):
    for i in range(n):
        new_order(content=f"三里屯路口的路灯坏了第{i}次，晚上很黑。")
    order = waiting(new_order, django_capture_on_commit_callbacks, content="三里屯路口路灯坏了，晚上很黑",
                    address="朝阳区三里屯街道")
    client = login("dispatcher")
    duplicates(client, order.number)  # the session and the actor's memberships, once
    # The session, the user, the memberships, the order, its stored suggestion (no area), and
    # the three candidate queries (jiesu.dispatch.services).
    with django_assert_max_num_queries(8):
        html = duplicates(client, order.number).content.decode()
    assert html.count('class="excerpt"') == min(n, 5)


def test_pane_without_a_suggestion_still_works(login, new_order):
    order = new_order(content=LAMP)  # no after-commit: never triaged
    r = login("dispatcher").get(reverse("desk:dispatch"), {"n": order.number})
    assert r.status_code == 200


def test_auto_dispatched_order_leaves_the_queue(login, new_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order(content=LAMP, category_code=None, area_code=None)
    html = login("dispatcher").get(reverse("desk:dispatch")).content.decode()
    assert order.number not in html
    runtime.reset()
