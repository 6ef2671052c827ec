"""How good is a classifier: stratified k-fold or hold-out evaluation, as a JSON-ready dict.

Reported: macro-F1 (every class counts the same, the TipDM competition's metric) and accuracy,
per-class precision/recall/F1, the confusion matrix, training time, predictions per second, the
model file's size, calibration (expected calibration error: does confidence 0.9 mean right nine
times in ten?) and the auto-dispatch threshold: the lowest confidence at which the predictions
above it are right at least ``precision_target`` of the time, and the share of texts it covers.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from jiesu.triage.classifier import MODEL_FILE, TextClassifier

Factory = Callable[[], TextClassifier]


def metrics(y_true: Sequence[str], y_pred: Sequence[str], confidences: Sequence[float] | None = None,
            *, precision_target: float = 0.97) -> dict[str, Any]:
    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    labels = sorted(set(y_true) | (set(y_pred) - {""}))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out: dict[str, Any] = {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro",
                                         zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
                      "note": "rows: true label, columns: predicted"},
    }
    if confidences is not None:
        conf = np.asarray(confidences, dtype=float)
        right = np.asarray(y_true) == np.asarray(y_pred)
        out["calibration"] = calibration(right, conf)
        out["auto_dispatch"] = threshold_for_precision(right, conf, precision_target)
    return out


def calibration(right: np.ndarray, conf: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Expected calibration error over equal-width confidence bins, and the bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows, ece = [], 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        sel = (conf >= lo) & ((conf < hi) if i < bins - 1 else (conf <= hi))
        if not sel.any():
            continue
        acc, mean = float(right[sel].mean()), float(conf[sel].mean())
        ece += sel.mean() * abs(acc - mean)
        rows.append({"from": round(float(lo), 2), "to": round(float(hi), 2), "n": int(sel.sum()),
                     "confidence": round(mean, 4), "accuracy": round(acc, 4)})
    return {"ece": round(float(ece), 4), "bins": rows}


def threshold_for_precision(right: np.ndarray, conf: np.ndarray, target: float = 0.97) -> dict[str, Any]:
    """The lowest confidence threshold t such that predictions with confidence >= t are right at
    least ``target`` of the time, with the share of all texts at or above it."""
    if len(conf) == 0:
        return {"precision_target": target, "threshold": None, "coverage": 0.0, "precision": None}
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(right[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    # the largest prefix whose precision meets the target, cut where the confidence changes
    best = None
    for k in ok[::-1]:
        if k + 1 == len(order) or conf[order[k]] > conf[order[k + 1]]:
            best = int(k)
            break
    if best is None:
        return {"precision_target": target, "threshold": None, "coverage": 0.0, "precision": None}
    return {"precision_target": target, "threshold": round(float(conf[order[best]]), 4),
            "coverage": round((best + 1) / len(order), 4), "precision": round(float(precision[best]), 4)}


def _model_bytes(model: TextClassifier) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        return (Path(tmp) / MODEL_FILE).stat().st_size


def _timed_predict(model: TextClassifier, texts: Sequence[str]) -> tuple[list[str], list[float], float]:
    started = time.perf_counter()
    preds = model.predict(list(texts))
    seconds = time.perf_counter() - started
    return [p.label for p in preds], [p.confidence for p in preds], seconds


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5,
                   factory: Factory = TextClassifier, seed: int = 0, unlabelled: Sequence[str] = (),
                   precision_target: float = 0.97) -> dict[str, Any]:
    """Stratified k-fold: every text is predicted once by a model that never saw it.

    A label with fewer than ``folds`` texts cannot be in every fold: its texts are left out and
    named in ``left_out`` (label → texts), rather than cutting every label's folds down to the
    rarest one's count — a centre's history always has a few categories used two or three times,
    and they should not turn a 5-fold evaluation into a 2-fold one."""
    texts = list(texts)
    y = np.array([str(v) for v in labels], dtype=object)
    if len(texts) != len(y):
        raise ValueError(f"{len(texts)} texts but {len(y)} labels")
    if folds < 2:
        raise ValueError("need at least two folds")
    classes, counts = np.unique(y, return_counts=True)
    left_out = {str(c): int(n) for c, n in zip(classes, counts, strict=True) if n < folds}
    if left_out:
        keep = [i for i, label in enumerate(y) if label not in left_out]
        texts, y = [texts[i] for i in keep], y[keep]
    if len(classes) - len(left_out) < 2:
        raise ValueError(f"need at least two labels with {folds} texts or more each for {folds}-fold cross-validation")
    k = folds
    pred = np.empty(len(y), dtype=object)
    conf = np.zeros(len(y))
    fold_f1, fold_acc, train_s, predict_s = [], [], [], 0.0
    model = None
    for train, test in StratifiedKFold(k, shuffle=True, random_state=seed).split(texts, y):
        started = time.perf_counter()
        model = factory().fit([texts[i] for i in train], list(y[train]), unlabelled=unlabelled)
        train_s.append(time.perf_counter() - started)
        p, c, seconds = _timed_predict(model, [texts[i] for i in test])
        predict_s += seconds
        pred[test], conf[test] = p, c
        fold_f1.append(f1_score(list(y[test]), p, average="macro", zero_division=0))
        fold_acc.append(accuracy_score(list(y[test]), p))
    out: dict[str, Any] = {"mode": f"{k}-fold stratified cross-validation", "folds": k, "left_out": left_out}
    out.update(metrics(list(y), list(pred), list(conf), precision_target=precision_target))
    out.update({
        "macro_f1_folds": [round(float(v), 4) for v in fold_f1],
        "macro_f1_std": round(float(np.std(fold_f1)), 4),
        "accuracy_folds": [round(float(v), 4) for v in fold_acc],
        "train_seconds_per_fold": round(float(np.mean(train_s)), 2),
        "train_samples_per_fold": int(len(y) * (k - 1) / k),
        "predictions_per_second": round(len(y) / predict_s) if predict_s else None,
        "model_bytes": _model_bytes(model) if model is not None and hasattr(model, "save") else None,
    })
    return out


def holdout(train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str],
            test_labels: Sequence[str], *, factory: Factory = TextClassifier, unlabelled: Sequence[str] = (),
            precision_target: float = 0.97) -> dict[str, Any]:
    """Fit on one set, measure on another."""
    started = time.perf_counter()
    model = factory().fit(list(train_texts), list(train_labels), unlabelled=unlabelled)
    train_s = time.perf_counter() - started
    return evaluate_model(model, test_texts, test_labels, precision_target=precision_target,
                          extra={"mode": "hold-out", "train_samples": len(train_texts),
                                 "train_seconds": round(train_s, 2)})


def evaluate_model(model: TextClassifier, texts: Sequence[str], labels: Sequence[str], *,
                   precision_target: float = 0.97, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Measure an already fitted model on labelled texts."""
    p, c, seconds = _timed_predict(model, texts)
    out: dict[str, Any] = {"mode": "fixed model"}
    out.update(extra or {})
    out.update(metrics(list(labels), p, c, precision_target=precision_target))
    out["predictions_per_second"] = round(len(p) / seconds) if seconds else None
    out["model_bytes"] = _model_bytes(model)
    unknown = sorted(set(map(str, labels)) - set(model.classes))
    if unknown:
        out["labels_unknown_to_model"] = unknown
    return out
