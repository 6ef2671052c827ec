"""诉求分类 CSV import: the shipped tree, updates, and every refusal leaving the catalogue as it was."""

from __future__ import annotations

import io
from importlib import resources

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category
from jiesu.catalogue.services import CategoryImportError, import_categories_csv


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


def snapshot() -> list[tuple]:
    return list(
        Category.objects.order_by("code").values_list("code", "name", "name_en", "path", "level", "keywords")
    )


def refused(text: str | bytes) -> list:
    before = snapshot()
    with pytest.raises(CategoryImportError) as info:
        import_categories_csv(file=text.encode() if isinstance(text, str) else text)
    assert snapshot() == before, "a refused file must change nothing"
    return info.value.problems


@pytest.mark.django_db
def test_shipped_tree_imports_with_three_levels_and_keywords():
    result = import_categories_csv(file=shipped())
    assert len(result.created) == Category.objects.count() == result.total
    levels = {lvl: Category.objects.filter(level=lvl).count() for lvl in (1, 2, 3)}
    assert levels[1] >= 15 and levels[2] >= 55 and levels[3] >= 150, levels
    assert not Category.objects.filter(level__gt=3).exists()
    lamp = Category.objects.get(code="010101")
    assert (lamp.name, lamp.name_en, lamp.path, lamp.level) == (
        "路灯照明",
        "Street lighting",
        "01/0101/010101",
        3,
    )
    assert "路灯" in lamp.keywords.split()
    # Every leaf has keywords for cold-start triage, and every category an English name.
    assert not Category.objects.filter(level=3, keywords="").exists()
    assert not Category.objects.filter(name_en="").exists()
    again = import_categories_csv(file=shipped())
    assert again.created == [] and again.updated == [] and len(again.unchanged) == result.total


@pytest.mark.django_db
def test_bom_path_and_text_file_are_all_accepted(tmp_path):
    path = tmp_path / "cats.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    assert len(import_categories_csv(file=path).created) == 4
    assert Category.objects.get(code="01").name == "城乡建设"  # no BOM glued to the first code
    assert import_categories_csv(file=str(path)).total == 4
    assert import_categories_csv(file=io.StringIO("\ufeff" + SMALL)).total == 4


@pytest.mark.django_db
def test_update_renames_and_moves_a_subtree():
    import_categories_csv(file=SMALL.encode())
    moved = HEADER + "0101,市政设施与照明,Facilities,02,\n"
    result = import_categories_csv(file=moved.encode())
    assert result.updated == ["0101"]
    assert Category.objects.get(code="0101").name == "市政设施与照明"
    # The child that was not in the file follows its parent.
    assert Category.objects.get(code="010101").path == "02/0101/010101"


@pytest.mark.django_db
def test_child_before_parent_in_the_file_is_fine():
    text = HEADER + "010101,路灯照明,,0101,\n0101,市政设施,,01,\n01,城乡建设,,,\n"
    import_categories_csv(file=text.encode())
    assert Category.objects.get(code="010101").level == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "line", "words"),
    [
        ("01,城乡建设,,,\n01,又一个,,,\n", 3, "already used on line 2"),
        ("01,城乡建设,,,\n0101,设施,,99,\n", 3, "“99”"),
        ("01,,,,\n", 2, "name is empty"),
        (",城乡建设,,,\n", 2, "code is empty"),
        ("01,城乡建设,,,\n0101,设施,,01,\n010101,路灯,,0101,\n01010101,太深,,010101,\n", 5, "level 4"),
        ("01,一,,02,\n02,二,,01,\n", 2, "loop"),
        ("01,城乡建设,,01,\n", 2, "its own parent"),
        ("0 1,城乡建设,,,\n", 2, "invalid"),
    ],
    ids=[
        "duplicate",
        "unknown-parent",
        "empty-name",
        "empty-code",
        "four-levels",
        "cycle",
        "self-parent",
        "bad-code",
    ],
)
def test_each_error_names_its_line_and_writes_nothing(rows, line, words):
    import_categories_csv(file=SMALL.encode())  # something already there, which must survive
    problems = refused(HEADER + rows)
    assert any(p.line == line and words in str(p) for p in problems), [str(p) for p in problems]


@pytest.mark.django_db
def test_file_level_errors():
    assert "Missing column" in str(refused("code,name\n01,城乡建设\n")[0])
    assert "UTF-8" in str(refused("code,name,parent_code\n01,城乡建设,\n".encode("gbk"))[0])
    assert "empty" in str(refused("")[0])
    assert "no categories" in str(refused(HEADER)[0])


@pytest.mark.django_db
def test_moving_a_parent_may_not_push_existing_children_below_level_three():
    import_categories_csv(file=SMALL.encode())
    problems = refused(HEADER + "0201,噪声,,02,\n0101,市政设施,,0201,\n")
    assert any("010101" in str(p) and "level 4" in str(p) for p in problems)


@pytest.mark.django_db
def test_all_errors_are_reported_together():
    problems = refused(HEADER + "01,,,,\n01,重复,,,\n0101,设施,,77,\n")
    assert {p.line for p in problems} >= {2, 3}


@pytest.mark.django_db
def test_only_an_administrator_may_import(city):
    with pytest.raises(PermissionDenied):
        import_categories_csv(file=SMALL.encode(), actor=city.actor("dispatcher"))
    assert import_categories_csv(file=SMALL.encode(), actor=Actor.of(city.users["admin"])).total == 4


@pytest.mark.django_db
def test_management_command(tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(SMALL, encoding="utf-8")
    bad.write_text(HEADER + "01,,,,\n", encoding="utf-8")
    call_command("import_categories", str(good))
    assert "4 created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_categories", str(bad))
    assert "Line 2" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_categories", str(tmp_path / "missing.csv"))


def test_errors_speak_chinese_by_default(db):
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(CategoryImportError) as info:
            import_categories_csv(file=b"code,name,name_en,parent_code,keywords\n01,,,,\n")
        assert str(info.value.problems[0]) == "第 2 行：名称为空。"
