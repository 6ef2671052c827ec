"""TipDM 2020 C, fifth round: Jiesu's SVM blended with models of other families — fastText
(supervised, word n-grams and character subwords) and a small word CNN in PyTorch — and with
the nearest-neighbour vote of round four; every blend weight is tuned without the test fold.

    JIESU_SHARED_DATA=../shared/data .venv/bin/python -m bench.triage_tipdm_blend

Needs ``fasttext-wheel`` (PyPI) and, for a network (``BENCH_NN=bag`` or ``BENCH_NN=cnn``),
``torch`` (CPU build); neither is a dependency of Jiesu, so install them into the venv by hand
(without fastText it says so and exits 0). Same data and the same 5
stratified folds as ``bench/triage_tipdm.py`` (``StratifiedKFold(5, shuffle=True,
random_state=0)`` on ``train_segmented_labeled.csv``). In each fold every component is trained
on the training folds and, for the weights, also on an inner 3-fold split of the training folds
(out-of-fold scores); the blend weights are those with the best macro-F1 on the inner
out-of-fold scores, then applied once to the test fold. Components:

- ``svm``: ``TextClassifier``'s features and SVM (C 0.5, class-balanced), probabilities by its
  temperature scaling (T fitted on the inner out-of-fold scores, as the product does);
- ``ft``: fastText supervised on the product's tokens (lower-cased, capped), word 1–2-grams,
  character 1–2-gram subwords, dim 50, 25 epochs, lr 0.5, 200,000 hash buckets; one thread;
- ``nn``: with ``BENCH_NN=bag``, fastText's architecture given what the SVM has and fastText
  lacks (hashed embeddings, dim 32, of words, word pairs, character 1–3-grams inside words and the
  subject's words, averaged; a linear layer; class-weighted cross-entropy; 3 epochs of sparse
  Adam); with ``BENCH_NN=cnn``, a word CNN trained from scratch (embedding 64, 96 filters each of
  widths 1–3, max-pooling, class-weighted cross-entropy, Adam, 5 epochs); one thread;
- ``knn``: round four's vote, the share of the k most similar training messages per class
  (cosine on the SVM's TF-IDF features, each weighted by similarity^p).

Blends (all nested): ``svm+ft`` = (1-w) P_svm + w P_ft (w in steps of 0.05); ``svm+knn`` = SVM
scores + w × vote (round four); ``svm+ft+knn`` and, with a network, ``svm+nn``, ``svm+ft+nn`` and
the same with ``+knn``: a weighted average of the probabilities plus v × vote. ``svm+ft_oracle``
(the svm+ft weight picked on the test fold) is an optimistic ceiling, for reference only. Results go to ``bench/results/triage_tipdm_blend.json``;
``BENCH_ONLY_FOLDS=0,1`` screens on two folds. Without the data it says so and exits 0.
Cost: 3.5–4.5 minutes per fold with fastText alone, about 10 with ``BENCH_NN=bag``, on one core
of the shared 2-core machine (load average 4–6).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core
    os.environ.setdefault(_var, "1")

import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from bench.triage_tipdm import ROOT, data_dir, read  # noqa: E402
from bench.triage_tipdm_knn import knn_votes, macro_f1  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "triage_tipdm_blend.json"
FT_PARAMS: dict[str, Any] = {"epoch": 25, "lr": 0.5, "wordNgrams": 2, "minn": 1, "maxn": 2,
                             "dim": 50, "bucket": 200_000}
KNN_GRID = [(k, p) for k in (10, 20, 30) for p in (1, 3)]
STEPS = np.round(np.arange(0.0, 1.0001, 0.05), 2)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def temperature(scores: np.ndarray, y: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y))

    def loss(log_t: float) -> float:
        p = softmax(scores / np.exp(log_t))
        return float(-np.log(p[rows, y].clip(1e-12)).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-6.0, 3.0), method="bounded").x))


# --- fastText


class FastText:
    def __init__(self, n_classes: int, params: dict[str, Any] | None = None) -> None:
        self.n = n_classes
        self.params = {**FT_PARAMS, **(params or {})}
        self.model: Any = None

    def fit(self, docs: list[list[str]], y: np.ndarray) -> FastText:
        import fasttext

        order = np.random.RandomState(0).permutation(len(docs))  # fastText reads the file in order
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            for i in order:
                f.write(f"__label__{y[i]} {' '.join(docs[i])}\n")
        try:
            self.model = fasttext.train_supervised(f.name, thread=1, verbose=0, seed=0, **self.params)
        finally:
            Path(f.name).unlink()
        return self

    def proba(self, docs: list[list[str]]) -> np.ndarray:
        out = np.zeros((len(docs), self.n))
        for r, d in enumerate(docs):
            # model.f.predict: the wrapper's predict() fails under numpy 2 (np.array(copy=False)).
            for p, lab in self.model.f.predict(" ".join(d) + "\n", -1, 0.0, "strict"):
                out[r, int(lab[len("__label__"):])] = p
        return out


# --- a word CNN in PyTorch


class WordCNN:
    MAX_LEN = 256

    def __init__(self, n_classes: int, epochs: int = 5, dim: int = 64, filters: int = 96) -> None:
        self.n, self.epochs, self.dim, self.filters = n_classes, epochs, dim, filters
        self.vocab: dict[str, int] = {}
        self.net: Any = None

    def _ids(self, docs: list[list[str]]) -> Any:
        import torch

        m = np.zeros((len(docs), self.MAX_LEN), dtype=np.int64)  # 0 = padding, 1 = unknown
        for r, d in enumerate(docs):
            ids = [self.vocab.get(t, 1) for t in d[: self.MAX_LEN]]
            m[r, : len(ids)] = ids
        return torch.from_numpy(m)

    def fit(self, docs: list[list[str]], y: np.ndarray) -> WordCNN:
        import torch
        from torch import nn

        torch.set_num_threads(1)
        torch.manual_seed(0)
        counts: dict[str, int] = {}
        for d in docs:
            for t in set(d):
                counts[t] = counts.get(t, 0) + 1
        self.vocab = {t: i + 2 for i, t in enumerate(sorted(t for t, c in counts.items() if c >= 2))}
        dim, filters, n = self.dim, self.filters, self.n

        class Net(nn.Module):
            def __init__(self, vocab: int) -> None:
                super().__init__()
                self.emb = nn.Embedding(vocab, dim, padding_idx=0)
                self.convs = nn.ModuleList(nn.Conv1d(dim, filters, k, padding=k // 2) for k in (1, 2, 3))
                self.drop = nn.Dropout(0.5)
                self.out = nn.Linear(3 * filters, n)

            def forward(self, x: Any) -> Any:
                mask = (x > 0).unsqueeze(1)
                e = self.emb(x).transpose(1, 2)
                pooled = []
                for conv in self.convs:
                    h = torch.relu(conv(e))[:, :, : x.shape[1]]
                    pooled.append(h.masked_fill(~mask, 0.0).max(dim=2).values)
                return self.out(self.drop(torch.cat(pooled, dim=1)))

        self.net = Net(len(self.vocab) + 2)
        X, Y = self._ids(docs), torch.from_numpy(y.astype(np.int64))
        freq = np.bincount(y, minlength=n).astype(np.float32)
        loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(freq.sum() / (n * freq.clip(1))))
        opt = torch.optim.Adam(self.net.parameters(), lr=2e-3)
        gen = torch.Generator().manual_seed(0)
        self.net.train()
        for _ in range(self.epochs):
            for batch in torch.randperm(len(docs), generator=gen).split(64):
                xb = X[batch]
                xb = xb[:, : max(1, int((xb > 0).sum(dim=1).max()))]  # trim padding of the batch
                opt.zero_grad()
                loss_fn(self.net(xb), Y[batch]).backward()
                opt.step()
        return self

    def proba(self, docs: list[list[str]]) -> np.ndarray:
        import torch

        self.net.eval()
        X = self._ids(docs)
        out = []
        with torch.no_grad():
            for batch in torch.arange(len(docs)).split(256):
                xb = X[batch]
                xb = xb[:, : max(1, int((xb > 0).sum(dim=1).max()))]
                out.append(torch.softmax(self.net(xb), dim=1).numpy())
        return np.vstack(out).astype(np.float64)


_BAG_CACHE: dict[int, Any] = {}  # id of a token list (the run's lists live all along) -> tensor


class BagNN:
    """fastText's architecture with what the SVM has and fastText lacks: the mean of hashed
    embeddings of the words, word pairs, character 1–3-grams inside words and the subject's
    words (first 12, marked), then a linear layer; class-weighted cross-entropy; sparse Adam."""

    BUCKETS = 1 << 18

    def __init__(self, n_classes: int, epochs: int = 3, dim: int = 32, head: int = 12) -> None:
        self.n, self.epochs, self.dim, self.head = n_classes, epochs, dim, head
        self.net: Any = None

    def _features(self, doc: list[str]) -> list[int]:
        import zlib

        feats = [f"w{t}" for t in doc] + [f"b{a} {b}" for a, b in itertools.pairwise(doc)]
        for t in doc:
            feats += [f"c{t[i:i + k]}" for k in (1, 2, 3) for i in range(len(t) - k + 1)]
        feats += [f"h{t}" for t in doc[: self.head]]
        return [zlib.crc32(f.encode()) % self.BUCKETS + 1 for f in feats] or [0]

    def _cached(self, doc: list[str]) -> Any:
        """Training documents' hashed features, kept across the fits of a run (the inner folds
        re-use them); predictions always hash afresh, so their timing is honest."""
        import torch

        key = id(doc)
        if key not in _BAG_CACHE:
            _BAG_CACHE[key] = torch.tensor(self._features(doc))
        return _BAG_CACHE[key]

    def _bags(self, docs: list[list[str]]) -> tuple[Any, Any]:
        import torch

        ids = [self._features(d) for d in docs]
        offsets = np.cumsum([0] + [len(i) for i in ids[:-1]])
        return torch.tensor(list(itertools.chain.from_iterable(ids))), torch.tensor(offsets)

    def fit(self, docs: list[list[str]], y: np.ndarray) -> BagNN:
        import torch
        from torch import nn

        torch.set_num_threads(1)
        torch.manual_seed(0)
        feats = [self._cached(d) for d in docs]
        self.emb = nn.EmbeddingBag(self.BUCKETS + 1, self.dim, mode="mean", sparse=True, padding_idx=0)
        self.lin = nn.Linear(self.dim, self.n)
        freq = np.bincount(y, minlength=self.n).astype(np.float32)
        loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(freq.sum() / (self.n * freq.clip(1))))
        opts = [torch.optim.SparseAdam(list(self.emb.parameters()), lr=0.01),
                torch.optim.Adam(self.lin.parameters(), lr=0.01)]
        Y = torch.from_numpy(y.astype(np.int64))
        gen = torch.Generator().manual_seed(0)
        for _ in range(self.epochs):
            for batch in torch.randperm(len(docs), generator=gen).split(32):
                parts = [feats[i] for i in batch.tolist()]
                offsets = torch.tensor(np.cumsum([0] + [len(p) for p in parts[:-1]]))
                for o in opts:
                    o.zero_grad()
                loss_fn(self.lin(self.emb(torch.cat(parts), offsets)), Y[batch]).backward()
                for o in opts:
                    o.step()
        return self

    def proba(self, docs: list[list[str]]) -> np.ndarray:
        import torch

        with torch.no_grad():
            flat, offsets = self._bags(docs)
            return torch.softmax(self.lin(self.emb(flat, offsets)), dim=1).numpy().astype(np.float64)


# --- blending


def best_weights(y: np.ndarray, probs: list[np.ndarray], votes: np.ndarray | None) -> tuple[tuple[float, ...], float]:
    """Weights (summing to 1) for ``probs`` and a vote weight, the best macro-F1 on ``y``."""
    best: tuple[float, tuple[float, ...]] | None = None
    vote_steps = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4) if votes is not None else (0.0,)
    for ws in itertools.product(STEPS, repeat=len(probs) - 1):
        if sum(ws) > 1.0 + 1e-9:
            continue
        weights = (round(1.0 - sum(ws), 2), *ws)
        mix = np.sum([w * p for w, p in zip(weights, probs, strict=True)], axis=0)
        for v in vote_steps:
            f = macro_f1(y, mix + v * votes if votes is not None else mix)
            if best is None or f > best[0] + 1e-9:
                best = (f, (*weights, v))
    assert best is not None
    return best[1], best[0]


def run_fold(docs: list[list[str]], y_all: np.ndarray, train: np.ndarray, test: np.ndarray,
             use_nn: str) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import normalize

    from jiesu.triage.classifier import TextClassifier

    started = time.perf_counter()
    tr_docs, te_docs = [docs[i] for i in train], [docs[i] for i in test]
    y, y_te = y_all[train], y_all[test]
    n = int(y_all.max()) + 1
    inner = list(StratifiedKFold(3, shuffle=True, random_state=0).split(tr_docs, y))
    out: dict[str, Any] = {"seconds": {}}

    # SVM: scores on the test fold and inner out-of-fold scores; temperature from the latter.
    t0 = time.perf_counter()
    clf = TextClassifier()
    clf._build_blocks(len(tr_docs))
    Xtr, Xte = clf._matrix(tr_docs, fit=True), clf._matrix(te_docs)
    s_te = clf._svm().fit(Xtr, y).decision_function(Xte)
    out["seconds"]["svm_train"] = round(time.perf_counter() - t0, 1)
    s_oof = np.zeros((len(y), n))
    for i_tr, i_te in inner:
        s_oof[i_te] = clf._svm().fit(Xtr[i_tr], y[i_tr]).decision_function(Xtr[i_te])
    T = temperature(s_oof, y)
    comp_te: dict[str, np.ndarray] = {"svm": softmax(s_te / T)}
    comp_oof: dict[str, np.ndarray] = {"svm": softmax(s_oof / T)}

    # Other families, same protocol.
    models: dict[str, Any] = {"ft": lambda: FastText(n)}
    if use_nn:
        models["nn"] = (lambda: WordCNN(n)) if use_nn == "cnn" else (lambda: BagNN(n))
    for name, make in models.items():
        t0 = time.perf_counter()
        m = make().fit(tr_docs, y)
        out["seconds"][f"{name}_train"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        comp_te[name] = m.proba(te_docs)
        out["seconds"][f"{name}_predict_per_s"] = round(len(te_docs) / (time.perf_counter() - t0))
        oof = np.zeros((len(y), n))
        for i_tr, i_te in inner:
            oof[i_te] = make().fit([tr_docs[i] for i in i_tr], y[i_tr]).proba([tr_docs[i] for i in i_te])
        comp_oof[name] = oof

    # Nearest-neighbour vote: (k, p) and its weight chosen inside, as in round four.
    nt, ne = normalize(Xtr), normalize(Xte)
    sim_tr, sim_te = (nt @ nt.T).toarray(), (ne @ nt.T).toarray()

    def inner_votes(k: int, p: float) -> np.ndarray:
        v = np.zeros((len(y), n))
        for i_tr, i_te in inner:
            v[i_te] = knn_votes(sim_tr[np.ix_(i_te, i_tr)], y[i_tr], n, k, p)
        return v

    oof_votes = {kp: inner_votes(*kp) for kp in KNN_GRID}

    for name, p in comp_te.items():
        out[name] = macro_f1(y_te, p)
    # svm+knn exactly as round four: raw SVM scores + w × vote.
    best = max(((macro_f1(y, s_oof + w * oof_votes[kp]), kp, w) for kp in KNN_GRID
                for w in (0.25, 0.5, 0.75, 1.0)), key=lambda t: t[0])
    out["svm+knn"] = macro_f1(y_te, s_te + best[2] * knn_votes(sim_te, y, n, *best[1]))
    out["svm+knn_chosen"] = {"k": best[1][0], "p": best[1][1], "w": best[2]}

    names = list(comp_te)
    blends = [["svm", "ft"]] + ([["svm", "nn"], ["svm", "ft", "nn"]] if use_nn else [])
    for members in blends + [[*b, "knn"] for b in blends]:
        probs = [m for m in members if m != "knn"]
        if "knn" in members:
            fits = [(best_weights(y, [comp_oof[m] for m in probs], oof_votes[kp]), kp) for kp in KNN_GRID]
            (weights, _f), kp = max(fits, key=lambda t: t[0][1])
            votes_te: np.ndarray | None = knn_votes(sim_te, y, n, *kp)
        else:
            (weights, _f), kp, votes_te = best_weights(y, [comp_oof[m] for m in probs], None), None, None
        mix: np.ndarray = np.sum([w * comp_te[m] for w, m in zip(weights, probs, strict=False)], axis=0)
        if votes_te is not None:
            mix = mix + weights[-1] * votes_te
        key = "+".join(members)
        out[key] = macro_f1(y_te, mix)
        out[f"{key}_chosen"] = {"weights": dict(zip([*probs, "vote"], weights, strict=True)), "knn": kp}
    # For reference only (optimistic): the svm+ft weight picked on the test fold itself.
    out["svm+ft_oracle"] = max(macro_f1(y_te, (1 - w) * comp_te["svm"] + w * comp_te["ft"]) for w in STEPS)
    out["components"] = names
    out["seconds"]["fold"] = round(time.perf_counter() - started, 1)
    return out


def main() -> int:
    d = data_dir()
    if not (d / "train_segmented_labeled.csv").is_file():
        print(f"triage_tipdm_blend: skipped, the TipDM data is not at {d} (set JIESU_SHARED_DATA)")
        return 0
    try:
        import fasttext  # noqa: F401
    except ImportError:
        print("triage_tipdm_blend: skipped, fastText is not installed (pip install fasttext-wheel)")
        return 0
    use_nn = os.environ.get("BENCH_NN", "")  # "bag" or "cnn": add that network
    from sklearn.model_selection import StratifiedKFold

    from jiesu.triage.classifier import TextClassifier

    rows = read(d / "train_segmented_labeled.csv")
    texts = [r["分词文本"] for r in rows]
    labels = [r["一级标签"] for r in rows]
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    docs = TextClassifier()._tokens(texts)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels))
    only = os.environ.get("BENCH_ONLY_FOLDS")
    chosen = [int(k) for k in only.split(",")] if only else range(len(folds))
    per_fold: dict[int, dict[str, Any]] = {}
    for k in chosen:
        train, test = folds[k]
        per_fold[k] = r = run_fold(docs, y, train, test, use_nn)
        print(f"  fold {k}: " + ", ".join(f"{n} {v:.4f}" for n, v in r.items() if isinstance(v, float))
              + f" {r['seconds']}", flush=True)
    keys = [n for n, v in next(iter(per_fold.values())).items() if isinstance(v, float)]
    summary = {n: {"mean": round(float(np.mean([f[n] for f in per_fold.values()])), 4),
                   "sd": round(float(np.std([f[n] for f in per_fold.values()], ddof=1)), 4) if len(per_fold) > 1 else 0.0}
               for n in keys}
    print(f"  over folds {list(per_fold)}: " + ", ".join(f"{n} {s['mean']:.4f} ± {s['sd']:.4f}" for n, s in summary.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"folds": per_fold, "summary": summary, "ft_params": FT_PARAMS, "nn": use_nn},
                                  ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
