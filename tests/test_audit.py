"""The event log and the personal-data log cannot be changed through the app; admin actions
are logged; unmasking is logged with who, when, which order and where."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.test import Client

from jiesu.orders.models import Event, PersonalDataView


def test_events_cannot_be_changed_or_deleted(city, new_order):
    order = new_order()
    event = Event.objects.get(order=order)
    event.reason = "篡改"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    with pytest.raises(ValueError):
        Event.objects.filter(order=order).update(reason="篡改")
    with pytest.raises(ValueError):
        Event.objects.filter(order=order).delete()
    assert Event.objects.get(pk=event.pk).reason == ""


def test_the_admin_shows_the_logs_read_only(city, new_order):
    order = new_order()
    client = Client()
    client.force_login(city.users["admin"])
    client.get(f"/desk/orders/{order.number}/")  # an unmasking, logged
    event = Event.objects.get(order=order)
    view = PersonalDataView.objects.get(order=order)
    for model, obj in ((Event, event), (PersonalDataView, view), (LogEntry, None)):
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(base).status_code == 200
        assert client.get(base + "add/").status_code == 403
        if obj is not None:
            assert client.post(base + f"{obj.pk}/change/", {"reason": "x"}).status_code == 403
            assert client.post(base + f"{obj.pk}/delete/", {"post": "yes"}).status_code == 403
            assert client.post(base, {"action": "delete_selected", "_selected_action": [obj.pk],
                                      "post": "yes"}).status_code in (200, 302)
    assert Event.objects.filter(pk=event.pk).exists() and PersonalDataView.objects.filter(pk=view.pk).exists()


def test_every_unmasking_is_logged_with_who_when_which_and_where(city, new_order):
    order = new_order()
    client = Client()
    client.force_login(city.users["calltaker"])
    assert client.get(f"/desk/orders/{order.number}/").status_code == 200
    entry = PersonalDataView.objects.get(order=order)
    assert entry.user == city.users["calltaker"] and entry.at is not None and entry.where
    # A role that sees the phone masked leaves no entry.
    analyst = Client()
    analyst.force_login(city.users["analyst"])
    assert analyst.get(f"/desk/orders/{order.number}/").status_code == 200
    assert not PersonalDataView.objects.filter(order=order, user=city.users["analyst"]).exists()


def test_admin_changes_are_logged(city):
    client = Client()
    client.force_login(city.users["admin"])
    user = city.users["nobody"]
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", {
        "username": "nobody", "display_name": "改名", "is_active": "on", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000"})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == city.users["admin"] and entry.action_flag == CHANGE


def test_every_custom_admin_action_is_audited():
    unaudited = []
    for model, model_admin in admin.site._registry.items():
        if not type(model_admin).__module__.startswith("jiesu."):
            continue  # third-party admins (django-axes' lockout cleanup) log their own way
        for action in model_admin.actions or []:
            fn = getattr(model_admin, action) if isinstance(action, str) else action
            if not getattr(fn, "audited", False):
                unaudited.append(f"{model.__name__}: {getattr(fn, '__name__', action)}")
    assert unaudited == [], "wrap these admin actions in jiesu.security.audit.audited"


@pytest.mark.django_db
def test_an_audited_action_leaves_a_log_entry(city, rf):
    from jiesu.accounts.models import User
    from jiesu.security.audit import audited

    @audited
    def deactivate(modeladmin, request, queryset):
        queryset.update(is_active=False)

    request = rf.post("/admin/")
    request.user = city.users["admin"]
    deactivate(None, request, User.objects.filter(username="nobody"))
    assert not User.objects.get(username="nobody").is_active
    assert LogEntry.objects.filter(object_id=str(city.users["nobody"].pk), user=city.users["admin"]).exists()
