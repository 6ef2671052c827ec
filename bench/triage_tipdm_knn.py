"""TipDM 2020 C, fourth round: what a nearest-neighbour vote, per-class biases and two small
feature blocks add to Jiesu's classifier, each tuned without looking at the test fold.

    .venv/bin/python -m bench.triage_tipdm_knn

Same data and the same 5 stratified folds as ``bench/triage_tipdm.py`` (``train_segmented_labeled.csv``,
``StratifiedKFold(5, shuffle=True, random_state=0)``); the SVM is ``TextClassifier``'s (linear, C 0.5,
class-balanced; its argmax, which temperature scaling does not change). Variants, each a 5-fold
macro-F1:

- ``defaults``: the product as it is;
- ``bias``: a per-class offset added to the SVM scores, found by coordinate ascent on macro-F1
  over out-of-fold scores of the training folds (inner 3-fold);
- ``knn``: the SVM scores plus ``w`` × the share of the ``k`` nearest training texts (cosine on
  the same TF-IDF features) in each class, each neighbour weighted by similarity^``p``; ``k``, ``p``,
  ``w`` chosen on the inner out-of-fold scores;
- ``blocks``: two feature blocks appended at weight 0.5: for each of the 15 level-1 classes of the
  official taxonomy (附件1), log(1 + how many of its level-2/3 names the text contains); and
  character 2-grams over the text with the word boundaries removed;
- ``blocks+knn``: both.

Results go to ``bench/results/triage_tipdm_knn.json``. Without the data it says so and exits 0.
Cost: 2.5–5 minutes per fold on one core of the shared 2-core machine (load average 3–9).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from bench.triage_tipdm import ROOT, data_dir, read  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "triage_tipdm_knn.json"
KNN_GRID = [(k, p, w) for k in (5, 10, 20, 30) for p in (1, 2, 3) for w in (0.25, 0.5, 0.75, 1.0)]
BIAS_GRID = np.arange(-0.6, 0.61, 0.02)


def macro_f1(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, scores.argmax(axis=1), average="macro"))


def knn_votes(sim: np.ndarray, labels: np.ndarray, n_classes: int, k: int, p: float) -> np.ndarray:
    """Share of the similarity^p of the ``k`` nearest neighbours (columns of ``sim``) per class."""
    idx = np.argpartition(-sim, k, axis=1)[:, :k]
    weight = np.take_along_axis(sim, idx, axis=1) ** p
    votes = np.zeros((sim.shape[0], n_classes))
    rows = np.arange(sim.shape[0])
    for j in range(k):
        np.add.at(votes, (rows, labels[idx[:, j]]), weight[:, j])
    return votes / votes.sum(axis=1, keepdims=True).clip(1e-9)


def tune_bias(scores: np.ndarray, y: np.ndarray, passes: int = 3) -> np.ndarray:
    bias = np.zeros(scores.shape[1])
    best = macro_f1(y, scores)
    for _ in range(passes):
        improved = False
        for c in range(len(bias)):
            for g in BIAS_GRID:
                trial = bias.copy()
                trial[c] = g
                f = macro_f1(y, scores + trial)
                if f > best + 1e-9:
                    best, bias, improved = f, trial, True
        if not improved:
            break
    return bias


class ExtraBlocks:
    """The taxonomy-name counts and the cross-boundary character 2-grams (see the docstring)."""

    def __init__(self, taxonomy: list[dict[str, str]]) -> None:
        from jiesu.triage.features import CHAR, Block

        self.level1 = sorted({r["一级分类"] for r in taxonomy})
        self.names: dict[str, set[int]] = {}
        for r in taxonomy:
            for name in (r["二级分类"], r["三级分类"]):
                if len(name) >= 2:
                    self.names.setdefault(name, set()).add(self.level1.index(r["一级分类"]))
        self.chars = Block(CHAR, (2, 2), 2)

    def _taxonomy(self, joined: list[str]) -> sp.csr_matrix:
        from sklearn.preprocessing import normalize

        m = np.zeros((len(joined), len(self.level1)), dtype=np.float32)
        for i, text in enumerate(joined):
            for name, classes in self.names.items():
                if name in text:
                    for c in classes:
                        m[i, c] += 1
        return sp.csr_matrix(normalize(np.log1p(m)))

    def matrix(self, docs: list[list[str]], fit: bool = False) -> sp.csr_matrix:
        joined = ["".join(d) for d in docs]
        chars = self.chars.fit_transform([[j] for j in joined]) if fit else self.chars.transform([[j] for j in joined])
        return sp.hstack([self._taxonomy(joined) * 0.5, chars * 0.5], format="csr", dtype=np.float32)


def run_fold(docs, y, train, test, taxonomy) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import normalize

    from jiesu.triage.classifier import TextClassifier

    started = time.perf_counter()
    clf = TextClassifier()
    tr_docs, te_docs = [docs[i] for i in train], [docs[i] for i in test]
    clf._build_blocks(len(tr_docs))
    base_tr, base_te = clf._matrix(tr_docs, fit=True), clf._matrix(te_docs)
    extra = ExtraBlocks(taxonomy)
    ext_tr = sp.hstack([base_tr, extra.matrix(tr_docs, fit=True)], format="csr")
    ext_te = sp.hstack([base_te, extra.matrix(te_docs)], format="csr")
    classes = sorted(set(y[train]))
    y_tr = np.array([classes.index(v) for v in y[train]])
    y_te = np.array([classes.index(v) for v in y[test]])
    n = len(classes)
    inner = list(StratifiedKFold(3, shuffle=True, random_state=0).split(base_tr, y_tr))
    # Similarities on the product's own features, for both feature sets: the neighbours are the same
    # messages either way, and one Gram matrix is enough.
    nt, ne = normalize(base_tr), normalize(base_te)
    sim_tr, sim_te = (nt @ nt.T).toarray(), (ne @ nt.T).toarray()
    out: dict[str, Any] = {}
    for name, (a, b) in {"defaults": (base_tr, base_te), "blocks": (ext_tr, ext_te)}.items():
        scores = clf._svm().fit(a, y_tr).decision_function(b)
        oof = np.zeros((len(y_tr), n))
        for i_tr, i_te in inner:
            oof[i_te] = clf._svm().fit(a[i_tr], y_tr[i_tr]).decision_function(a[i_te])
        out[name] = macro_f1(y_te, scores)
        if name == "defaults":
            out["bias"] = macro_f1(y_te, scores + tune_bias(oof, y_tr))
        best: tuple[float, int, float, float] | None = None
        for k, p, w in KNN_GRID:
            votes = np.zeros((len(y_tr), n))
            for i_tr, i_te in inner:
                votes[i_te] = knn_votes(sim_tr[np.ix_(i_te, i_tr)], y_tr[i_tr], n, k, p)
            f = macro_f1(y_tr, oof + w * votes)
            if best is None or f > best[0]:
                best = (f, k, p, w)
        assert best is not None
        _f, k, p, w = best
        key = "knn" if name == "defaults" else "blocks+knn"
        out[key] = macro_f1(y_te, scores + w * knn_votes(sim_te, y_tr, n, k, p))
        out[f"{key}_chosen"] = {"k": k, "p": p, "w": w}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> int:
    d = data_dir()
    if not (d / "train_segmented_labeled.csv").is_file():
        print(f"triage_tipdm_knn: skipped, the TipDM data is not at {d} (set JIESU_SHARED_DATA)")
        return 0
    sys.path.insert(0, str(ROOT))
    from sklearn.model_selection import StratifiedKFold

    from jiesu.triage.classifier import TextClassifier

    train = read(d / "train_segmented_labeled.csv")
    taxonomy = read(d / "attachment1_label_taxonomy.csv")
    texts = [r["分词文本"] for r in train]
    y = np.array([r["一级标签"] for r in train], dtype=object)
    docs = TextClassifier()._tokens(texts)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y))
    only = os.environ.get("BENCH_ONLY_FOLDS")  # e.g. "0,1" to screen on two folds
    chosen = [int(k) for k in only.split(",")] if only else range(len(folds))
    per_fold = {}
    for k in chosen:
        per_fold[k] = run_fold(docs, y, *folds[k], taxonomy)
        print(f"  fold {k}: " + ", ".join(f"{n} {v:.4f}" for n, v in per_fold[k].items() if n != "seconds" and isinstance(v, float))
              + f" ({per_fold[k]['seconds']} s)", flush=True)
    variants = ["defaults", "bias", "knn", "blocks", "blocks+knn"]
    means = {v: round(float(np.mean([f[v] for f in per_fold.values()])), 4) for v in variants}
    print(f"  mean over folds {list(per_fold)}: " + ", ".join(f"{v} {m:.4f}" for v, m in means.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"folds": per_fold, "mean": means}, ensure_ascii=False, indent=2,
                                  default=float), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
