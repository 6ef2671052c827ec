"""TF-IDF feature blocks over segmented words, built for prediction speed.

scikit-learn's TfidfVectorizer looks every n-gram up in a Python loop; a 400-character message
has well over a thousand character n-grams, which alone holds prediction to about 2,000 texts a
second. Here a word's n-grams are looked up once and cached as an array of feature indices, so
a text costs one dictionary lookup per word, and counting, sub-linear tf, idf and length
normalisation happen for the whole batch at once in scipy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

# scipy.sparse (about 20 MB of a process) only for whole batches (``transform``): a web worker
# reads one text at a time through ``vector``, numpy alone.
if TYPE_CHECKING:
    import scipy.sparse as sp

WORD, CHAR = "word", "char"
_EMPTY = np.zeros(0, dtype=np.int32)
_CACHE_LIMIT = 300_000


def char_grams(token: str, lo: int, hi: int) -> list[str]:
    """n-grams inside one word, padded with spaces at its edges (like scikit-learn's char_wb),
    except the lone padding character at n = 1, which says nothing."""
    padded = f" {token} "
    out: list[str] = []
    for n in range(lo, hi + 1):
        if n == 1:
            out.extend(token)
        else:
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


class Block:
    """One TF-IDF block: ``kind`` WORD (words, and word pairs when ``ngrams[1] >= 2``) or CHAR
    (character n-grams inside words, ``ngrams`` = (lo, hi)). Documents are lists of words."""

    def __init__(self, kind: str, ngrams: tuple[int, int], min_df: int = 1, sublinear: bool = True) -> None:
        if kind not in (WORD, CHAR):
            raise ValueError(kind)
        self.kind, self.ngrams, self.min_df, self.sublinear = kind, tuple(ngrams), min_df, sublinear
        self.vocabulary_: dict[str, int] = {}
        self.idf_: np.ndarray = np.zeros(0, dtype=np.float32)
        self._cache: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    # --- terms

    def _terms(self, doc: list[str]) -> list[str]:
        if self.kind == WORD:
            if self.ngrams[1] >= 2:
                return doc + [f"{a} {b}" for a, b in zip(doc, doc[1:], strict=False)]
            return list(doc)
        lo, hi = self.ngrams
        out: list[str] = []
        for t in doc:
            out.extend(char_grams(t, lo, hi))
        return out

    def fit(self, docs: Sequence[list[str]]) -> Block:
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(self._terms(doc)))
        terms = sorted(t for t, c in df.items() if c >= self.min_df)
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        n = len(docs)
        counts = np.array([df[t] for t in terms], dtype=np.float64)
        # smooth idf, as scikit-learn's default: ln((1 + n) / (1 + df)) + 1
        self.idf_ = (np.log((1.0 + n) / (1.0 + counts)) + 1.0).astype(np.float32)
        self._cache = {}
        return self

    def fit_transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        return self.fit(docs).transform(docs)

    # --- indices

    def _token_indices(self, token: str) -> np.ndarray:
        found = self._cache.get(token)
        if found is None:
            vocab = self.vocabulary_
            lo, hi = self.ngrams
            idx = [vocab[g] for g in char_grams(token, lo, hi) if g in vocab]
            found = np.array(idx, dtype=np.int32) if idx else _EMPTY
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = found
        return found

    def _doc_indices(self, doc: list[str]) -> np.ndarray:
        if self.kind == CHAR:
            parts = [self._token_indices(t) for t in doc]
            return np.concatenate(parts) if parts else _EMPTY
        vocab = self.vocabulary_
        idx = [vocab[t] for t in doc if t in vocab]
        if self.ngrams[1] >= 2:
            idx.extend(vocab[p] for p in (f"{a} {b}" for a, b in zip(doc, doc[1:], strict=False)) if p in vocab)
        return np.array(idx, dtype=np.int32) if idx else _EMPTY

    def transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        import scipy.sparse as sp

        parts = [self._doc_indices(d) for d in docs]
        lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate(parts) if parts else _EMPTY
        data = np.ones(len(indices), dtype=np.float32)
        X = sp.csr_matrix((data, indices, indptr), shape=(len(docs), len(self.vocabulary_)))
        X.sum_duplicates()  # counts
        if self.sublinear:
            np.log(X.data, out=X.data)
            X.data += 1.0
        X.data *= self.idf_[X.indices]
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        X.data /= np.repeat(norms, np.diff(X.indptr)).astype(np.float32)
        return X

    def vector(self, doc: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """One document as (feature indices, values), the same numbers as a row of
        ``transform`` without building a sparse matrix: for one text at a time (the API, the
        intake form), where scipy's per-call overhead would cost more than the arithmetic."""
        idx, counts = np.unique(self._doc_indices(doc), return_counts=True)
        vals = counts.astype(np.float32)
        if self.sublinear:
            vals = np.log(vals) + np.float32(1.0)
        vals *= self.idf_[idx]
        norm = float(np.sqrt(np.dot(vals, vals)))
        if norm:
            vals /= norm
        return idx, vals

    def get_feature_names_out(self) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for t, i in self.vocabulary_.items():
            names[i] = t
        return names
