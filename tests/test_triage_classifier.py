import json

import numpy as np
import pytest

from jiesu.triage.classifier import INFO_FILE, MODEL_FILE, Prediction, TextClassifier
from jiesu.triage.evaluation import cross_validate, metrics, threshold_for_precision
from tests.triage_corpus import corpus


@pytest.fixture(scope="module")
def model():
    texts, labels = corpus(30, seed=1)
    return TextClassifier().fit(texts, labels)


def test_learns_the_synthetic_classes(model):
    texts, labels = corpus(10, seed=2)
    preds = model.predict(texts)
    assert len(preds) == len(texts)
    right = sum(p.label == lab for p, lab in zip(preds, labels, strict=True))
    assert right / len(texts) >= 0.9
    assert sorted(model.classes) == ["噪音", "工资", "教育", "路灯"]


def test_confidences_are_probabilities(model):
    for p in model.predict(["小区路灯不亮，晚上很黑", "老板拖欠工资", "天气不错"]):
        assert isinstance(p, Prediction)
        assert 0.0 <= p.confidence <= 1.0
        assert p.alternatives[0] == (p.label, round(p.confidence, 4))
        assert all(0.0 <= c <= 1.0 for _l, c in p.alternatives)
        assert [c for _l, c in p.alternatives] == sorted((c for _l, c in p.alternatives), reverse=True)
        assert sum(c for _l, c in p.alternatives) == pytest.approx(1.0, abs=0.01)
    probs = model.predict_proba(["路灯不亮"])
    assert probs.shape == (1, 4) and probs.sum() == pytest.approx(1.0)


def test_words_explain_the_decision(model):
    p = model.predict("我家楼下的路灯坏了一个星期，晚上一片漆黑")
    assert p.label == "路灯"
    assert "路灯" in p.words
    q = model.predict("包工头拖欠工资不给")
    assert q.label == "工资" and any("工资" in w for w in q.words)


def test_segmented_and_raw_input_agree(model):
    raw = model.predict("公司拖欠工资三个月，老板不发工资")
    seg = model.predict("公司 拖欠工资 三个月 老板 不发 工资")
    assert raw.label == seg.label == "工资"


def test_single_text_and_list(model):
    assert isinstance(model.predict("路灯不亮"), Prediction)
    assert isinstance(model.predict(["路灯不亮"]), list)
    assert model.predict([]) == []


def test_no_usable_words_gives_empty_label(model):
    for bad in ("", "！！！", "   "):
        p = model.predict(bad)
        assert p.label == "" and p.confidence == 0.0


def test_save_load_round_trip(model, tmp_path):
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / MODEL_FILE).is_file()
    info = json.loads((tmp_path / "m" / INFO_FILE).read_text(encoding="utf-8"))
    for key in ("version", "trained_at", "n_samples", "classes", "sizes", "sha256"):
        assert key in info
    assert info["n_samples"] == 120
    loaded = TextClassifier.load(tmp_path / "m")
    texts, _ = corpus(5, seed=3)
    a, b = model.predict(texts), loaded.predict(texts)
    assert [p.label for p in a] == [p.label for p in b]
    assert np.allclose([p.confidence for p in a], [p.confidence for p in b])
    assert loaded.classes == model.classes
    assert loaded.info["n_samples"] == 120


def test_explanations_survive_saving_and_format_1_files_still_load(model, tmp_path):
    import joblib

    texts, _ = corpus(5, seed=4)
    words = [p.words for p in model.predict(texts)] + [model.predict(t).words for t in texts]
    assert any(words) and all(" " not in w for ws in words for w in ws)  # pairs are shown joined
    model.save(tmp_path / "m")
    state = joblib.load(tmp_path / "m" / MODEL_FILE)
    assert state["format"] == 2 and "names" not in state  # rebuilt from the vocabularies on load
    loaded = TextClassifier.load(tmp_path / "m")
    assert [p.words for p in loaded.predict(texts)] + [loaded.predict(t).words for t in texts] == words
    # A file of format 1 (written before session 7) carried the names, pairs joined: still read.
    old_names = np.array([n.replace(" ", "") for n in loaded._feature_names()], dtype=object)
    joblib.dump({**state, "format": 1, "names": old_names}, tmp_path / "old.joblib")
    old = TextClassifier.load(tmp_path / "old.joblib")
    assert [p.words for p in old.predict(texts)] + [old.predict(t).words for t in texts] == words


def test_damaged_file_is_refused(model, tmp_path):
    model.save(tmp_path / "m")
    with open(tmp_path / "m" / MODEL_FILE, "r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    with pytest.raises(ValueError, match="checksum"):
        TextClassifier.load(tmp_path / "m")


def test_bad_training_data():
    with pytest.raises(ValueError, match="two different labels"):
        TextClassifier().fit(["路灯不亮", "路灯坏了"], ["路灯", "路灯"])
    with pytest.raises(ValueError, match="labels"):
        TextClassifier().fit(["路灯不亮"], ["路灯", "噪音"])


def test_tiny_data_without_calibration_folds():
    m = TextClassifier().fit(["路灯不亮", "噪音扰民"], ["路灯", "噪音"])
    assert m.predict("路灯坏了").label == "路灯"


def test_self_training_uses_the_pool():
    texts, labels = corpus(15, seed=4)
    pool, _ = corpus(10, seed=5)
    m = TextClassifier(self_training_threshold=0.5).fit(texts, labels, unlabelled=pool)
    assert m.info["n_pseudo_labelled"] > 0
    assert m.predict("路灯不亮").label == "路灯"


def test_cross_validation_report_is_json():
    texts, labels = corpus(12, seed=6)
    r = cross_validate(texts, labels, folds=3)
    json.dumps(r)
    assert r["folds"] == 3 and len(r["macro_f1_folds"]) == 3
    assert 0.8 <= r["macro_f1"] <= 1.0
    for key in ("accuracy", "per_class", "confusion", "train_seconds_per_fold", "predictions_per_second",
                "model_bytes", "calibration", "auto_dispatch"):
        assert key in r
    assert set(r["per_class"]) == set(labels)
    assert sum(map(sum, r["confusion"]["matrix"])) == len(texts)
    # A label rarer than the folds is left out and named; the other labels keep their 3 folds.
    rare = cross_validate(texts + ["孤单的一条", "孤单的两条"], labels + ["孤单", "孤单"], folds=3)
    assert rare["folds"] == 3 and rare["left_out"] == {"孤单": 2} and rare["n"] == len(texts)
    assert "孤单" not in rare["per_class"] and r["left_out"] == {}
    with pytest.raises(ValueError, match="at least two labels with 3 texts"):
        cross_validate(texts[:2] + ["孤单的一条"], [labels[0], labels[0], "孤单"], folds=3)


def test_metrics_and_threshold():
    m = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], [0.9, 0.6, 0.8, 0.7])
    assert m["accuracy"] == 0.75
    assert m["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    t = threshold_for_precision(np.array([True, True, True, False]), np.array([0.9, 0.8, 0.7, 0.6]), 0.97)
    assert t["threshold"] == 0.7 and t["coverage"] == 0.75 and t["precision"] == 1.0
    none = threshold_for_precision(np.array([False, True]), np.array([0.9, 0.8]), 0.97)
    assert none["threshold"] is None
