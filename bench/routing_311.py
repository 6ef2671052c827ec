"""311 routing on real data: which agency gets the request, learnt from the request's own words.

    .venv/bin/python -m bench.routing_311

- NYC 311 (``nyc311_2023-02-28_halfday``: every request of half a day, and
  ``nyc311_multi_year_sample``, 2014–2019): complaint type + descriptor → ``Agency``; and the
  harder descriptor alone → ``Agency``. 5-fold stratified cross-validation on the half day, and
  train on the half day → test on the older sample (other years, other templates).
- LA MyLA311 (``la311_myla311_slices``): request type → ``Owner`` (the schema has no free text).
  5-fold CV on the 2017-12 + 2018-01 window, and train on it → test on 2018-12 and on 2020-01.

Each is measured for Jiesu's classifier (``jiesu.triage.classifier.TextClassifier``, the one
``jiesu train`` fits; the same figures ``jiesu evaluate`` prints) and for a baseline in the same
run: a lookup table of the training rows (the most frequent agency for the exact text, else the
most frequent agency overall) — what a routing catalogue built from the history would do.
Agencies with fewer than 5 rows are left out of the cross-validation (counted in the output).
``BENCH_311_NO_NYC_CV=1`` skips the NYC cross-validation (the slow part).
Results: ``bench/results/routing_311.json``. Without the data (``../shared/data`` next to the
repository, or ``JIESU_SHARED_DATA``) it says so and exits 0.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core
    os.environ.setdefault(_var, "1")

import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "routing_311.json"
MIN_ROWS = 5


def data_dir() -> Path:
    base = os.environ.get("JIESU_SHARED_DATA")
    return Path(base) if base else Path(__file__).resolve().parents[2] / "shared" / "data"


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]


class Lookup:
    """The baseline: the most frequent label of the exact (case-folded) text in training."""

    def fit(self, texts, labels, unlabelled=()):
        by_text: dict[str, Counter] = defaultdict(Counter)
        for t, lab in zip(texts, labels, strict=True):
            by_text[t.casefold()][lab] += 1
        self.table = {t: c.most_common(1)[0][0] for t, c in by_text.items()}
        self.default = Counter(labels).most_common(1)[0][0]
        return self

    def predict(self, texts):
        from jiesu.triage.classifier import Prediction

        texts = [texts] if isinstance(texts, str) else texts
        return [Prediction(label=self.table.get(t.casefold(), self.default), confidence=1.0) for t in texts]


def _frequent(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], int]:
    counts = Counter(labels)
    keep = [i for i, lab in enumerate(labels) if counts[lab] >= MIN_ROWS]
    return [texts[i] for i in keep], [labels[i] for i in keep], len(labels) - len(keep)


def _cv(name: str, texts: list[str], labels: list[str]) -> dict[str, Any]:
    from jiesu.triage.classifier import TextClassifier
    from jiesu.triage.evaluation import cross_validate

    texts, labels, dropped = _frequent(texts, labels)
    out: dict[str, Any] = {"rows": len(texts), "rows_left_out": dropped, "classes": len(set(labels))}
    for model, factory in (("lookup", Lookup), ("jiesu", TextClassifier)):
        r = cross_validate(texts, labels, folds=5, factory=factory)
        out[model] = {k: r.get(k) for k in ("macro_f1", "macro_f1_std", "accuracy", "train_seconds_per_fold",
                                            "predictions_per_second", "model_bytes")}
        if model == "jiesu":
            out[model]["auto_dispatch"] = r["auto_dispatch"]
            out[model]["calibration_ece"] = r["calibration"]["ece"]
            worst = sorted(r["per_class"].items(), key=lambda kv: kv[1]["f1"])[:3]
            out[model]["weakest_classes"] = {k: v for k, v in worst}
        print(f"  {name:44s} {model:7s} macro-F1 {r['macro_f1']:.4f}  accuracy {r['accuracy']:.4f}  "
              f"({len(texts):,} rows, {out['classes']} agencies, {dropped} rows of rare agencies left out)",
              flush=True)
    return out


def _holdout(name: str, train: tuple[list[str], list[str]], test: tuple[list[str], list[str]]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    from jiesu.triage.classifier import TextClassifier

    out: dict[str, Any] = {"train_rows": len(train[0]), "test_rows": len(test[0]),
                           "test_labels_unseen_in_training": sum(1 for y in test[1] if y not in set(train[1]))}
    for model, factory in (("lookup", Lookup), ("jiesu", TextClassifier)):
        started = time.perf_counter()
        fitted = factory().fit(*train)
        predicted = [p.label for p in fitted.predict(test[0])]
        r = {"macro_f1": round(float(f1_score(test[1], predicted, average="macro", zero_division=0)), 4),
             "accuracy": round(float(accuracy_score(test[1], predicted)), 4)}
        out[model] = {**r, "seconds": round(time.perf_counter() - started, 2)}
        print(f"  {name:44s} {model:7s} macro-F1 {r['macro_f1']:.4f}  accuracy {r['accuracy']:.4f}  "
              f"(train {len(train[0]):,}, test {len(test[0]):,})", flush=True)
    return out


def nyc(d: Path) -> dict[str, Any] | None:
    half = d / "nyc311_2023-02-28_halfday" / "nyc311_2023-02-28_1131-2345.csv"
    old = d / "nyc311_multi_year_sample" / "nyc311_sample_2014-2019.csv"
    if not half.is_file():
        return None
    rows = [r for r in read(half) if r.get("agency")]
    both = [f"{r['complaint type']} | {r['descriptor']}" for r in rows]
    desc = [r["descriptor"] or r["complaint type"] for r in rows]
    agency = [r["agency"] for r in rows]
    print(f"NYC 311: {len(rows):,} requests of 2023-02-28, {len(set(agency))} agencies")
    out: dict[str, Any] = {}
    if not os.environ.get("BENCH_311_NO_NYC_CV"):  # the slow part: skip it to run the rest again
        out["cv_type_and_descriptor"] = _cv("NYC CV, complaint type + descriptor", both, agency)
        out["cv_descriptor_only"] = _cv("NYC CV, descriptor only", desc, agency)
    if old.is_file():
        older = [r for r in read(old) if r.get("agency")]
        out["holdout_2014_2019"] = _holdout(
            "NYC 2023 → 2014–2019, type + descriptor", (both, agency),
            ([f"{r['complaint type']} | {r['descriptor']}" for r in older], [r["agency"] for r in older]))
    return out


def la(d: Path) -> dict[str, Any] | None:
    base = d / "la311_myla311_slices"
    files = sorted(base.glob("la311_*.csv")) if base.is_dir() else []
    if len(files) < 2:
        return None
    slices = {f.stem.removeprefix("la311_"): [r for r in read(f) if r.get("owner") and r.get("requesttype")]
              for f in files}
    window = [r for k in ("2017-12-27_to_2017-12-31", "2018-01-01_to_2018-01-04") for r in slices.get(k, [])]
    text = [r["requesttype"] for r in window]
    owner = [r["owner"] for r in window]
    print(f"LA MyLA311: {len(window):,} requests of 2017-12-27 … 2018-01-04, {len(set(owner))} owners")
    out: dict[str, Any] = {"cv_request_type": _cv("LA CV, request type", text, owner)}
    for key in ("2018-12-27_to_2018-12-31", "2020-01-01_to_2020-01-03"):
        test = slices.get(key)
        if test:
            out[f"holdout_{key}"] = _holdout(f"LA 2017/18 → {key[:7]}", (text, owner),
                                             ([r["requesttype"] for r in test], [r["owner"] for r in test]))
    return out


def main() -> int:
    d = data_dir()
    sys.path.insert(0, str(ROOT))
    result: dict[str, Any] = {}
    for name, fn in (("nyc", nyc), ("la", la)):
        r = fn(d)
        if r is None:
            print(f"routing_311: {name} skipped, its data is not under {d} (set JIESU_SHARED_DATA)")
        else:
            result[name] = r
    if result:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
