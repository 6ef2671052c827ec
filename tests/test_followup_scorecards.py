"""三率 scorecards on the demo city: every count and rate equals a direct recount from the raw
orders (this test computes both), every number's drill-down lists exactly the orders behind it,
the exports and the CLI say the same as the page, and each role sees what it may."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from jiesu import clock
from jiesu.demo.build import load_demo
from jiesu.followup import periods
from jiesu.followup.present import COLUMNS, text
from jiesu.followup.selectors import scorecard
from jiesu.orders.models import Assignment, WorkOrder
from jiesu.org.models import Area

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 3, 2)
AS_OF = dt.datetime(2026, 3, 2, 0, 0, tzinfo=periods.SHANGHAI)
LIVE = {"dispatched", "accepted", "replied"}
PARTLY_W, BASIC_W = 0.5, 1.0
W = {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}


# --- an independent recount ---------------------------------------------------------------


def _ancestor(area: Area | None, level: int, areas: dict[int, Area]) -> str | None:
    while area is not None:
        if area.level == level:
            return area.code
        area = areas.get(area.parent_id) if area.parent_id else None
    return None


def recount(level: str, period: periods.Period, as_of: dt.datetime) -> dict[str, dict[str, list[int]]]:
    """group key → count name → the order ids behind it (one entry per counted row)."""
    start, end = period.bounds()
    areas = {a.pk: a for a in Area.objects.all()}
    orders = {o.pk: o for o in WorkOrder.objects.all() if start <= o.received_at < end
              and o.state not in ("draft", "merged")}
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def group(o: WorkOrder, a: Assignment | None) -> str | None:
        if level == "unit":
            return a.unit.code if a is not None else None
        return _ancestor(areas.get(o.area_id), 2 if level == "district" else 3, areas)

    if level != "unit":
        for o in orders.values():
            key = group(o, None)
            if key:
                out[key]["orders"].append(o.pk)
    unit_orders: dict[str, set[int]] = defaultdict(set)
    for a in Assignment.objects.select_related("unit").order_by("pk"):
        o = orders.get(a.order_id)
        if o is None:
            continue
        key = group(o, a)
        if key is None:
            continue
        c = out[key]
        unit_orders[key].add(o.pk)
        c["assignments"].append(o.pk)
        if a.state == "returned":
            c["returned"].append(o.pk)
        withdrawn_before_contact = a.state == "cancelled" and a.contacted_at is None
        if a.state != "returned" and not withdrawn_before_contact and (
                a.contacted_at is not None or a.contact_due_at <= as_of):
            c["contact_due"].append(o.pk)
            if a.contacted_at is not None and a.contacted_at <= a.contact_due_at:
                c["contacted_in_time"].append(o.pk)
        is_lead = a.role == "lead" and a.state != "returned" and not (a.state == "cancelled" and a.replied_at is None)
        if is_lead:
            c["lead_rounds"].append(o.pk)
            if a.extended:
                c["extended"].append(o.pk)
            if a.replied_at is not None or a.due_at <= as_of:
                c["handling_due"].append(o.pk)
                if a.replied_at is None or a.replied_at > a.due_at:
                    c["overdue"].append(o.pk)
        if a.role == "lead" and a.state in LIVE:  # the order's current lead unit
            c["handled"].append(o.pk)
            if a.replied_at is not None or o.reopen_count > 0:
                c["replied"].append(o.pk)
            if o.reopen_count > 0:
                c["reopened"].append(o.pk)
            if o.satisfaction:
                c["reached"].append(o.pk)
                c[o.resolution].append(o.pk)
                c[o.satisfaction].append(o.pk)
    if level == "unit":
        for key, ids in unit_orders.items():
            out[key]["orders"] = sorted(ids)
    return out


def expected_rates(c: dict[str, list[int]]) -> dict[str, float | None]:
    n = {k: len(v) for k, v in c.items()}

    def div(a, b):
        return None if not b else a / b

    r = {
        "response": div(n.get("contacted_in_time", 0), n.get("contact_due", 0)),
        "resolution": div(n.get("solved", 0) + PARTLY_W * n.get("partly", 0), n.get("reached", 0)),
        "satisfaction": div(n.get("satisfied", 0) + BASIC_W * n.get("basic", 0), n.get("reached", 0)),
        "overdue": div(n.get("overdue", 0), n.get("handling_due", 0)),
        "return": div(n.get("returned", 0), n.get("assignments", 0)),
        "extension": div(n.get("extended", 0), n.get("lead_rounds", 0)),
        "reopen": div(n.get("reopened", 0), n.get("replied", 0)),
    }
    parts = [(W[k], r[k]) for k in W if r[k] is not None]
    r["score"] = None if not parts else 100 * sum(w * v for w, v in parts) / sum(w for w, _ in parts)
    return r


@pytest.fixture
def demo(db):
    load_demo(orders=300, seed=2027, anchor=ANCHOR)


@pytest.mark.parametrize("period", ["2026-02", "2026-01", "2026-Q1", "2026-02-16"])
def test_every_rate_equals_a_recount_from_raw_orders(demo, client, period):
    p = periods.parse(period)
    seen = defaultdict(int)
    for level in ("unit", "district", "street"):
        with clock.frozen(AS_OF):
            card = scorecard(level, p)
        expected = recount(level, p, AS_OF)
        by_key = {c.key: c for c in card.cards}
        assert set(expected) <= set(by_key)
        for key, c in by_key.items():
            exp = expected.get(key, {})
            got = c.counts.as_dict()
            for name, value in got.items():
                assert value == len(exp.get(name, [])), (level, key, name)
                seen[name] += value
            want = expected_rates(exp)
            for name, value in c.rates.items():
                assert value == pytest.approx(want[name]) if want[name] is not None else value is None, (key, name)
            assert c.score == pytest.approx(want["score"]) if want["score"] is not None else c.score is None
        scores = sorted((c.score for c in card.cards if c.score is not None), reverse=True)
        for c in card.cards:
            if c.score is not None:  # competition rank: 1 + how many score strictly higher
                assert c.rank == 1 + sum(1 for s in scores if s > c.score + 1e-9)
    if p.kind in ("month", "quarter") and p.key != "2026-01":
        # The demo exercises every count (the recount would be vacuous otherwise).
        for name in ("returned", "overdue", "extended", "reopened", "reached", "solved", "partly",
                     "unsolved", "satisfied", "basic", "unsatisfied", "contacted_in_time"):
            assert seen[name] > 0, name


def test_every_drill_down_lists_the_orders_behind_its_number(demo, client, city_users_for_demo):
    client.force_login(city_users_for_demo("analyst1"))
    p = periods.parse("2026-02")
    for level in ("unit", "street"):
        expected = recount(level, p, AS_OF)
        busiest = sorted(expected, key=lambda k: -len(expected[k]["orders"]))[:3]
        for key in busiest:
            for metric, ids in expected[key].items():
                query = {"from": "2026-02-01", "to": "2026-02-28", "metric": metric,
                         ("unit" if level == "unit" else "area"): key}
                with clock.frozen(AS_OF):
                    page = client.get(reverse("desk:orders"), query).content.decode()
                total = int(re.search(r"data-drill-total>(\d+)", page).group(1))
                assert total == len(set(ids)), (level, key, metric)
                numbers = set(re.findall(r'class="mono" href="/desk/orders/(\d+)/"', page))
                want = set(WorkOrder.objects.filter(pk__in=ids).values_list("number", flat=True))
                assert numbers == want, (level, key, metric)


@pytest.fixture
def city_users_for_demo():
    from jiesu.accounts.models import User

    return lambda name: User.objects.get(username=name)


# --- the page, its exports and the CLI ------------------------------------------------------


class _Cells(HTMLParser):
    """[data-key] rows → {data-col: text} from the scorecard table."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.row: str | None = None
        self.stack: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-key" in a and a["data-key"]:
            self.row = a["data-key"]
            self.rows[self.row] = {}
        self.stack.append(a.get("data-col") if self.row else None)
        if self.row and a.get("data-col"):
            self.rows[self.row][a["data-col"]] = ""

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        if tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.row:
            for col in self.stack:
                if col:
                    self.rows[self.row][col] += data


def _page_cells(client, query) -> dict[str, dict[str, str]]:
    parser = _Cells()
    parser.feed(client.get(reverse("followup:scorecards"), query).content.decode())
    return {k: {c: v.strip() for c, v in row.items()} for k, row in parser.rows.items()}


def test_excel_and_csv_match_the_page(demo, client, city_users_for_demo):
    client.force_login(city_users_for_demo("analyst1"))
    client.cookies["django_language"] = "en"
    for level in ("street", "unit", "district"):
        query = {"level": level, "period": "2026-02"}
        with clock.frozen(AS_OF):
            cells = _page_cells(client, query)
            xlsx = client.get(reverse("followup:export", args=["xlsx"]), query)
            csv_body = client.get(reverse("followup:export", args=["csv"]), query).content.decode("utf-8-sig")
        assert cells and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
        ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
        header = [c.value for c in ws[1]]
        assert header == [c.label for c in COLUMNS]
        sheet = {row[1]: dict(zip([c.id for c in COLUMNS], row, strict=True))
                 for row in ws.iter_rows(min_row=2, values_only=True)}
        assert set(sheet) == set(cells)
        csv_rows = [line.split(",") for line in csv_body.strip().splitlines()[1:]]
        assert len(csv_rows) == len(cells)
        compared = 0
        for key, row in cells.items():
            for col in COLUMNS:
                if col.id in ("key", "name", "flag") or col.id not in row:
                    continue
                raw = sheet[key][col.id]
                shown = row[col.id]
                assert text(raw, col.kind) == shown, (level, key, col.id)
                compared += 1
        assert compared > len(cells) * 20


def test_cli_prints_one_json_line_per_row_with_rates_counts_score_and_rank(demo):
    out = io.StringIO()
    with clock.frozen(AS_OF):
        call_command("scorecard", "--period", "2026-02", "--level", "street", "--json", stdout=out)
        card = scorecard("street", periods.parse("2026-02"))
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == len(card.cards) == Area.objects.filter(level=3).count()
    rows = [json.loads(line) for line in lines]
    for row, c in zip(rows, card.cards, strict=True):
        assert row["key"] == c.key and row["rank"] == c.rank and row["flagged"] == c.flagged
        assert row["counts"] == c.counts.as_dict()
        assert set(row["rates"]) == {"response", "resolution", "satisfaction", "overdue", "return", "extension",
                                     "reopen"}
        assert row["score"] == (None if c.score is None else pytest.approx(c.score, abs=1e-4))
        assert row["level"] == "street" and row["period"] == "2026-02"
    assert any(r["flagged"] for r in rows)
    out = io.StringIO()
    call_command("scorecard", "--period", "2026-Q1", "--level", "unit", "--json", "--active", stdout=out)
    assert all(json.loads(line)["counts"]["orders"] > 0 for line in out.getvalue().splitlines())


def test_the_monthly_report_prints(demo, client, city_users_for_demo):
    client.force_login(city_users_for_demo("analyst1"))
    with clock.frozen(AS_OF):
        response = client.get(reverse("followup:report", args=["2026-02"]))
        workbook = client.get(reverse("followup:report_xlsx", args=["2026-02"]))
    page = response.content.decode()
    assert response.status_code == 200 and "scorecards.css" in page and "治理类" in page
    assert [ws.title for ws in load_workbook(io.BytesIO(workbook.content)).worksheets][-1] == "notes"
    assert client.get(reverse("followup:report", args=["2026-Q1"])).status_code == 404
