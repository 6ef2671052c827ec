"""Excel/CSV import: per-row report with row numbers, good rows imported once, idempotent
re-import, clear file-level errors; the command line and the upload page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from jiesu.accounts.models import Membership, User
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, RoutingRule
from jiesu.integrations.exchange import importing
from jiesu.orders.errors import InvalidInput, NotAllowed
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, Unit

SYSTEM = Actor.system()


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding="utf-8-sig") -> bytes:
    return "\n".join(",".join(str(c) for c in row) for row in rows).encode(encoding)


def run(kind, data, name="f.xlsx", actor=SYSTEM):
    return importing.run(kind=kind, data=data, filename=name, actor=actor)


AREAS = [
    ["code", "name", "level", "parent_code", "alias"],
    ["110105002", "团结湖街道", 3, 110105, ""],          # row 2: good (parent from the catalogue)
    ["110105002001", "团结湖社区", "community", "110105002", ""],  # row 3: good (parent on row 2)
    ["110105003", "", 3, "110105", ""],                 # row 4: no name
    ["110105004", "麦子店街道", "abc", "110105", ""],     # row 5: bad level
    ["110105005", "六里屯街道", 3, "999999", ""],        # row 6: unknown parent
    ["110105006", "八里庄街道", 2, "110105", ""],         # row 7: level not below the parent's
]


def test_good_rows_of_a_broken_sheet_are_imported_once_and_bad_rows_named(city):
    report = run("areas", xlsx(AREAS))
    assert (report.rows, report.created, report.updated, report.unchanged) == (6, 2, 0, 0)
    assert [p.row for p in report.problems] == [4, 5, 6, 7]
    messages = {p.row: p.message for p in report.problems}
    assert "名称" in messages[4] or "name" in messages[4]
    assert "abc" in messages[5] and "999999" in messages[6]
    assert Area.objects.get(code="110105002001").path == "110000/110105/110105002/110105002001"
    again = run("areas", xlsx(AREAS))
    assert (again.created, again.updated, again.unchanged, len(again.problems)) == (0, 0, 2, 4)
    assert Area.objects.filter(code__startswith="110105002").count() == 2


def test_a_changed_row_is_updated_not_duplicated(city):
    run("areas", xlsx(AREAS[:2]))
    report = run("areas", xlsx([AREAS[0], ["110105002", "团结湖街道办", 3, "110105", "团结湖"]]))
    assert (report.created, report.updated) == (0, 1)
    assert Area.objects.get(code="110105002").alias == "团结湖"


def test_missing_columns_and_files_that_are_not_spreadsheets_import_nothing(city):
    with pytest.raises(InvalidInput, match="level"):
        run("areas", xlsx([["code", "name"], ["1", "x"]]))
    with pytest.raises(InvalidInput) as err:
        run("areas", b"%PDF-1.4 this is no workbook", name="renamed.xlsx")
    assert "Excel" in str(err.value) or "xlsx" in str(err.value)
    with pytest.raises(InvalidInput):
        run("areas", b"code,name\n", name="notes.txt")
    with pytest.raises(InvalidInput):
        run("areas", b"", name="empty.csv")
    assert Area.objects.count() == 5


def test_units_categories_rules_and_users_round_trip(city):
    units = [["编码", "名称", "类型", "上级编码", "辖区编码", "电话", "有效"],  # Chinese headers are accepted
             ["TJH", "团结湖街道办事处", "street_office", "", "110105", "010-1234", "1"],
             ["BAD", "坏单位", "spaceship", "", "", "", ""]]
    report = run("units", csv_bytes(units), name="units.csv")
    assert report.created == 1 and [p.row for p in report.problems] == [3]
    assert Unit.objects.get(code="TJH").area.code == "110105"

    cats = [["code", "name", "name_en", "parent_code", "keywords"],
            ["020101", "夜间施工", "Night works", "0201", "施工 噪音"],
            ["02010101", "太深", "", "020101", ""],  # a fourth level
            ["03", "交通", "Traffic", "", ""]]
    report = run("categories", xlsx(cats))
    assert report.created == 2 and [p.row for p in report.problems] == [3]
    assert Category.objects.get(code="020101").level == 3

    rules = [["category_code", "area_code", "lead_unit", "co_units"],
             ["020101", "110105", "TJH", "PSB-SLT、WATER"],
             ["020101", "", "NOPE", ""]]
    report = run("rules", xlsx(rules))
    assert report.created == 1 and [p.row for p in report.problems] == [3]
    rule = RoutingRule.objects.get(category__code="020101")
    assert {u.code for u in rule.co_units.all()} == {"PSB-SLT", "WATER"}
    assert run("rules", xlsx(rules)).unchanged == 1

    users = [["username", "display_name", "email", "unit_code", "role"],
             ["wang", "王五", "wang@example.org", "TJH", "handler"],
             ["wang", "王五", "wang@example.org", "TJH", "unit_lead"],
             ["li", "李四", "not-an-address", "", ""],
             ["zhao", "", "", "TJH", "emperor"]]
    report = run("users", xlsx(users))
    assert (report.created, report.updated) == (1, 1) and [p.row for p in report.problems] == [4, 5]
    wang = User.objects.get(username="wang")
    assert not wang.has_usable_password()
    assert set(Membership.objects.filter(user=wang).values_list("role", flat=True)) == {"handler", "unit_lead"}
    again = run("users", xlsx(users))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_orders_are_imported_once_per_external_id(city):
    rows = [["external_id", "request_type", "channel", "content", "phone", "name", "category_code", "area_code",
             "received_at"],
            ["A-1", "投诉", "hotline", "楼下餐馆油烟太大。", "13812345678", "张三", "0201", "110105001",
             "2026-03-01 09:30"],
            ["A-2", "complaint", "web", "路灯不亮。", "123", "", "", "", ""],           # bad phone
            ["A-3", "咨询", "", "怎么办居住证？", "13900000000", "", "", "", "2099-01-01"],  # future time
            ["A-4", "suggest", "", "", "13900000000", "", "", "", ""]]             # no content
    report = run("orders", xlsx(rows))
    assert report.created == 1 and [p.row for p in report.problems] == [3, 4, 5]
    assert "123" in report.problems[0].message
    order = WorkOrder.objects.get()
    assert order.received_at.isoformat() == "2026-03-01T01:30:00+00:00"
    assert order.request_type == "complaint" and order.requesters.get().phone == "13812345678"
    again = run("orders", xlsx(rows))
    assert (again.created, again.unchanged) == (0, 1) and WorkOrder.objects.count() == 1


def test_only_administrators_import_the_organisation(city):
    with pytest.raises(NotAllowed):
        run("units", xlsx([["code", "name", "kind"]]), actor=city.actor("supervisor"))
    report = run("orders", csv_bytes([["external_id", "request_type", "content", "phone"],
                                      ["S-1", "help", "帮忙。", "13812345678"]]), name="o.csv",
                 actor=city.actor("supervisor"))
    assert report.created == 1


def test_a_gb18030_csv_from_chinese_excel(city):
    data = csv_bytes([["code", "name", "level", "parent_code"], ["110105009", "呼家楼街道", "街道", "110105"]],
                     encoding="gb18030")
    assert run("areas", data, name="areas.csv").created == 1


def test_english_messages_for_an_english_user(city, settings):
    from django.utils import translation

    with translation.override("en"):
        report = run("areas", xlsx(AREAS[:1] + [AREAS[3]]))
    assert report.problems[0].message == "name is empty."


def test_the_command_line_imports_with_a_report_and_writes_templates(city, tmp_path, capsys):
    path = tmp_path / "areas.xlsx"
    path.write_bytes(xlsx(AREAS))
    with pytest.raises(SystemExit) as stop:
        call_command("import", "areas", str(path), "--lang", "en", "--no-progress")
    assert stop.value.code == 1
    out = capsys.readouterr()
    assert "6 rows: 2 created" in out.out and out.err.splitlines()[0].startswith("4: ")
    template = tmp_path / "orders.xlsx"
    call_command("import", "orders", str(template), "--template")
    book = load_workbook(template)
    assert [c.value for c in book.worksheets[0][1]][:3] == ["external_id", "request_type", "channel"]
    assert book.worksheets[1].title == "说明 Help"
    csv_template = tmp_path / "areas.csv"
    call_command("import", "areas", str(csv_template), "--template")
    assert csv_template.read_bytes().decode("utf-8-sig").strip() == "code,name,level,parent_code,alias"


# --- the upload page --------------------------------------------------------------------------


@pytest.fixture
def admin_desk(client, city):
    client.force_login(city.users["admin"])
    client.cookies["django_language"] = "en"
    return client


def test_the_upload_page_shows_the_report(admin_desk, city):
    upload = io.BytesIO(xlsx(AREAS))
    upload.name = "areas.xlsx"
    response = admin_desk.post(reverse("integrations:import"), {"kind": "areas", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200 and "data-import-report" in page
    assert "6 rows: 2 created, 0 updated, 0 unchanged, 4 refused." in page
    assert "<td>4</td>" in page and "999999" in page


def test_the_upload_page_refuses_a_fake_excel_file_and_an_oversized_one(admin_desk, settings):
    fake = io.BytesIO(b"MZ\x90\x00 not a workbook")
    fake.name = "orders.xlsx"
    response = admin_desk.post(reverse("integrations:import"), {"kind": "orders", "file": fake})
    assert response.status_code == 422 and "This is not an Excel (.xlsx) file" in response.content.decode()
    settings.JIESU = {**settings.JIESU, "IMPORT_MAX_BYTES": 100}
    big = io.BytesIO(b"x" * 101)
    big.name = "big.csv"
    response = admin_desk.post(reverse("integrations:import"), {"kind": "orders", "file": big})
    assert response.status_code == 422 and "The file is too big" in response.content.decode()


def test_who_may_use_the_upload_page(client, city):
    client.force_login(city.users["handler"])
    assert client.get(reverse("integrations:import")).status_code == 403
    client.force_login(city.users["supervisor"])
    page = client.get(reverse("integrations:import")).content.decode()
    assert 'value="orders"' in page and 'value="units"' not in page
    response = client.get(reverse("integrations:import_template", args=["orders", "csv"]))
    assert response.status_code == 200 and response.content.decode("utf-8-sig").startswith("external_id,")
