"""/api/v1 of the legal services: points with their rules, slots, bookings and their actions,
and idempotent outreach sync; errors in the API's shape and the request's language."""

from __future__ import annotations

import uuid

import pytest

from jiesu import clock
from jiesu.orders.models import WorkOrder
from jiesu.services.models import Booking, OutreachEntry, OutreachEvent
from tests.api_helpers import Api
from tests.conftest import at
from tests.services_kit import build_services

pytestmark = pytest.mark.django_db
MONDAY = "2026-12-07"


@pytest.fixture
def svc(city):
    return build_services(city)


@pytest.fixture
def api(city):
    return Api(city)


def test_points_filter_by_kind_unit_and_area_and_carry_their_rules(api, svc, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = api.call("GET", "service-points", as_=None, query={"kind": "notary"})
    assert r.status_code == 200
    [point] = r.json()
    assert point["code"] == "NP-CY" and point["unit"] == "NOTARY-CY" and point["area"] == "110105"
    rules = {rule["label"]: rule for rule in point["opening_rules"]}
    assert rules["周六"]["weekdays"] == [5] and rules["遗嘱公证周"]["matters"] == ["will"]
    assert rules["遗嘱公证周"]["special"] and len(rules["遗嘱公证周"]["windows"]) == 3
    will = next(m for m in point["matters"] if m["code"] == "will")
    assert will["in_person_required"] and "第二十六条" in will["in_person_reason"]
    assert [p["code"] for p in api.call("GET", "service-points", as_=None, query={"area": "110105001"}).json()] \
        == ["LR-SLT"]
    assert [p["code"] for p in api.call("GET", "service-points", as_=None, query={"unit": "COURT-CY"}).json()] \
        == ["LR-SLT"]


def test_slots_of_a_day(api, svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        r = api.call("GET", f"service-points/{svc.notary.pk}/slots", as_=None,
                     query={"date": MONDAY, "matter": "will"})
        closed = api.call("GET", f"service-points/{svc.notary.pk}/slots", as_=None, query={"date": "2026-12-13"})
    body = r.json()
    assert body["open"] and body["slots"][0]["start"].startswith("2026-12-07T09:00:00+08:00")
    assert body["slots"][0]["places"] == 2 and len(body["slots"]) == 8
    assert closed.json() == {"point": svc.notary.pk, "date": "2026-12-13", "open": False, "slots": []}


def test_book_cancel_reschedule_check_in_and_outcome(api, svc):
    payload = {"point": svc.notary.pk, "matter": "authorisation", "start": f"{MONDAY}T10:00:00", "name": "王五",
               "phone": "13812345678"}
    with clock.frozen(at(f"{MONDAY} 08:00")):
        r = api.call("POST", "bookings", payload, as_=None, headers={"Idempotency-Key": "abc"})
        assert r.status_code == 201, r.json()
        code = r.json()["code"]
        again = api.call("POST", "bookings", payload, as_=None, headers={"Idempotency-Key": "abc"})
        assert again.status_code == 200 and again.json()["code"] == code
        wrong = api.call("POST", f"bookings/{code}/cancel", {"phone": "13900000000"}, as_=None, lang="en")
        assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"
        assert "code and phone" in wrong.json()["message"]
        moved = api.call("POST", f"bookings/{code}/reschedule", {"phone": "13812345678",
                                                                 "start": f"{MONDAY}T09:30:00+08:00"}, as_=None)
        assert moved.status_code == 200 and moved.json()["start"].startswith(f"{MONDAY}T09:30")
    with clock.frozen(at(f"{MONDAY} 09:20")):
        anon = api.call("POST", f"bookings/{code}/check-in", {}, as_=None)
        assert anon.status_code == 401
        refused = api.call("POST", f"bookings/{code}/check-in", {}, as_="handler")
        assert refused.status_code == 403
        ok = api.call("POST", f"bookings/{code}/check-in", {}, as_="notary_staff")
        assert ok.json()["status"] == "checked_in"
        done = api.call("POST", f"bookings/{code}/outcome", {"outcome": "served"}, as_="notary_staff")
        assert done.json()["status"] == "served"
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(("start", "status", "code"), [
    (f"{MONDAY}T07:00:00", 422, "invalid"),  # past
    ("2026-12-13T10:00:00", 422, "invalid"),  # Sunday
    ("not a time", 422, "invalid"),
])
def test_bad_bookings_answer_in_the_api_shape(api, svc, start, status, code):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        r = api.call("POST", "bookings", {"point": svc.notary.pk, "matter": "will", "start": start, "name": "王五",
                                           "phone": "13812345678"}, as_=None, lang="zh-hans")
    assert r.status_code == status and r.json()["code"] == code and r.json()["field"] == "start"
    assert not Booking.objects.exists()


def test_full_slot_is_409(api, svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        for phone in ("13800000001", "13800000002", "13800000003"):
            r = api.call("POST", "bookings", {"point": svc.notary.pk, "matter": "authorisation",
                                               "start": f"{MONDAY}T10:00:00", "name": "王五", "phone": phone},
                         as_=None, lang="en")
    assert r.status_code == 409 and r.json()["code"] == "slot_full" and "fully booked" in r.json()["message"]
    assert Booking.objects.count() == 2


def test_outreach_sync_is_idempotent_by_client_id(api, city, svc):
    event = OutreachEvent.objects.create(title="痛点攻坚小分队", kind="task_force", place="三里屯村口", date=at(MONDAY + " 00:00").date(),
                                         unit=city.sanlitun_office, area=city.sanlitun, created_at=clock.now())
    ids = [str(uuid.uuid4()) for _i in range(3)]
    entries = [
        {"client_id": ids[0], "name": "李大爷", "phone": "13811112222", "content": "村口路灯不亮。"},
        {"client_id": ids[1], "name": "张阿姨", "phone": "13833334444", "content": "低保怎么申请？",
         "request_type": "consult", "solved_on_spot": True, "answer": "已现场讲解申请流程。"},
        {"client_id": ids[2], "name": "赵六", "phone": "bad", "content": "噪音"},
    ]
    with clock.frozen(at(f"{MONDAY} 08:00")):
        first = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries}, as_="outreach")
        body = first.json()
        assert first.status_code == 200, body
        assert [e["client_id"] for e in body["created"]] == ids[:2] and body["existing"] == []
        assert body["failed"][0]["client_id"] == ids[2] and body["failed"][0]["field"] == "phone"
        again = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries[:2]}, as_="outreach")
    assert again.json()["created"] == [] and len(again.json()["existing"]) == 2
    assert OutreachEntry.objects.count() == 2 and WorkOrder.objects.filter(channel="outreach").count() == 2
    solved = WorkOrder.objects.get(number=body["created"][1]["order"])
    assert solved.state == "answered"
    assert api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries}, as_=None).status_code == 401
    assert api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries},
                    as_="water_handler").status_code == 403


def _event(city):
    return OutreachEvent.objects.create(title="普法宣传", kind="lecture", place="三里屯村口",
                                        date=at(MONDAY + " 00:00").date(), unit=city.sanlitun_office,
                                        area=city.sanlitun, created_at=clock.now())


def _booking_entry(svc, phone: str, cid: str | None = None) -> dict:
    return {"client_id": cid or str(uuid.uuid4()), "kind": "booking", "name": "王五", "phone": phone,
            "point": svc.notary.pk, "matter": "authorisation", "start": f"{MONDAY}T10:00:00+08:00"}


def test_an_outreach_booking_entry_books_once_and_counts_in_the_figures(api, city, svc):
    from jiesu.services import selectors

    event = _event(city)
    entry = _booking_entry(svc, "13800000001")
    with clock.frozen(at(f"{MONDAY} 08:00")):
        first = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": [entry]}, as_="outreach")
        again = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": [entry]}, as_="outreach")
    [created] = first.json()["created"]
    assert first.status_code == 200 and created["outcome"] == "booked" and created["booking"]
    assert again.json()["created"] == [] and again.json()["existing"][0]["booking"] == created["booking"]
    booking = Booking.objects.get()
    assert booking.code == created["booking"] and booking.channel == "outreach" and booking.phone == "13800000001"
    assert OutreachEntry.objects.get().booking == booking
    assert selectors.outreach_stats([event.pk])[event.pk].collected == 1
    # Every collected entry is counted once: on the spot, booked, waiting for dispatch or dispatched.
    with clock.frozen(at(f"{MONDAY} 08:10")):
        api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": [
            {"client_id": str(uuid.uuid4()), "phone": "13811112222", "content": "村口路灯不亮。"},
            {"client_id": str(uuid.uuid4()), "phone": "13833334444", "content": "低保怎么申请？", "request_type": "consult",
             "solved_on_spot": True, "answer": "已现场讲解申请流程。"}]}, as_="outreach")
    figures = selectors.outreach_stats([event.pk])[event.pk]
    assert (figures.collected, figures.on_spot, figures.booked, figures.waiting, figures.dispatched) == (3, 1, 1, 1, 0)
    assert figures.collected == figures.on_spot + figures.booked + figures.waiting + figures.dispatched


def test_an_outreach_booking_for_a_full_slot_fails_alone_in_the_users_language(api, city, svc):
    event = _event(city)
    entries = [_booking_entry(svc, f"1380000000{i}") for i in (1, 2, 3)]
    entries.append({"client_id": str(uuid.uuid4()), "kind": "booking", "name": "赵六", "phone": "13800000009"})
    with clock.frozen(at(f"{MONDAY} 08:00")):
        en = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries}, as_="outreach", lang="en")
        zh = api.call("POST", f"outreach-events/{event.pk}/entries", {"entries": entries[2:3]}, as_="outreach",
                      lang="zh-hans")
    body = en.json()
    assert [e["client_id"] for e in body["created"]] == [entries[0]["client_id"], entries[1]["client_id"]]
    full, incomplete = body["failed"]
    assert full["client_id"] == entries[2]["client_id"] and full["code"] == "slot_full"
    assert "fully booked" in full["message"]
    assert incomplete["field"] == "start" and "matter and a slot" in incomplete["message"]
    assert zh.json()["failed"][0]["code"] == "slot_full" and "约满" in zh.json()["failed"][0]["message"]
    assert Booking.objects.count() == 2 and OutreachEntry.objects.count() == 2  # never a double booking


def test_the_outreach_pages_slots_cost_one_bookings_query_per_point_not_per_matter(svc, django_assert_num_queries):
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiesu.services import selectors
    from jiesu.services.models import Matter

    day = dt.date.fromisoformat(MONDAY)
    with clock.frozen(at(f"{MONDAY} 08:00")):
        selectors.offline_slots(day)  # the calendar read once, outside the count
        with CaptureQueriesContext(connection) as before:
            first = selectors.offline_slots(day)
        for i in range(3):  # more notary matters: the same queries
            Matter.objects.create(kind="notary", code=f"extra{i}", name=f"其他{i}", name_en=f"Other {i}",
                                  slot_minutes=30)
        with django_assert_num_queries(len(before)):
            again = selectors.offline_slots(day)
    assert any(e["matter"] == "will" and e["slots"] for e in first)
    assert {e["matter"] for e in again} >= {e["matter"] for e in first}
