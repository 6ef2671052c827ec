"""Smart dispatch in the lifecycle: triage after intake, auto-dispatch, referrals, corrections,
and intake that never depends on triage."""

from __future__ import annotations

import pytest

from jiesu.accounts.policy import Actor
from jiesu.dispatch import runtime, services
from jiesu.dispatch.models import DispatchSettings, TriageCorrection, TriageSuggestion
from jiesu.dispatch.runtime import latest_model as REAL_LATEST_MODEL
from jiesu.dispatch.selectors import correction_examples
from jiesu.insight.rollup import _Marked
from jiesu.orders import actions
from jiesu.orders.events import _announce
from jiesu.orders.models import Event, WorkOrder
from jiesu.orders.states import State
from tests.dispatch_helpers import Model, settings_, triage_world  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"
NOISE = "楼下饭馆每天夜里噪音很大，影响休息。"


@pytest.fixture
def record(new_order, django_capture_on_commit_callbacks):
    """Record an order the way intake does, with its after-commit hooks run (the task backend
    is the immediate one in tests): triage runs as it would in the worker."""

    def make(**kw):
        kw.setdefault("category_code", None)
        kw.setdefault("area_code", None)
        with django_capture_on_commit_callbacks(execute=True):
            order = new_order(**kw)
        return WorkOrder.objects.select_related("category", "area").get(pk=order.pk)

    return make


def dispatched_event(order) -> Event:
    return Event.objects.get(order=order, code="dispatched")


def test_triage_runs_after_intake_and_stores_its_suggestion(city, record):
    settings_(auto=False)
    order = record(content=NOISE, address="朝阳区三里屯街道工体北路")
    s = TriageSuggestion.objects.get(order=order)
    assert order.state == State.RECEIVED and not s.auto_dispatched
    assert s.result["category"]["code"] == "0201"
    assert s.result["location"]["street"]["name"] == "三里屯街道"
    assert s.result["routing"]["lead"]["code"] == "SLT"
    assert [u["code"] for u in s.result["routing"]["co"]] == ["PSB-SLT"]
    assert s.confidence == pytest.approx(s.result["confidence"])


def test_confident_suggestion_is_dispatched_by_the_system(city, record):
    order = record(content=LAMP, address="朝阳区三里屯街道")
    assert order.state == State.DISPATCHED
    assert order.category.code == "010101" and order.area.code == "110105001"
    event = dispatched_event(order)
    assert event.actor_id is None  # the system
    assert event.data["auto"] is True and event.data["lead"] == "SLT"
    assert event.data["model_version"] == "keywords" and event.data["confidence"] == pytest.approx(0.95)
    assert TriageSuggestion.objects.get(order=order).auto_dispatched


def test_the_model_version_goes_into_the_event(city, record, monkeypatch):
    monkeypatch.setattr(runtime, "latest_model", lambda: ("v7", Model({"路灯": ("010101", 0.97)})))
    runtime.reset()
    order = record(content=LAMP)
    event = dispatched_event(order)
    assert event.data["model_version"] == "v7" and event.data["confidence"] == pytest.approx(0.97)
    assert event.data["category_source"] == "model"
    assert TriageSuggestion.objects.get(order=order).model_version == "v7"


def test_timeline_says_auto_dispatched(city, record, client, monkeypatch):
    monkeypatch.setattr(runtime, "latest_model", lambda: ("v7", Model({"路灯": ("010101", 0.97)})))
    runtime.reset()
    order = record(content=LAMP)
    client.force_login(city.users["supervisor"])
    client.cookies["django_language"] = "en"
    html = client.get(f"/desk/orders/{order.number}/").content.decode()
    assert "Auto-dispatched" in html
    assert "by the system (model v7, confidence 0.97)" in html


def test_below_the_threshold_the_order_waits_with_its_suggestion(city, record):
    order = record(content=NOISE, address="朝阳区三里屯街道")  # keyword confidence 0.6
    assert order.state == State.RECEIVED
    s = TriageSuggestion.objects.get(order=order)
    assert not s.auto_dispatched and s.result["routing"]["lead"]["code"] == "SLT"
    assert 0 < s.confidence < 0.9
    assert not Event.objects.filter(order=order, code="dispatched").exists()


def test_threshold_and_switch_are_settings(city, record):
    settings_(threshold=0.5)
    assert record(content=NOISE, address="朝阳区三里屯街道").state == State.DISPATCHED
    settings_(threshold=0.1, auto=False)
    assert record(content=LAMP).state == State.RECEIVED


def test_area_dependent_rule_needs_the_place(city, record):
    settings_(threshold=0.5)
    order = record(content=NOISE, address="")  # no address: the noise rule is for 三里屯 only
    assert order.state == State.RECEIVED
    s = TriageSuggestion.objects.get(order=order)
    assert s.result["routing"] is None and s.confidence == 0


def test_referral_is_never_auto_executed(city, record):
    settings_(threshold=0.0)
    order = record(content="楼道里燃气泄漏了，味道很大，路灯也不亮", address="朝阳区三里屯街道")
    assert order.state == State.RECEIVED
    s = TriageSuggestion.objects.get(order=order)
    assert s.result["referral"]["referred_to"] == "119"
    assert s.result["routing"] is not None and not s.auto_dispatched


def test_call_takers_choice_is_kept_but_waits_when_the_system_disagrees(city, record):
    settings_(threshold=0.3)
    order = record(content="路灯", category_code="0201", area_code="110105001")
    assert order.state == State.RECEIVED  # the keywords say 010101: a person's pick is not a certainty
    assert order.category.code == "0201"
    s = TriageSuggestion.objects.get(order=order)
    # The dispatcher's form is pre-filled with the call-taker's choice, the system's own answer beside it.
    assert s.result["category"]["code"] == "0201" and s.result["category"]["source"] == "given"
    assert s.confidence == 0.0
    assert s.result["category"]["alternatives"][0]["code"] == "010101"


def test_call_takers_choice_dispatches_only_as_confidently_as_the_system_agrees(city, record):
    settings_(threshold=0.3)
    order = record(content=LAMP, category_code="010101", area_code="110105001")
    s = TriageSuggestion.objects.get(order=order)
    assert s.result["category"]["source"] == "given" and 0.3 <= s.confidence < 1.0
    assert order.state == State.DISPATCHED and dispatched_event(order).data["lead"] == "SLT"
    settings_(threshold=0.99)
    waits = record(content=LAMP, category_code="010101", area_code="110105001")
    assert waits.state == State.RECEIVED


def test_drafts_wait_until_submitted(city, new_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order(content=LAMP, draft=True, category_code=None, area_code=None)
    assert not TriageSuggestion.objects.filter(order=order).exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_order(actor=city.actor("calltaker"), number=order.number)
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED


def test_a_replayed_submission_triages_once(city, new_order, django_capture_on_commit_callbacks):
    settings_(auto=False)
    with django_capture_on_commit_callbacks(execute=True) as first:
        a = new_order(content=LAMP, idempotency_key="k1")
    with django_capture_on_commit_callbacks(execute=True) as second:
        b = new_order(content=LAMP, idempotency_key="k1")
    # Besides the announcement of the order's events (jiesu.orders.events._announce) and the
    # dashboard's marker of the transaction's days (jiesu.insight.rollup._Marked), one triage.
    triage = [c for c in first if getattr(c, "func", None) is not _announce and not isinstance(c, _Marked)]
    assert a.pk == b.pk and len(triage) == 1 and len(second) == 0


# --------------------------------------------------------------------------- never in the way


def test_broken_model_store_intake_goes_on_with_keywords(city, record, monkeypatch):
    class BrokenStore:
        def latest(self, name):
            raise OSError("model file truncated")

    monkeypatch.setattr(runtime, "latest_model", REAL_LATEST_MODEL)  # the real one asks the store …
    monkeypatch.setattr(runtime, "_model_store", lambda: BrokenStore())  # … which is broken
    runtime.reset()
    order = record(content=LAMP)
    assert order.state == State.DISPATCHED
    assert dispatched_event(order).data["model_version"] == "keywords"


def test_missing_model_store_directory_is_a_cold_start(city, record, monkeypatch, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "nothing-here"
    monkeypatch.setattr(runtime, "latest_model", REAL_LATEST_MODEL)
    runtime.reset()
    assert record(content=LAMP).state == State.DISPATCHED


def test_triage_failure_never_breaks_intake(city, record, monkeypatch, caplog):
    def explode():
        raise RuntimeError("no engine today")

    monkeypatch.setattr(runtime, "engine", explode)
    order = record(content=LAMP)
    assert order.state == State.RECEIVED
    assert not TriageSuggestion.objects.filter(order=order).exists()
    assert "waits for a dispatcher" in caplog.text


def test_queueing_failure_never_breaks_intake(city, record, monkeypatch, caplog):
    from jiesu.dispatch import tasks

    class Down:
        def enqueue(self, *a, **kw):
            raise ConnectionError("task database is down")

    monkeypatch.setattr(tasks, "triage_new_order", Down())
    order = record(content=LAMP)
    assert order.state == State.RECEIVED and WorkOrder.objects.filter(pk=order.pk).exists()
    assert "could not queue triage" in caplog.text


def test_the_task_skips_orders_no_longer_waiting(city, new_order):
    order = new_order(content=LAMP)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="ZGC")
    assert services.triage_safely(order.pk) == "skipped"
    assert services.triage_safely(10**9) == "skipped"


def test_auto_dispatch_refused_by_the_service_leaves_the_suggestion(city, new_order):
    from jiesu.orders.models import Assignment
    from jiesu.org.models import Unit

    order = new_order(content=LAMP, category_code=None, area_code=None)
    runtime.engine()  # built while the street office is active …
    Unit.objects.filter(pk=city.sanlitun_office.pk).update(is_active=False)  # … deactivated since
    assert services.triage_safely(order.pk) == "suggested"
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    assert not Assignment.objects.filter(order=order).exists()
    assert TriageSuggestion.objects.get(order=order).result["routing"]["lead"]["code"] == "SLT"


# --------------------------------------------------------------------------- corrections


def test_dispatcher_overruling_the_suggestion_is_recorded(city, record):
    settings_(auto=False)
    order = record(content=LAMP, address="朝阳区三里屯街道", request_type="help")
    services.dispatch_and_learn(actor=city.actor("dispatcher"), number=order.number, lead_unit="WATER",
                                category_code="0201", area_code="110108001")
    got = {c.field: (c.suggested, c.chosen) for c in TriageCorrection.objects.filter(order=order)}
    assert got == {"category": ("010101", "0201"), "unit": ("SLT", "WATER"), "area": ("110105001", "110108001")}
    c = TriageCorrection.objects.filter(order=order).first()
    assert c.by == city.users["dispatcher"]
    examples = correction_examples()
    assert (LAMP, "0201") in [(e.text, e.label) for e in examples]


def test_taking_the_suggestion_records_nothing(city, record):
    settings_(auto=False)
    order = record(content=LAMP, address="朝阳区三里屯街道", request_type="help")
    services.dispatch_and_learn(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                                category_code="010101", area_code="110105001")
    assert not TriageCorrection.objects.exists()


def test_a_more_precise_area_is_not_a_correction(city, record):
    settings_(auto=False)
    order = record(content=LAMP, address="朝阳区")
    services.dispatch_and_learn(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                                area_code="110105001")
    assert not TriageCorrection.objects.filter(field="area").exists()


def test_type_correction_when_the_order_type_differs(city, record):
    settings_(auto=False)
    order = record(content=LAMP, request_type="consult")  # the rules say "help"
    services.dispatch_and_learn(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    assert TriageCorrection.objects.get(field="type").chosen == "consult"


def test_desk_dispatch_records_corrections(city, record, client):
    settings_(auto=False)
    order = record(content=LAMP, address="朝阳区三里屯街道", request_type="help")
    client.force_login(city.users["dispatcher"])
    response = client.post(f"/desk/orders/{order.number}/do/dispatch/",
                           {"next": "dispatch", "lead_unit": "ZGC", "category": "010101", "area": "110105001"})
    assert response.status_code == 302
    assert TriageCorrection.objects.get().field == "unit"


def test_system_dispatch_is_no_correction(city, record):
    record(content=LAMP)
    assert not TriageCorrection.objects.exists()


def test_settings_are_a_singleton_with_a_clamped_threshold(city):
    DispatchSettings(threshold=7).save()
    DispatchSettings(threshold=-1, auto_dispatch=False).save()
    assert DispatchSettings.objects.count() == 1
    s = DispatchSettings.load()
    assert s.threshold == 0.0 and not s.auto_dispatch


def test_engine_follows_the_catalogue(city):
    first = runtime.engine()
    assert runtime.engine() is first
    city.lamp.name = "路灯照明"
    city.lamp.save()  # a signal drops the engine
    second = runtime.engine()
    assert second is not first and second.categories["010101"].name == "路灯照明"


def test_engine_sees_changes_of_other_processes(city, settings):
    settings.JIESU = {**settings.JIESU, "TRIAGE_REFRESH_SECONDS": 0}
    first = runtime.engine()
    DispatchSettings.objects.filter(pk=1).update(generation=12345)  # as another process would
    runtime._state["dirty"] = False
    assert runtime.engine() is not first


def test_area_boundary_feeds_the_engine(city):
    city.sanlitun.boundary = {"type": "Polygon", "coordinates": [[[116.44, 39.92], [116.46, 39.92], [116.46, 39.94],
                                                                 [116.44, 39.94], [116.44, 39.92]]]}
    city.sanlitun.full_clean()
    city.sanlitun.save()
    result = services.suggest("路灯坏了", latitude=39.93, longitude=116.45)
    assert result.location.source == "coordinates" and result.location.street.name == "三里屯街道"


def test_a_broken_boundary_is_refused_by_validation(city):
    from django.core.exceptions import ValidationError

    city.sanlitun.boundary = {"type": "Polygon", "coordinates": "nonsense"}
    with pytest.raises(ValidationError):
        city.sanlitun.full_clean()


def test_system_actor_dispatches(city, new_order):
    order = new_order(content=LAMP)
    actions.dispatch_order(actor=Actor.system(), number=order.number, lead_unit="SLT", data={"auto": True})
    assert dispatched_event(order).data["auto"] is True


def test_machine_labelled_orders_are_known(city, record):
    from jiesu.dispatch.selectors import machine_labelled_order_ids

    auto = record(content=LAMP)
    given = record(content=LAMP, category_code="010101")
    assert auto.state == given.state == State.DISPATCHED
    assert set(machine_labelled_order_ids().values_list("order_id", flat=True)) == {auto.pk}
    # returned by the unit and dispatched again by a person: a human label now
    actions.return_assignment(actor=city.actor("handler"), number=auto.number, reason="不属于我们的职责")
    actions.dispatch_order(actor=city.actor("dispatcher"), number=auto.number, lead_unit="ZGC")
    assert not machine_labelled_order_ids().exists()
