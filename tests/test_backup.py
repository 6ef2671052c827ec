"""`jiesu backup` / `jiesu restore`: a round trip gives the same content row by row, also when
the backup is taken while orders are being written (SQLite backup API; pg_dump/pg_restore)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from jiesu.ops.backup import fingerprint, table_rows
from jiesu.orders import actions
from jiesu.orders.models import DaySequence, Event, Requester, WorkOrder
from tests.conftest import build_city

pytestmark = pytest.mark.django_db(transaction=True)


def _create(city, i: int) -> None:
    actions.create_order(actor=city.actor("calltaker"), request_type="complaint", channel="hotline",
                         content=f"第{i}号诉求：楼下餐馆油烟扰民。", area_code="110105001",
                         requesters=[actions.RequesterInput(phone="13812345678", name=f"张{i}")])


def test_round_trip_gives_the_same_rows(tmp_path):
    city = build_city()
    for i in range(5):
        _create(city, i)
    actions.add_note(actor=city.actor("dispatcher"), number=WorkOrder.objects.first().number, text="<b>备注</b>")
    before = fingerprint()
    file = tmp_path / "jiesu.backup"
    call_command("backup", str(file))
    assert file.stat().st_size > 0
    for i in range(5, 8):
        _create(city, i)
    WorkOrder.objects.filter(pk=WorkOrder.objects.order_by("pk").first().pk).delete()
    assert fingerprint() != before
    call_command("restore", str(file), yes=True)
    assert fingerprint() == before


def test_backup_while_the_server_writes_is_a_consistent_snapshot(tmp_path):
    city = build_city()
    stop = threading.Event()
    made: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            i = 0
            while not stop.is_set():
                _create(city, i)
                made.append(i)
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(made) < 5:
            threading.Event().wait(0.05)
        file = tmp_path / "live.backup"
        call_command("backup", str(file))
        taken_at = len(made)
        while len(made) < taken_at + 3:  # the writer kept going during and after the backup
            threading.Event().wait(0.05)
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    live = {m: set(table_rows(m)) for m in (WorkOrder, Requester, Event)}
    call_command("restore", str(file), yes=True)
    restored = {m: set(table_rows(m)) for m in (WorkOrder, Requester, Event)}
    # Every restored row is exactly a row of the live database (nothing invented or torn)…
    for model in restored:
        assert restored[model] <= live[model], model
    orders = WorkOrder.objects.count()
    assert 5 <= orders < len(made)
    # …and the snapshot is whole: each order with its requester and its "created" event, and the
    # day's number sequence agreeing with the orders it numbered.
    assert Requester.objects.count() == orders
    assert Event.objects.filter(code="created").count() == orders
    per_day = Counter(n[:8] for n in WorkOrder.objects.values_list("number", flat=True))
    assert {f"{d.day:%Y%m%d}": d.last for d in DaySequence.objects.all()} == dict(per_day)
    # The restored database takes new orders where the snapshot left off.
    _create(city, 999)
    assert WorkOrder.objects.count() == orders + 1


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    from django.core.management.base import CommandError

    build_city()
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    before = fingerprint()
    with pytest.raises(CommandError):
        call_command("restore", str(bogus), yes=True)
    assert fingerprint() == before
