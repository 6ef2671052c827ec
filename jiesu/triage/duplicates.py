"""Possible duplicates (并单候选): open or recent orders about the same thing in the same place.

Pure Python, no Django. The score of a candidate is

    text similarity (cosine of TF-IDF weighted character bigrams, IDF from the candidate pool
    and an optional background table)
    + a bonus for the same community / street / district (area paths "110000/110105/…"),
      or a penalty when both areas are known and lie in different districts,
    × a time factor that halves every ``half_life_days`` down to a floor (an old order about
      the same pothole is still worth showing, just lower).

Character bigrams need no segmenter, survive typos and dialect spellings and are what Chinese
near-duplicate detection commonly uses; ``tokenize`` can be replaced (e.g. segmented words).
``bench/triage_duplicates.py`` measures precision and recall on real messages.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
MAX_CHARS = 3000


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()[:MAX_CHARS]


def bigrams(text: str | None) -> list[str]:
    """Character bigrams of each run of Chinese, and whole runs of letters/digits: "3号楼" gives
    "3", "号楼"; a single Chinese character between punctuation counts as itself."""
    out: list[str] = []
    for run in _RUNS.findall(normalise(text)):
        if run.isascii() or len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


Tokenizer = Callable[[str], Iterable[str]]


@dataclass
class Candidate:
    """An open or recent order. ``area`` is its area path (or code); ``at`` when it came in."""

    number: str
    text: str
    area: str = ""
    at: dt.datetime | None = None
    features: Counter | None = field(default=None, repr=False)
    vector: tuple[dict[str, float], float] | None = field(default=None, repr=False)  # with background IDF


@dataclass(frozen=True)
class DuplicateMatch:
    number: str
    score: float
    similarity: float
    place: str  # community | street | district | other_district | "" (unknown)
    days: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "score": round(self.score, 4), "similarity": round(self.similarity, 4),
                "place": self.place, "days": None if self.days is None else round(self.days, 1)}


def _place(a: str, b: str) -> str:
    """How close two area paths are: the deepest level they share below the city."""
    if not a or not b:
        return ""
    if "/" not in a and "/" not in b:
        return "street" if a == b else ""  # bare codes, not paths: the same place or not known
    pa, pb = a.split("/"), b.split("/")
    shared = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        shared += 1
    # Paths start at the city (level 1): shared 2 = district, 3 = street, 4 = community.
    if shared >= 4 and len(pa) >= 4 and len(pb) >= 4:
        return "community"
    if shared >= 3 and len(pa) >= 3 and len(pb) >= 3:
        return "street"
    if shared >= 2 and len(pa) >= 2 and len(pb) >= 2:
        return "district"
    return "other_district" if len(pa) >= 2 and len(pb) >= 2 else ""


@dataclass
class DuplicateFinder:
    # Chosen on real messages (bench/triage_duplicates.py): at 0.3, precision ≈ 0.99 and
    # recall ≈ 0.8 on labelled pairs; lower finds more and shows more noise.
    threshold: float = 0.3
    half_life_days: float = 30.0
    time_floor: float = 0.7  # the time factor never drops below this
    bonus: Mapping[str, float] = field(default_factory=lambda: {
        "community": 0.12, "street": 0.08, "district": 0.03, "other_district": -0.15, "": 0.0,
    })
    limit: int = 5
    tokenize: Tokenizer = bigrams
    # token → IDF from a larger corpus. With it, the IDF is fixed and each candidate's vector
    # is computed once (kept on the Candidate); without it, IDF comes from the candidate pool.
    background: Mapping[str, float] | None = None

    def features(self, text: str) -> Counter:
        """The text's token counts. Shared, never to be changed: the same candidates come back
        on every dispatcher page, so their features are kept (the desk's 400 candidates were
        most of the finder's time, bench.desk_scale)."""
        return _features(self.tokenize, text)

    def _idf(self, docs: Sequence[Counter]) -> Callable[[str], float]:
        if self.background:
            background = self.background
            default = self._background_default()
            return lambda token: background.get(token, default)
        n = len(docs)
        df: Counter = Counter()
        for d in docs:
            df.update(d.keys())
        # Every token of the pool weighed once, looked up per use (a lambda per token was most
        # of the finder's time on the dispatcher's page); unseen tokens as with df = 0.
        weights = _Weights({t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()})
        weights.unseen = math.log(n + 1) + 1.0
        return weights.__getitem__

    def _background_default(self) -> float:
        if not hasattr(self, "_bg_default"):
            self._bg_default = max(self.background.values()) if self.background else 1.0
        return self._bg_default

    @staticmethod
    def _vector(feats: Counter, idf: Callable[[str], float]) -> tuple[dict[str, float], float]:
        vec = {t: (1.0 + math.log(c)) * idf(t) for t, c in feats.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return vec, norm

    @staticmethod
    def _cosine(a: tuple[dict[str, float], float], b: tuple[dict[str, float], float]) -> float:
        (va, na), (vb, nb) = a, b
        if not na or not nb:
            return 0.0
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(w * vb.get(t, 0.0) for t, w in va.items()) / (na * nb)

    def time_factor(self, days: float | None) -> float:
        if days is None:
            return 1.0
        decay = 0.5 ** (abs(days) / self.half_life_days) if self.half_life_days > 0 else 1.0
        return self.time_floor + (1.0 - self.time_floor) * decay

    def score(self, similarity: float, place: str, days: float | None) -> float:
        raw = similarity + self.bonus.get(place, 0.0) if similarity > 0 else 0.0
        return max(0.0, min(1.0, raw * self.time_factor(days)))

    def find(
        self,
        text: str,
        candidates: Sequence[Candidate],
        *,
        area: str = "",
        at: dt.datetime | None = None,
        exclude: Iterable[str] = (),
        threshold: float | None = None,
        limit: int | None = None,
    ) -> list[DuplicateMatch]:
        """The best candidates scoring at least ``threshold``, best first."""
        skip = set(exclude)
        pool = [c for c in candidates if c.number not in skip and c.text]
        if not pool or not text:
            return []
        query = self.features(text)
        if not query:
            return []
        feats = []
        for c in pool:
            if c.features is None:
                c.features = self.features(c.text)
            feats.append(c.features)
        fixed = bool(self.background)
        idf = self._idf([] if fixed else [*feats, query])
        qv = self._vector(query, idf)
        cut = self.threshold if threshold is None else threshold
        out = []
        for c, f in zip(pool, feats, strict=True):
            if query.keys().isdisjoint(f):
                continue  # no token in common: similarity 0, no vector needed
            if fixed:
                if c.vector is None:
                    c.vector = self._vector(f, idf)
                cv = c.vector
            else:
                cv = self._vector(f, idf)
            sim = self._cosine(qv, cv)
            if sim <= 0:
                continue
            days = (at - c.at).total_seconds() / 86400 if at is not None and c.at is not None else None
            place = _place(area, c.area)
            s = self.score(sim, place, days)
            if s >= cut:
                out.append(DuplicateMatch(number=c.number, score=s, similarity=sim, place=place, days=days))
        out.sort(key=lambda m: (-m.score, m.number))
        return out[: self.limit if limit is None else limit]

    def pair_score(
        self,
        a: str,
        b: str,
        *,
        area_a: str = "",
        area_b: str = "",
        days: float | None = None,
        idf: Callable[[str], float] | None = None,
    ) -> float:
        """The score of one pair (benchmarks): with ``idf`` from a corpus, or plain TF."""
        fa, fb = self.features(a), self.features(b)
        weigh = idf or (lambda _t: 1.0)
        sim = self._cosine(self._vector(fa, weigh), self._vector(fb, weigh))
        return self.score(sim, _place(area_a, area_b), days)


class _Weights(dict):
    """Token → IDF; a token not in the pool weighs as one in no document."""

    unseen = 1.0

    def __missing__(self, token: str) -> float:
        return self.unseen


@lru_cache(maxsize=20_000)
def _features(tokenize: Tokenizer, text: str) -> Counter:
    return Counter(tokenize(text))


def corpus_idf(texts: Iterable[str], tokenize: Tokenizer = bigrams) -> dict[str, float]:
    """IDF of each token over a corpus (for ``DuplicateFinder.background`` or ``pair_score``)."""
    df: Counter = Counter()
    n = 0
    for t in texts:
        df.update(set(tokenize(t)))
        n += 1
    return {tok: math.log((n + 1) / (c + 1)) + 1.0 for tok, c in df.items()}
