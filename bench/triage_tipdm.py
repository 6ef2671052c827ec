"""Triage category classifier on real data: TipDM 2020 problem C (7 level-1 classes).

    .venv/bin/python -m bench.triage_tipdm

1. 5-fold stratified cross-validation on ``train_segmented_labeled.csv`` (text 分词文本, label
   一级标签);
2. train on all of it, test on the raw text (留言主题 + 留言详情) of ``sample_fulltext_labeled.csv``;
   442 of its 457 messages are also in the training file (the README: the sample is drawn from
   附件2), so this mostly checks that raw text is segmented as the training text was;
3. the same with those messages taken out of training first: the honest hold-out figure;
4. cost: training on 8,000 messages, predictions per second on raw text (one process, one
   thread), model file size.

Each is measured for Jiesu's classifier and for a baseline in the same run: plain TF-IDF over
the same words + a linear SVM (scikit-learn defaults). Results go to
``bench/results/triage_tipdm.json``. Without the data (``../shared/data`` next to the repository,
or ``JIESU_SHARED_DATA``) it says so and exits 0. ``BENCH_FOLDS`` (default 5) and
``BENCH_SELF_TRAINING=1`` (also try self-training on the 2,801 unlabelled messages) adjust it.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as the target says
    os.environ.setdefault(_var, "1")

import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "triage_tipdm.json"


def data_dir() -> Path:
    base = os.environ.get("JIESU_SHARED_DATA")
    return (Path(base) if base else Path(__file__).resolve().parents[2] / "shared" / "data") / "tipdm2020_c_gov_messages"


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Baseline:
    """Plain TF-IDF over the words + LinearSVC, scikit-learn defaults; the same segmentation as
    Jiesu's classifier, so that the comparison is about the model, not the tokens."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.vec = TfidfVectorizer(analyzer=_words)
        self.svm = LinearSVC()

    def fit(self, texts, labels, unlabelled=()):
        self.svm.fit(self.vec.fit_transform(texts), labels)
        return self

    def predict(self, texts):
        from jiesu.triage.classifier import Prediction

        X = self.vec.transform(texts)
        return [Prediction(label=str(lab), confidence=0.0) for lab in self.svm.predict(X)]


def _words(text: str) -> list[str]:
    from jiesu.triage.text import segment

    return segment(text)


def scores(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {"macro_f1": round(float(f1_score(y_true, y_pred, average="macro")), 4),
            "accuracy": round(float(accuracy_score(y_true, y_pred)), 4)}


def fit_predict(factory, train_x, train_y, test_x, test_y, unlabelled=()) -> dict[str, Any]:
    started = time.perf_counter()
    model = factory().fit(train_x, train_y, unlabelled=unlabelled)
    fit_s = time.perf_counter() - started
    preds = model.predict(test_x)
    out: dict[str, Any] = scores(test_y, [p.label for p in preds])
    out["train_seconds"] = round(fit_s, 2)
    return out


def main() -> int:
    d = data_dir()
    if not (d / "train_segmented_labeled.csv").is_file():
        print(f"triage_tipdm: skipped, the TipDM data is not at {d} (set JIESU_SHARED_DATA)")
        return 0
    sys.path.insert(0, str(ROOT))
    from jiesu.triage.classifier import TextClassifier
    from jiesu.triage.evaluation import cross_validate

    folds = int(os.environ.get("BENCH_FOLDS", "5"))
    train = read(d / "train_segmented_labeled.csv")
    sample = read(d / "sample_fulltext_labeled.csv")
    pool = [r["留言主题"] + " " + r["留言详情"] for r in read(d / "attachment2_eval2801_unlabeled.csv")]
    X = [r["分词文本"] for r in train]
    y = [r["一级标签"] for r in train]
    raw = [r["留言主题"] + " " + r["留言详情"] for r in sample]
    raw_y = [r["一级标签"] for r in sample]
    sample_ids = {r["留言编号"] for r in sample}
    unseen = [i for i, r in enumerate(train) if r["留言编号_若可匹配"] not in sample_ids]
    in_training = len(sample_ids & {r["留言编号_若可匹配"] for r in train})
    result: dict[str, Any] = {
        "data": str(d), "python": platform.python_version(), "machine": platform.machine(),
        "train_rows": len(X), "sample_rows": len(raw), "sample_messages_in_training": in_training,
        "training_rows_of_sample_messages": len(X) - len(unseen),
    }
    models = {"baseline": Baseline, "jiesu": TextClassifier}

    print(f"TipDM 2020 C: {len(X)} segmented training messages, {len(raw)} raw sample messages "
          f"({in_training} of them also in the training file, as {len(X) - len(unseen)} rows)")
    cv: dict[str, Any] = {}
    for name, factory in models.items():
        r = cross_validate(X, y, folds=folds, factory=factory)
        keep = ("macro_f1", "macro_f1_std", "accuracy", "macro_f1_folds", "train_seconds_per_fold",
                "predictions_per_second", "model_bytes")
        cv[name] = {k: r[k] for k in keep}
        if name == "jiesu":
            cv[name].update(per_class=r["per_class"], confusion=r["confusion"], calibration_ece=r["calibration"]["ece"],
                            auto_dispatch=r["auto_dispatch"])
        print(f"  {folds}-fold CV  {name:9s} macro-F1 {r['macro_f1']:.4f} ± {r['macro_f1_std']:.4f}  "
              f"accuracy {r['accuracy']:.4f}  ({r['train_seconds_per_fold']} s per fold)")
    result["cross_validation"] = cv

    for key, idx in (("sample_raw_text", list(range(len(X)))), ("sample_raw_text_unseen", unseen)):
        block: dict[str, Any] = {"train_rows": len(idx)}
        for name, factory in models.items():
            block[name] = fit_predict(factory, [X[i] for i in idx], [y[i] for i in idx], raw, raw_y)
            print(f"  {key:24s} {name:9s} macro-F1 {block[name]['macro_f1']:.4f}  "
                  f"accuracy {block[name]['accuracy']:.4f}  (trained on {len(idx)})")
        result[key] = block

    if os.environ.get("BENCH_SELF_TRAINING") == "1":
        st = fit_predict(TextClassifier, [X[i] for i in unseen], [y[i] for i in unseen], raw, raw_y, pool)
        result["sample_raw_text_unseen"]["jiesu_self_training"] = st
        print(f"  with self-training on {len(pool)} unlabelled: macro-F1 {st['macro_f1']:.4f}")

    # cost on one core
    started = time.perf_counter()
    model = TextClassifier().fit(X[:8000], y[:8000])
    train_s = time.perf_counter() - started
    texts = pool + raw
    model.predict(texts[:200])  # warm the caches as a running server would be
    started = time.perf_counter()
    model.predict(texts)
    per_s = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for t in texts[:1000]:
        model.predict(t)
    one_s = 1000 / (time.perf_counter() - started)
    short = [t.split(" ", 1)[0] + " " + t.split(" ", 1)[-1].strip()[:100] for t in texts[:1000]]
    started = time.perf_counter()
    for t in short:
        model.predict(t)
    short_s = len(short) / (time.perf_counter() - started)
    from jiesu.triage.evaluation import _model_bytes

    size = _model_bytes(model)
    mean_chars = sum(len(t) for t in texts) / len(texts)
    result["cost"] = {"train_8000_seconds": round(train_s, 2), "predict_batch_per_second": round(per_s),
                      "predict_one_by_one_per_second": round(one_s),
                      "predict_one_by_one_per_second_short": round(short_s),
                      "short_text_chars": round(sum(len(t) for t in short) / len(short)), "model_bytes": size,
                      "mean_text_chars": round(mean_chars)}
    print(f"  training on 8,000: {train_s:.1f} s; prediction {per_s:.0f}/s in batches, {one_s:.0f}/s one by one "
          f"(raw texts of {mean_chars:.0f} characters on average); {short_s:.0f}/s one by one on the subject and "
          f"first 100 characters; model file {size / 1e6:.1f} MB")

    ratios = {
        "cv_macro_f1": round(cv["jiesu"]["macro_f1"] / cv["baseline"]["macro_f1"], 4),
        "sample_macro_f1": round(result["sample_raw_text"]["jiesu"]["macro_f1"]
                                 / result["sample_raw_text"]["baseline"]["macro_f1"], 4),
        "sample_unseen_macro_f1": round(result["sample_raw_text_unseen"]["jiesu"]["macro_f1"]
                                        / result["sample_raw_text_unseen"]["baseline"]["macro_f1"], 4),
    }
    result["ratios_to_baseline"] = ratios
    print("  ratios to the baseline (macro-F1): " + ", ".join(f"{k} {v:.3f}×" for k, v in ratios.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
