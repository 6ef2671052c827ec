import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from jiesu.learning.sources import database_examples, order_text
from jiesu.triage.store import ModelStore, forget
from tests.triage_corpus import corpus


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    forget()
    yield
    forget()


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def labelled(tmp_path):
    texts, labels = corpus(15, seed=7)
    rows = [(f"主题{i}", t, lab) for i, (t, lab) in enumerate(zip(texts, labels, strict=True))]
    return write_csv(tmp_path / "train.csv", ["subject", "内容", "类别"], rows)


def test_train_classify_evaluate_csv(labelled, tmp_path, settings):
    out = run("train", "--file", str(labelled), "--text", "内容", "--label", "类别", "--model", "demo")
    assert "model demo version" in out and "60 examples" in out
    found = ModelStore(settings.DATA_DIR).latest("demo")
    assert found is not None and sorted(found[1].classes) == ["噪音", "工资", "教育", "路灯"]

    rows = [("小区路灯不亮",), ("",), ("no chinese at all",), ("老板拖欠工资三个月",), ("！！！",)]
    test = write_csv(tmp_path / "test.csv", ["内容"], rows)
    lines = [json.loads(x) for x in run("classify", "--model", "demo", "--file", str(test), "--text", "内容").splitlines()]
    assert [x["index"] for x in lines] == [0, 1, 2, 3, 4]
    assert lines[0]["label"] == "路灯" and 0 < lines[0]["confidence"] <= 1
    assert lines[3]["label"] == "工资"
    assert "error" in lines[1] and "error" in lines[2] and "error" in lines[4]

    report = tmp_path / "metrics.json"
    out = run("evaluate", "--model", "demo", "--file", str(labelled), "--text", "内容", "--label", "类别",
              "--folds", "3", "--json", str(report))
    assert "macro-F1" in out and "confusion matrix" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["folds"] == 3 and data["macro_f1"] > 0.8 and data["model_settings_from"].startswith("demo ")
    out = run("evaluate", "--model", "demo", "--stored", "--file", str(labelled), "--text", "内容", "--label", "类别")
    assert "fixed model" in out
    # a category used twice in the history is left out of 3-fold cross-validation, and said so
    with open(labelled, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    rare = write_csv(tmp_path / "rare.csv", ["subject", "内容", "类别"],
                     rows + [("x", "井盖丢了很危险", "井盖"), ("y", "井盖被偷了", "井盖")])
    out = run("evaluate", "--model", "demo", "--file", str(rare), "--text", "内容", "--label", "类别", "--folds", "3")
    assert "3-fold" in out and "left out: 1 label with fewer texts than folds (2 texts): 井盖 (2)" in out


def test_xlsx_and_joined_columns(tmp_path):
    texts, labels = corpus(10, seed=8)
    rows = [(t[:6], t[6:], lab) for t, lab in zip(texts, labels, strict=True)]
    book = write_xlsx(tmp_path / "train.xlsx", ["主题", "详情", "标签"], rows)
    out = run("train", "--file", str(book), "--text", "主题+详情", "--label", "标签", "--model", "x")
    assert "40 examples" in out
    test = write_xlsx(tmp_path / "test.xlsx", ["主题", "详情"], [("路灯", "坏了不亮"), (None, None), (123, 456)])
    lines = [json.loads(x) for x in run("classify", "--model", "x", "--file", str(test), "--text", "主题+详情").splitlines()]
    assert lines[0]["label"] == "路灯"
    assert "error" in lines[1] and "error" in lines[2]


def test_clear_errors(labelled, tmp_path):
    with pytest.raises(CommandError, match="file not found"):
        run("train", "--file", str(tmp_path / "nope.csv"), "--text", "内容", "--label", "类别")
    with pytest.raises(CommandError, match="no column '正文'.*'内容'"):
        run("train", "--file", str(labelled), "--text", "正文", "--label", "类别")
    with pytest.raises(CommandError, match="--text COLUMN and --label COLUMN"):
        run("train", "--file", str(labelled))
    with pytest.raises(CommandError, match="no usable model 'missing'"):
        run("classify", "--model", "missing", "--file", str(labelled), "--text", "内容")
    empty = write_csv(tmp_path / "empty.csv", ["内容", "类别"], [])
    with pytest.raises(CommandError, match="no row has both"):
        run("train", "--file", str(empty), "--text", "内容", "--label", "类别")
    (tmp_path / "blank.csv").write_text("")
    with pytest.raises(CommandError, match="empty"):
        run("train", "--file", str(tmp_path / "blank.csv"), "--text", "内容", "--label", "类别")
    (tmp_path / "bad.xlsx").write_bytes(b"PK not really a workbook")
    with pytest.raises(CommandError, match="not a readable .xlsx"):
        run("train", "--file", str(tmp_path / "bad.xlsx"), "--text", "内容", "--label", "类别")
    few = write_csv(tmp_path / "few.csv", ["内容", "类别"], [("路灯不亮", "路灯"), ("噪音扰民", "噪音")])
    with pytest.raises(CommandError, match="not enough training data"):
        run("train", "--file", str(few), "--text", "内容", "--label", "类别")


def test_gb18030_csv(tmp_path):
    texts, labels = corpus(6, seed=9)
    path = tmp_path / "gbk.csv"
    with open(path, "w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(["内容", "类别"])
        w.writerows(zip(texts, labels, strict=True))
    out = run("train", "--file", str(path), "--text", "内容", "--label", "类别", "--model", "gbk")
    assert "24 examples" in out


def test_order_text():
    assert order_text("路灯坏了", "小区门口路灯坏了一周") == "路灯坏了 小区门口路灯坏了一周"
    assert order_text("路灯", "路灯坏了") == "路灯坏了"
    assert order_text("", "内容") == "内容"


@pytest.mark.django_db
def test_train_from_the_database(new_order, settings):
    from jiesu.orders import actions

    texts, labels = corpus(8, seed=10)
    code = {"路灯": "010101", "噪音": "0201", "工资": "0101", "教育": "02"}
    for t, lab in zip(texts, labels, strict=True):
        new_order(content=t, category_code=code[lab])
    draft = new_order(content="草稿：路灯坏了", category_code="0201", draft=True)
    examples = list(database_examples("category"))
    assert len(examples) == len(texts)
    assert all(text != draft.content for text, _ in examples)
    assert {lab for _t, lab in examples} == set(code.values())
    top = dict(database_examples("category", level=1))
    assert set(top.values()) == {"01", "02"}
    assert {lab for _t, lab in database_examples("request_type")} == {"complaint"}
    with pytest.raises(ValueError):
        list(database_examples("colour"))

    out = run("train", "--model", "category")
    assert f"{len(texts)} examples" in out
    version, clf = ModelStore(settings.DATA_DIR).latest("category")
    assert clf.predict("小区路灯坏了不亮").label == "010101"
    with pytest.raises(CommandError, match="not enough training data"):
        run("train", "--target", "request_type")  # one request type only
    assert actions  # the order services made the orders (intake as in production)


def test_a_reader_that_stops_early_is_not_an_error(labelled, tmp_path, settings):
    """`jiesu classify … | head -3`: when the reader closes the pipe, the command stops quietly
    with the status of a process killed by SIGPIPE (141), not with a traceback."""
    import os
    import subprocess
    import sys

    run("train", "--file", str(labelled), "--text", "内容", "--label", "类别", "--model", "demo")
    many = write_csv(tmp_path / "many.csv", ["内容"], [("小区路灯不亮，晚上很黑",)] * 20_000)
    env = {**os.environ, "JIESU_DATA_DIR": str(settings.DATA_DIR)}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "jiesu", "classify", "--model", "demo", "--file", str(many), "--text", "内容"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    assert first["index"] == 0 and first["label"] == "路灯"
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err, err
