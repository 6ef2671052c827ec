"""Export: every desk list as .xlsx/.csv with the page's filters and the user's permissions,
in a fixed number of queries; ``jiesu export`` writes the full archive, which imports again."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from jiesu.accounts.policy import Actor
from jiesu.integrations.exchange import importing
from jiesu.orders import actions

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows_of(response) -> list[list[str]]:
    if response["Content-Type"] == XLSX_TYPE:
        book = load_workbook(io.BytesIO(response.content))
        return [["" if v is None else str(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def orders(city, new_order):
    a = city.actor
    mine = new_order(content="三里屯路灯坏了。")
    actions.dispatch_order(actor=a("dispatcher"), number=mine.number, lead_unit="SLT")
    theirs = new_order(content="中关村井盖丢了。", area_code="110108001")
    actions.dispatch_order(actor=a("dispatcher"), number=theirs.number, lead_unit="ZGC")
    waiting = new_order(content="=HYPERLINK(\"http://evil\") 噪音扰民", category_code="0201")
    return mine, theirs, waiting


def login(client, city, name):
    client.force_login(city.users[name])
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_search_export_honours_the_filters_and_the_users_permissions(client, city, orders, fmt):
    mine, theirs, waiting = orders
    login(client, city, "supervisor")
    everything = rows_of(client.get(reverse("integrations:export", args=["orders", fmt])))
    assert everything[0][0] == "number" and {r[0] for r in everything[1:]} == {o.number for o in orders}
    filtered = rows_of(client.get(reverse("integrations:export", args=["orders", fmt]), {"q": "路灯"}))
    assert [r[0] for r in filtered[1:]] == [mine.number]
    login(client, city, "handler")  # a unit sees only its own orders
    own = rows_of(client.get(reverse("integrations:export", args=["orders", fmt])))
    assert [r[0] for r in own[1:]] == [mine.number]
    assert "13812345678" not in str(everything)  # no requester phones in a list export


def test_the_dispatch_queue_and_the_inbox(client, city, orders):
    mine, theirs, waiting = orders
    login(client, city, "dispatcher")
    queue = rows_of(client.get(reverse("integrations:export", args=["dispatch", "csv"])))
    assert [r[0] for r in queue[1:]] == [waiting.number]
    assert queue[1][-1].startswith("'=")  # a citizen's text never becomes a formula
    assert client.get(reverse("integrations:export", args=["inbox", "csv"])).status_code == 403
    login(client, city, "handler")
    inbox = rows_of(client.get(reverse("integrations:export", args=["inbox", "xlsx"])))
    assert [(r[0], r[1], r[3]) for r in inbox[1:]] == [(mine.number, "Lead (主办)", "三里屯街道办事处")]
    assert client.get(reverse("integrations:export", args=["nope", "csv"])).status_code == 404
    assert client.get(reverse("integrations:export", args=["inbox", "pdf"])).status_code == 404


def test_the_pages_link_to_their_export_with_the_current_filters(client, city, orders):
    login(client, city, "supervisor")
    page = client.get(reverse("desk:orders"), {"q": "路灯"}).content.decode()
    assert reverse("integrations:export", args=["orders", "xlsx"]) + "?q=%E8%B7%AF%E7%81%AF" in page
    page = client.get(reverse("desk:supervise"), {"tab": "risk"}).content.decode()
    assert reverse("integrations:export", args=["risk", "csv"]) + "?tab=risk" in page


def test_a_list_export_costs_a_fixed_number_of_queries(client, city, new_order, django_assert_max_num_queries):
    for i in range(12):
        order = new_order(content=f"第{i}个诉求。")
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                               co_units=["ZGC"])
    login(client, city, "supervisor")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("integrations:export", args=["orders", "xlsx"]))
    assert len(rows_of(response)) == 13


def test_the_full_archive_imports_again_without_changes(city, orders, tmp_path, capsys):
    call_command("export", str(tmp_path / "out"), "--no-progress")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{n}.xlsx" for n in ("areas", "units", "categories", "rules", "users", "orders",
                                                 "assignments", "events"))
    for kind in ("areas", "units", "categories", "users", "orders"):
        data = (tmp_path / "out" / f"{kind}.xlsx").read_bytes()
        report = importing.run(kind=kind, data=data, filename=f"{kind}.xlsx", actor=Actor.system())
        assert report.created == 0 or kind == "orders", (kind, report)
        assert not report.problems and report.updated == 0, (kind, report.problems)
    call_command("export", str(tmp_path / "all.zip"), "--zip", "--format", "csv", "--no-progress")
    with zipfile.ZipFile(tmp_path / "all.zip") as bundle:
        events = bundle.read("events.csv").decode("utf-8-sig")
    assert "dispatched" in events and orders[0].number in events
