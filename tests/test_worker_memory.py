"""What a web worker loads to serve requests (docs/benchmarks.md, session 7): scikit-learn,
scipy and openpyxl are for training and exports, not for answering an intake, and rjieba's
dictionary is held once. Each is tens of MB in every gunicorn worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import rjieba

from jiesu.triage import text
from jiesu.triage.classifier import TextClassifier
from jiesu.triage.store import ModelStore
from tests.triage_corpus import corpus

ROOT = Path(__file__).resolve().parents[1]

# In a fresh process, as a worker starts: every URL's views imported, a stored model loaded and
# one text predicted and segmented, as intake's triage does.
PROBE = """
import json, sys
import django
django.setup()
from django.urls import resolve
resolve("/api/v1/orders")
from jiesu.triage import text
from jiesu.triage.store import ModelStore
version, model = ModelStore(sys.argv[1]).latest("category")
label = model.predict("路灯不亮，晚上出行很不方便").label
words = text.segment("噪音扰民")
import rjieba
print(json.dumps({"label": label, "words": words,
                  "one_jieba": text._segmenter() is getattr(rjieba, "_DEFAULT_JIEBA", None),
                  "loaded": sorted(m for m in ("sklearn", "scipy.optimize", "scipy.sparse", "openpyxl")
                                   if m in sys.modules)}, ensure_ascii=False))
"""


def test_serving_loads_no_training_or_export_libraries(tmp_path):
    texts, labels = corpus(8, seed=1)
    ModelStore(tmp_path / "store").save("category", TextClassifier().fit(texts, labels))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "jiesu.settings", "JIESU_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "store")], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["label"] == "路灯"
    assert found["words"] == ["噪音扰民"]
    assert found["one_jieba"] is True
    assert found["loaded"] == []


def test_rjieba_cut_has_the_domain_dictionary_once_segmented():
    # One instance for Jiesu and rjieba's own functions: the domain words hold for both.
    text.segment("路灯")
    assert "噪音扰民" in rjieba.cut("邻居噪音扰民")
