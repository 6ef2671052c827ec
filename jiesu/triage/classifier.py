"""A text classifier for triage (category, request type, anything with labels), learnt from the
centre's own orders or from any labelled file.

Features: TF-IDF over words (1–2-grams) and over characters inside words (1–3-grams, so that an
unseen compound such as 噪音扰民 still shares 噪音/扰民 with what was learnt), plus the same over
the first few words, because a message's opening (its subject line) says what it is about more
reliably than the story that follows. Sub-linear term frequency, length-normalised blocks.

Model: a linear SVM (one-vs-rest), calibrated by temperature scaling of its scores on held-out
folds, so that ``confidence`` is a probability: among predictions made at 0.9, about nine in ten
are right, which is what an auto-dispatch threshold needs. Optionally self-trained on an
unlabelled pool (confident pseudo-labels are added and the model refitted).

Input may be raw text or text already segmented into space-separated words (like the TipDM
training file): both go through ``text.segment``, which leaves segmented text nearly as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from jiesu.triage.features import CHAR, WORD, Block
from jiesu.triage.text import segment

# scikit-learn, scipy and joblib are imported where they are used, not here: a web worker
# imports this module to answer requests and only ever predicts one text at a time, which
# takes numpy alone. scikit-learn (with scipy.optimize, narwhals, rich …) is about 90 MB of
# a worker's memory for something only training needs (docs/benchmarks.md, session 7).
if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

# 2: without the feature names, which are the vocabularies' own keys (rebuilt on load). Files of
# format 1 (with them) are still read.
FORMAT_VERSION = 2
READS_FORMATS = (1, 2)
MODEL_FILE = "model.joblib"
INFO_FILE = "info.json"


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    # (label, probability), most likely first, the predicted label included.
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    # The words that pushed the decision most towards ``label``, strongest first.
    words: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 3)
    head_tokens: int = 12  # how many opening words form the "subject" block (0: none)
    head_weight: float = 0.5
    min_df: int = 2
    C: float = 0.5
    class_weight: str | None = "balanced"  # macro-F1 counts small classes as much as big ones
    calibration_folds: int = 3
    max_tokens: int = 1500  # words read per text; a 5,000-character text has about 1,500
    self_training_threshold: float = 0.9
    max_alternatives: int = 10
    max_words: int = 6


# --------------------------------------------------------------------------- the classifier


class TextClassifier:
    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        self.settings = Settings(**{**asdict(base), **overrides}) if overrides else base
        self.classes: list[str] = []
        self.info: dict[str, Any] = {}
        self._blocks: list[tuple[str, Block, float]] = []
        self._coef: np.ndarray | None = None  # (n_classes, n_features), float32
        self._intercept: np.ndarray | None = None
        self._temperature = 1.0
        self._names: np.ndarray | None = None  # the word (pair) of each feature, "" for char n-grams

    # --- features

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        cap = self.settings.max_tokens
        return [[t.lower() for t in segment(t)[:cap]] for t in texts]

    def _head(self, docs: list[list[str]]) -> list[list[str]]:
        return [d[: self.settings.head_tokens] for d in docs]

    def _build_blocks(self, n_docs: int) -> None:
        s = self.settings
        # Dropping words seen once keeps big models small and a little more general; on a few
        # hundred texts (a new centre's first orders) it would drop most of what there is.
        min_df = s.min_df if n_docs >= 500 else 1
        self._blocks = [
            ("word", Block(WORD, s.word_ngrams, min_df), 1.0),
            ("char", Block(CHAR, s.char_ngrams, min_df), 1.0),
        ]
        if s.head_tokens > 0 and s.head_weight > 0:
            self._blocks += [
                ("head", Block(WORD, (1, 1), 1), s.head_weight),
                ("headchar", Block(CHAR, (1, 2), min_df), s.head_weight),
            ]

    def _matrix(self, docs: list[list[str]], fit: bool = False) -> sp.csr_matrix:
        import scipy.sparse as sp

        head = self._head(docs) if len(self._blocks) > 2 else docs
        parts = []
        for kind, vec, weight in self._blocks:
            data = head if kind.startswith("head") else docs
            m = vec.fit_transform(data) if fit else vec.transform(data)
            parts.append(m * weight if weight != 1.0 else m)
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def _feature_names(self) -> np.ndarray:
        """The vocabulary's own key of every word feature (a pair as "a b"; ``_explain`` joins
        it), "" for character n-grams. The same string objects as the vocabularies': 8 bytes a
        feature, where a string of its own each was 16 MB for a TipDM-sized model in every worker."""
        parts = [vec.get_feature_names_out() if kind in ("word", "head") else np.full(len(vec.vocabulary_), "", dtype=object)
                 for kind, vec, _w in self._blocks]
        return np.concatenate(parts) if parts else np.empty(0, dtype=object)

    # --- fitting

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], unlabelled: Sequence[str] = ()
    ) -> TextClassifier:
        """Learn from ``texts`` and their ``labels``; ``unlabelled`` texts, if given, are used for
        one round of self-training. Raises ``ValueError`` for unusable training data."""
        started = time.perf_counter()
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        pairs = [(t, str(lab).strip()) for t, lab in zip(texts, labels, strict=True) if str(lab).strip()]
        docs = self._tokens([t for t, _ in pairs])
        kept = [(d, lab) for d, (_t, lab) in zip(docs, pairs, strict=True) if d]
        if len({lab for _d, lab in kept}) < 2:
            raise ValueError("need texts with at least two different labels")
        docs = [d for d, _ in kept]
        y = np.array([lab for _, lab in kept], dtype=object)
        self._fit_docs(docs, y)
        pseudo = 0
        if unlabelled:
            pool = [d for d in self._tokens(list(unlabelled)) if d]
            if pool:
                probs = self._proba(self._matrix(pool))
                best = probs.argmax(axis=1)
                sure = probs[np.arange(len(pool)), best] >= self.settings.self_training_threshold
                pseudo = int(sure.sum())
                if pseudo:
                    extra = [d for d, ok in zip(pool, sure, strict=True) if ok]
                    extra_y = np.array(self.classes, dtype=object)[best[sure]]
                    self._fit_docs(docs + extra, np.concatenate([y, extra_y]), calibrate_on=len(docs))
        counts = {c: int((y == c).sum()) for c in self.classes}
        self.info = {
            "format": FORMAT_VERSION,
            "version": "",  # set by the model store
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_samples": len(docs),
            "n_pseudo_labelled": pseudo,
            "classes": list(self.classes),
            "class_counts": counts,
            "sizes": {kind: len(vec.vocabulary_) for kind, vec, _w in self._blocks},
            "n_features": int(self._coef.shape[1]) if self._coef is not None else 0,
            "temperature": round(self._temperature, 4),
            "settings": asdict(self.settings),
            "train_seconds": round(time.perf_counter() - started, 2),
        }
        return self

    def _svm(self) -> LinearSVC:
        from sklearn.svm import LinearSVC

        s = self.settings
        return LinearSVC(C=s.C, class_weight=s.class_weight)

    def _fit_docs(self, docs: list[list[str]], y: np.ndarray, calibrate_on: int | None = None) -> None:
        self._build_blocks(len(docs))
        X = self._matrix(docs, fit=True)
        svm = self._svm().fit(X, y)
        self.classes = [str(c) for c in svm.classes_]
        coef, intercept = svm.coef_, svm.intercept_
        if len(self.classes) == 2:  # binary: one score for class 1; class 0 is its negative
            coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
        self._coef = np.ascontiguousarray(coef, dtype=np.float32)
        self._intercept = intercept.astype(np.float32)
        self._names = self._feature_names()
        n = calibrate_on or len(docs)
        self._temperature = self._calibrate(X[:n], y[:n])

    def _calibrate(self, X: sp.csr_matrix, y: np.ndarray) -> float:
        """The temperature T of softmax(scores / T) that minimises the log loss of held-out
        scores (Guo et al., 2017). One parameter: it cannot change which label wins, only how
        sure the model says it is."""
        from scipy.optimize import minimize_scalar
        from sklearn.model_selection import StratifiedKFold

        _labels, counts = np.unique(y, return_counts=True)
        folds = min(self.settings.calibration_folds, int(counts.min()))
        if folds < 2:
            return 1.0
        index = {c: i for i, c in enumerate(self.classes)}
        truth = np.array([index[c] for c in y])
        scores = np.zeros((X.shape[0], len(self.classes)), dtype=np.float64)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
            svm = self._svm().fit(X[train], y[train])
            fold_classes = [str(c) for c in svm.classes_]
            s = svm.decision_function(X[test])
            if s.ndim == 1:
                s = np.column_stack([-s, s])
            cols = [index[c] for c in fold_classes]
            scores[np.ix_(test, cols)] = s
        rows = np.arange(len(truth))

        def loss(log_t: float) -> float:
            z = scores / np.exp(log_t)
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-logp[rows, truth].mean())

        found = minimize_scalar(loss, bounds=(-6.0, 3.0), method="bounded")
        return float(np.exp(found.x))

    # --- predicting

    def _scores(self, X: sp.csr_matrix) -> np.ndarray:
        assert self._coef is not None and self._intercept is not None, "the classifier is not fitted"
        return np.asarray(X @ self._coef.T) + self._intercept

    def _proba(self, X: sp.csr_matrix) -> np.ndarray:
        z = self._scores(X).astype(np.float64) / self._temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    @overload
    def predict(self, texts: str) -> Prediction: ...  # type: ignore[overload-overlap]

    @overload
    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...

    def predict(self, texts: str | Sequence[str]) -> Prediction | list[Prediction]:
        """One ``Prediction`` per text (a single string gives a single Prediction). A text with
        no usable words gets label ``""`` and confidence 0."""
        if isinstance(texts, str):
            return self._predict_one(texts)
        docs = self._tokens(list(texts))
        X = self._matrix(docs)
        probs = self._proba(X)
        return [self._prediction(X, i, probs[i], bool(docs[i])) for i in range(len(docs))]

    def _predict_one(self, text: str) -> Prediction:
        """The same answer as ``predict([text])[0]``, without sparse matrices (about 10× less
        overhead for a single text)."""
        assert self._coef is not None and self._intercept is not None, "the classifier is not fitted"
        doc = self._tokens([text])[0]
        if not doc:
            return Prediction(label="", confidence=0.0)
        head = doc[: self.settings.head_tokens]
        idx_parts, val_parts, offset = [], [], 0
        for kind, block, weight in self._blocks:
            idx, vals = block.vector(head if kind.startswith("head") else doc)
            idx_parts.append(idx.astype(np.int64) + offset)
            val_parts.append(vals * np.float32(weight) if weight != 1.0 else vals)
            offset += len(block.vocabulary_)
        idx, vals = np.concatenate(idx_parts), np.concatenate(val_parts)
        z = (self._coef[:, idx] @ vals + self._intercept).astype(np.float64) / self._temperature
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        order = np.argsort(-p)[: self.settings.max_alternatives]
        top = int(order[0])
        alternatives = [(self.classes[j], round(float(p[j]), 4)) for j in order if p[j] >= 0.001 or j == top]
        return Prediction(label=self.classes[top], confidence=float(p[top]), alternatives=alternatives,
                          words=self._explain(idx, vals, top))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of ``classes``."""
        return self._proba(self._matrix(self._tokens(list(texts))))

    def _prediction(self, X: sp.csr_matrix, i: int, p: np.ndarray, usable: bool) -> Prediction:
        if not usable:
            return Prediction(label="", confidence=0.0)
        order = np.argsort(-p)[: self.settings.max_alternatives]
        top = int(order[0])
        alternatives = [(self.classes[j], round(float(p[j]), 4)) for j in order if p[j] >= 0.001 or j == top]
        return Prediction(
            label=self.classes[top], confidence=float(p[top]), alternatives=alternatives, words=self._why(X, i, top)
        )

    def _why(self, X: sp.csr_matrix, i: int, k: int) -> list[str]:
        """The words (and word pairs) whose weight pushed text ``i`` most towards class ``k``."""
        lo, hi = X.indptr[i], X.indptr[i + 1]
        return self._explain(X.indices[lo:hi], X.data[lo:hi], k)

    def _explain(self, idx: np.ndarray, vals: np.ndarray, k: int) -> list[str]:
        assert self._coef is not None and self._names is not None
        names = self._names[idx]
        named = names != ""
        if not named.any():
            return []
        idx, vals, names = idx[named], vals[named], names[named]
        contrib = vals * self._coef[k, idx]
        totals: dict[str, float] = {}
        for name, c in zip(names, contrib, strict=True):
            word = name.replace(" ", "")  # a pair is shown as one word, and adds up with it
            totals[word] = totals.get(word, 0.0) + float(c)
        best = [n for c, n in sorted((c, n) for n, c in totals.items() if c > 0)[::-1]]
        # A lone character (占, 道) explains little to a dispatcher; words first.
        best = [n for n in best if len(n) > 1] + [n for n in best if len(n) == 1]
        return best[: self.settings.max_words]

    # --- persistence

    def save(self, path: Path) -> Path:
        """Write the model into directory ``path`` (``model.joblib`` and ``info.json``, the latter
        with the model file's SHA-256 so that a damaged file is caught before it is unpickled)."""
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        model = path / MODEL_FILE
        joblib.dump(self._state(), model, compress=3)
        info = dict(self.info)
        info["sha256"] = _sha256(model)
        info["size_bytes"] = model.stat().st_size
        (path / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
        self.info = info
        return path

    def _state(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "settings": asdict(self.settings),
            "classes": self.classes,
            "info": self.info,
            "blocks": self._blocks,
            "coef": self._coef,
            "intercept": self._intercept,
            "temperature": self._temperature,
        }

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Read a model written by ``save`` (the directory, or its ``model.joblib``). Raises
        ``ValueError`` if the file does not match its recorded checksum or format. Model files
        are pickles: load only those this installation wrote."""
        import joblib

        path = Path(path)
        model = path / MODEL_FILE if path.is_dir() else path
        info_file = model.parent / INFO_FILE
        if info_file.exists():
            recorded = json.loads(info_file.read_text(encoding="utf-8")).get("sha256")
            if recorded and recorded != _sha256(model):
                raise ValueError(f"{model} does not match its checksum")
        state = joblib.load(model)
        if not isinstance(state, dict) or state.get("format") not in READS_FORMATS:
            raise ValueError(f"{model} is not a triage model of format {READS_FORMATS}")
        settings = dict(state["settings"])
        for key in ("word_ngrams", "char_ngrams"):
            settings[key] = tuple(settings[key])
        obj = cls(Settings(**settings))
        obj.classes = list(state["classes"])
        obj.info = dict(state["info"])
        if info_file.exists():
            obj.info.update(json.loads(info_file.read_text(encoding="utf-8")))
        obj._blocks = state["blocks"]
        obj._coef = state["coef"]
        obj._intercept = state["intercept"]
        obj._temperature = float(state["temperature"])
        obj._names = obj._feature_names()  # format 1's stored names are dropped for these
        return obj


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
