"""The public portal through the Django test client: submit, track, rate, large text."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Channel, RequestType
from jiesu.orders import actions
from jiesu.orders.models import Callback, WorkOrder
from jiesu.orders.states import State

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


def submit_data(**kw):
    data = {"name": "赵六", "phone": "13612345678", "request_type": RequestType.HELP,
            "content": "楼道灯坏了，老人上下楼不方便。", "address": "朝阳区三里屯北里5号楼", "area": "110105001",
            "idempotency_key": "portal-key-1"}
    data.update(kw)
    return data


def test_public_pages_render_without_login(en, city):
    for name in ("portal:home", "portal:submit", "portal:track"):
        response = en.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'name="viewport"' in html and "data-large-toggle" in html and 'action="/i18n/setlang/"' in html
    html = en.get(reverse("portal:submit")).content.decode()
    assert 'name="idempotency_key" value="' in html and "三里屯街道" in html


def test_default_language_is_chinese(client, city):
    assert '<html lang="zh-Hans"' in client.get(reverse("portal:home")).content.decode()


def test_submit_creates_a_web_order_and_shows_its_number(en, city):
    response = en.post(reverse("portal:submit"), submit_data())
    assert response.status_code == 302 and response.url == reverse("portal:submitted")
    order = WorkOrder.objects.get()
    assert order.channel == Channel.WEB and order.state == State.RECEIVED and order.created_by is None
    assert order.area.code == "110105001" and order.requesters.get().name == "赵六"
    html = en.get(response.url).content.decode()
    assert order.number in html and "Please keep this number." in html


def test_submit_twice_with_the_same_key_makes_one_order(en, city):
    en.post(reverse("portal:submit"), submit_data())
    en.post(reverse("portal:submit"), submit_data())
    assert WorkOrder.objects.count() == 1
    en.post(reverse("portal:submit"), submit_data(idempotency_key="portal-key-2"))
    assert WorkOrder.objects.count() == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"content": ""}, "Please describe your request."),
    ({"phone": ""}, "Please enter a phone number we can call you back on."),
    ({"phone": "12"}, "is not a valid phone number"),
    ({"name": ""}, "Please enter your name."),
    ({"request_type": "nonsense"}, "Please choose what kind of request this is."),
    ({"area": "999999"}, "Unknown area"),
])
def test_submit_errors_are_clear_and_keep_the_form(en, city, data, message):
    response = en.post(reverse("portal:submit"), submit_data(**data))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert "楼道灯坏了" in html or data.get("content") == ""
    assert WorkOrder.objects.count() == 0


def test_submitted_page_needs_a_submission(en, city):
    assert en.get(reverse("portal:submitted")).url == reverse("portal:submit")


def test_confidential_request_from_the_portal(en, city):
    en.post(reverse("portal:submit"), submit_data(confidential="on"))
    order = WorkOrder.objects.get()
    assert order.is_confidential and order.requesters.get().wants_confidential


def _track(client, number, phone):
    return client.post(reverse("portal:track"), {"number": number, "phone": phone})


def test_track_with_number_and_phone(en, city, new_order):
    order = new_order(content="<script>alert(1)</script>")
    response = _track(en, order.number, "138 1234 5678")
    assert response.status_code == 302 and response.url == reverse("portal:track_detail", args=[order.number])
    html = en.get(response.url).content.decode()
    assert "passing it to the unit responsible" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_track_gives_one_answer_for_wrong_number_and_wrong_phone(en, city, new_order):
    order = new_order()
    wrong_phone = _track(en, order.number, "13900000000")
    wrong_number = _track(en, "20990101000001", "13812345678")
    assert wrong_phone.status_code == wrong_number.status_code == 422

    def message(response):
        return re.search(r'<div class="form-error".*?</div>', response.content.decode(), re.S).group(0)

    assert message(wrong_phone) == message(wrong_number)
    assert "We found no request with this number and phone." in message(wrong_phone)


def test_track_detail_needs_the_phone_first(en, city, new_order):
    order = new_order()
    assert en.get(reverse("portal:track_detail", args=[order.number])).url == reverse("portal:track")
    _track(en, order.number, "13812345678")
    other = new_order()
    # Knowing one order does not open another.
    assert en.get(reverse("portal:track_detail", args=[other.number])).url == reverse("portal:track")


def _replied(city, new_order) -> WorkOrder:
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="路灯已于昨日修复。",
                           outcome="solved")
    actions.open_callback(actor=Actor.system(), number=order.number)
    return order


def test_replies_and_rating(en, city, new_order):
    order = _replied(city, new_order)
    _track(en, order.number, "13812345678")
    url = reverse("portal:track_detail", args=[order.number])
    html = en.get(url).content.decode()
    assert "三里屯街道办事处" in html and "路灯已于昨日修复。" in html
    assert f'action="{reverse("portal:rate", args=[order.number])}"' in html
    # Incomplete rating: clear message, nothing recorded.
    response = en.post(reverse("portal:rate", args=[order.number]), {"contacted": "yes", "resolution": "solved"})
    assert response.status_code == 422 and b"Please say how satisfied you are." in response.content
    assert not Callback.objects.exists()
    response = en.post(reverse("portal:rate", args=[order.number]),
                       {"contacted": "yes", "resolution": "solved", "satisfaction": "satisfied", "comment": "谢谢"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.CLOSED
    callback = Callback.objects.get()
    assert callback.via == "web" and callback.solved is True and callback.note == "谢谢"
    html = en.get(url).content.decode()
    assert "Thank you. Your rating has been recorded." in html and "Closed" in html
    assert 'name="satisfaction"' not in html
    # A second rating is not an error page, and changes nothing.
    response = en.post(reverse("portal:rate", args=[order.number]),
                       {"contacted": "no", "resolution": "unsolved", "satisfaction": "unsatisfied"})
    assert response.status_code == 302 and Callback.objects.count() == 1


def test_rating_form_only_when_waiting_for_callback(en, city, new_order):
    order = new_order()
    _track(en, order.number, "13812345678")
    html = en.get(reverse("portal:track_detail", args=[order.number])).content.decode()
    assert 'name="satisfaction"' not in html


def test_large_text_toggle_without_javascript(en, city):
    response = en.post(reverse("portal:large_text"), {"next": reverse("portal:submit")})
    assert response.status_code == 302 and response.url == reverse("portal:submit")
    assert response.cookies["jiesu_large"].value == "1"
    html = en.get(reverse("portal:submit")).content.decode()
    assert 'class="large-text"' in html and 'aria-pressed="true"' in html
    response = en.post(reverse("portal:large_text"), {"next": "https://evil.example/"})
    assert response.url == reverse("portal:home") and response.cookies["jiesu_large"].value == "0"


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(en, city):
    html = en.get(reverse("portal:home")).content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert icon, "the base template names the icon"
    # Pages that name no icon (the admin, the API's docs) make the browser ask for /favicon.ico.
    response = en.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == icon.group(1)
    served = en.get(icon.group(1))
    assert served.status_code == 200 and served["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(served.streaming_content)
