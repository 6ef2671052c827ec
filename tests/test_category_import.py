"""诉求分类 import through the one importer (``jiesu import categories``, its alias
``jiesu import_categories``, the demo loader): the shipped tree, updates and subtree moves,
and every refused row named by its row number while the good rows are imported once."""

from __future__ import annotations

from importlib import resources

import pytest
from django.core.management import CommandError, call_command

from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category
from jiesu.integrations.exchange import importing
from jiesu.orders.errors import InvalidInput, NotAllowed


@pytest.fixture(autouse=True)
def _english():
    """The assertions read the English messages; the Chinese ones are checked once below."""
    from django.utils import translation

    with translation.override("en"):
        yield


HEADER = "code,name,name_en,parent_code,keywords\n"
SMALL = HEADER + (
    "01,城乡建设,Urban construction,,\n"
    "0101,市政设施,Municipal facilities,01,\n"
    "010101,路灯照明,Street lighting,0101,路灯 不亮\n"
    "02,环境保护,Environment,,\n"
)


def shipped() -> bytes:
    return resources.files("jiesu.demo").joinpath("data/categories.csv").read_bytes()


def load(text: str | bytes, actor=None) -> importing.Report:
    data = text.encode() if isinstance(text, str) else text
    return importing.run(kind="categories", data=data, filename="categories.csv", actor=actor or Actor.system())


def snapshot() -> list[tuple]:
    return list(
        Category.objects.order_by("code").values_list("code", "name", "name_en", "path", "level", "keywords")
    )


@pytest.mark.django_db
def test_shipped_tree_imports_with_three_levels_and_keywords():
    report = load(shipped())
    assert report.ok and report.created == Category.objects.count() == report.rows
    levels = {lvl: Category.objects.filter(level=lvl).count() for lvl in (1, 2, 3)}
    assert levels[1] >= 15 and levels[2] >= 55 and levels[3] >= 150, levels
    assert not Category.objects.filter(level__gt=3).exists()
    lamp = Category.objects.get(code="010101")
    assert (lamp.name, lamp.name_en, lamp.path, lamp.level) == ("路灯照明", "Street lighting", "01/0101/010101", 3)
    assert "路灯" in lamp.keywords.split()
    # Every leaf has keywords for cold-start triage, and every category an English name.
    assert not Category.objects.filter(level=3, keywords="").exists()
    assert not Category.objects.filter(name_en="").exists()
    before = snapshot()
    again = load(shipped())
    assert (again.created, again.updated, again.unchanged) == (0, 0, report.rows)
    assert snapshot() == before


@pytest.mark.django_db
def test_the_demo_loader_refuses_a_broken_shipped_file():
    with pytest.raises(ValueError, match="row 2"):
        importing.load_shipped(kind="categories", data=(HEADER + "01,,,,\n").encode(), filename="c.csv")
    assert importing.load_shipped(kind="categories", data=SMALL.encode(), filename="c.csv").created == 4


@pytest.mark.django_db
def test_a_byte_order_mark_is_not_glued_to_the_first_code():
    assert load(b"\xef\xbb\xbf" + SMALL.encode()).created == 4
    assert Category.objects.get(code="01").name == "城乡建设"


@pytest.mark.django_db
def test_update_renames_and_moves_a_subtree():
    load(SMALL)
    report = load(HEADER + "0101,市政设施与照明,Facilities,02,\n")
    assert report.ok and report.updated == 1
    assert Category.objects.get(code="0101").name == "市政设施与照明"
    # The child that was not in the file follows its parent.
    lamp = Category.objects.get(code="010101")
    assert (lamp.path, lamp.level) == ("02/0101/010101", 3)


@pytest.mark.django_db
def test_moving_a_parent_may_not_push_existing_children_below_level_three():
    load(SMALL)
    before = snapshot()
    report = load(HEADER + "0201,噪声,,02,\n0101,市政设施,,0201,\n")
    assert report.created == 1 and [p.row for p in report.problems] == [3]
    assert "level 4" in report.problems[0].message
    assert [r for r in snapshot() if r[0] != "0201"] == before


@pytest.mark.django_db
def test_child_before_parent_in_the_file_is_fine():
    report = load(HEADER + "010101,路灯照明,,0101,\n0101,市政设施,,01,\n01,城乡建设,,,\n")
    assert report.ok and Category.objects.get(code="010101").level == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "row", "words"),
    [
        ("01,城乡建设,,,\n01,又一个,,,\n", 3, "already on row 2"),
        ("01,城乡建设,,,\n0101,设施,,99,\n", 3, "“99”"),
        ("01,,,,\n", 2, "empty"),
        (",城乡建设,,,\n", 2, "empty"),
        ("01,城乡建设,,,\n0101,设施,,01,\n010101,路灯,,0101,\n01010101,太深,,010101,\n", 5, "level 4"),
        ("01,城乡建设,,01,\n", 2, "its own parent"),
        ("0 1,城乡建设,,,\n", 2, "spaces"),
    ],
    ids=["duplicate", "unknown-parent", "empty-name", "empty-code", "four-levels", "self-parent", "bad-code"],
)
def test_each_bad_row_is_named_and_writes_nothing_of_itself(rows, row, words):
    load(HEADER + "09,已有,,,\n")  # something already there, which must survive
    report = load(HEADER + rows)
    assert any(p.row == row and words in p.message for p in report.problems), report.problems
    assert Category.objects.filter(code="09").exists()
    assert Category.objects.count() == 1 + report.created


@pytest.mark.django_db
def test_a_loop_between_two_new_rows_is_refused():
    report = load(HEADER + "01,一,,02,\n02,二,,01,\n")
    assert report.problems and not Category.objects.exists()


@pytest.mark.django_db
def test_file_level_errors_import_nothing():
    with pytest.raises(InvalidInput, match="Missing column"):
        load("code\n01\n")
    with pytest.raises(InvalidInput, match="empty"):
        load("")
    assert not Category.objects.exists()


@pytest.mark.django_db
def test_only_an_administrator_may_import(city):
    before = snapshot()
    with pytest.raises(NotAllowed):
        load(SMALL, actor=city.actor("dispatcher"))
    assert snapshot() == before
    assert load(SMALL, actor=Actor.of(city.users["admin"])).rows == 4


@pytest.mark.django_db
def test_the_old_command_is_an_alias_of_jiesu_import_categories(tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(SMALL, encoding="utf-8")
    bad.write_text(HEADER + "03,ok,,,\n01,,,,\n", encoding="utf-8")
    call_command("import_categories", str(good))
    assert "新建 4" in capsys.readouterr().out  # the report speaks the site language
    with pytest.raises(SystemExit):
        call_command("import_categories", str(bad))
    out = capsys.readouterr()
    assert out.err.startswith("3:") and "新建 1" in out.out
    assert Category.objects.filter(code="03").exists()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_categories", str(tmp_path / "missing.csv"))


def test_errors_speak_chinese_by_default(db):
    from django.utils import translation

    with translation.override("zh-hans"):
        report = load(HEADER + "01,,,,\n")
    assert [p.row for p in report.problems] == [2] and "为空" in report.problems[0].message
