import logging
import os

import pytest

from jiesu.triage.classifier import MODEL_FILE, TextClassifier
from jiesu.triage.store import CURRENT, ModelStore, forget
from tests.triage_corpus import corpus


@pytest.fixture(scope="module")
def model():
    texts, labels = corpus(8, seed=1)
    return TextClassifier().fit(texts, labels)


@pytest.fixture(autouse=True)
def _fresh_cache():
    forget()
    yield
    forget()


def test_save_and_latest(model, tmp_path):
    store = ModelStore(tmp_path)
    assert store.latest("category") is None
    assert store.versions("category") == []
    v1 = store.save("category", model)
    assert (tmp_path / "models" / "category" / v1 / MODEL_FILE).is_file()
    assert store.versions("category") == [v1]
    version, clf = store.latest("category")
    assert version == v1 and clf.predict("路灯不亮").label == "路灯"
    assert clf.info["version"] == v1
    assert store.info("category")["version"] == v1
    # a second call does not reload: the same object
    assert ModelStore(tmp_path).latest("category")[1] is clf
    assert not [p for p in (tmp_path / "models" / "category").iterdir() if p.name.startswith(".")]


def test_new_version_is_picked_up(model, tmp_path):
    store = ModelStore(tmp_path)
    v1 = store.save("category", model)
    first = store.latest("category")[1]
    v2 = store.save("category", model)
    assert v2 > v1 and store.versions("category") == [v1, v2]
    version, second = ModelStore(tmp_path).latest("category")  # another store object, same process
    assert version == v2 and second is not first
    store.activate("category", v1)  # roll back
    assert store.latest("category")[0] == v1
    with pytest.raises(ValueError):
        store.activate("category", "no-such-version")


def test_unactivated_and_pruned_versions(model, tmp_path):
    store = ModelStore(tmp_path)
    v1 = store.save("m", model)
    store.save("m", model, activate=False)
    assert store.latest("m")[0] == v1
    store.save("m", model, keep=2)
    assert len(store.versions("m")) == 2 and v1 not in store.versions("m")


def test_corrupt_model_gives_none_and_logs(model, tmp_path, caplog):
    store = ModelStore(tmp_path)
    v1 = store.save("category", model)
    path = tmp_path / "models" / "category" / v1 / MODEL_FILE
    path.write_bytes(b"not a model at all")
    os.utime(tmp_path / "models" / "category" / CURRENT, ns=(1, 1))  # make the store look again
    with caplog.at_level(logging.ERROR, logger="jiesu.triage"):
        assert store.latest("category") is None
    assert "could not be loaded" in caplog.text
    assert store.latest("category") is None  # and again, without raising


def test_missing_model_and_bad_names(model, tmp_path):
    store = ModelStore(tmp_path)
    v1 = store.save("category", model)
    (tmp_path / "models" / "category" / CURRENT).write_text("gone-version\n")
    assert store.latest("category") is None
    assert store.latest("../../etc") is None
    assert store.latest("") is None
    with pytest.raises(ValueError):
        store.save("../x", model)
    (tmp_path / "models" / "category" / CURRENT).unlink()
    assert store.latest("category")[0] == v1  # no CURRENT: the newest stored version
