"""Hotspots (热点): clusters of similar requests in one area and time window, and spikes of an
area's volume against its own history. Pure Python (no Django), so that the benchmark and the
tests run it on plain data.

Clustering: each text becomes a set of words (rjieba, stop words and punctuation dropped) and a
set of character bigrams; two requests are *similar* when the mean of the two Jaccard
similarities reaches a threshold. Only pairs in the same area whose times are at most
``window`` apart are compared, and only pairs that share at least one word that is not too
common (an inverted index), so that the cost grows with the number of similar pairs, not with
the square of the number of requests. Clusters are the connected components of the similarity
graph (single linkage), kept from ``min_size`` members up.

Spikes: this week's count of an area against the mean + k·sd of its previous weeks, with a
floor under the spread (√mean and 1) so that a quiet area's first few requests are not "spikes".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Tokenizer = Callable[[str], list[str]]

# Words that say nothing about what a request is about (hotline boilerplate and function words).
_STOP = """
    的 了 在 是 我 我们 你 你们 他 他们 她 它 这 那 这个 那个 这些 那些 和 与 及 或 也 都 就 还 又 很 非常
    有 没有 没 不 被 把 让 给 对 对于 从 到 向 为 为了 因为 所以 但是 但 而且 并且 如果 可以 能 能够 会 要 需要
    希望 请 请求 恳请 麻烦 谢谢 感谢 您好 你好 问题 情况 反映 反应 投诉 举报 咨询 建议 相关 部门 领导 政府 有关
    一个 一些 已经 现在 目前 时候 什么 怎么 如何 为什么 是否 多次 一直 经常 每天 每次 解决 处理 尽快 及时 一下
    市民 居民 群众 本人 大家 附近 周边 地方 小区 这里 那里 之前 以后 以来 今年 去年 今天 昨天 导致 造成 影响
    严重 进行 存在 出现 发现 表示 认为 知道 得到 没人 无人 还是 而且 然后 这样 那样 其他 以及 等 等等
"""
STOP_WORDS = frozenset(_STOP.split())
_WORD = re.compile(r"[\w\u4e00-\u9fff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
_NOT_TEXT = re.compile(r"[^\w\u4e00-\u9fff]+")


def default_tokenize(text: str) -> list[str]:
    """rjieba's words (the jiesu.triage segmenter, where present, is passed in by the caller)."""
    import rjieba

    return list(rjieba.cut(text))


@dataclass(frozen=True)
class Doc:
    """One request: an id, its area key ("" when unknown), when, its text and a weight (1, or
    more for a request that many people backed, e.g. 1 + ln(1 + likes))."""

    key: str
    area: str
    at: dt.datetime
    text: str
    weight: float = 1.0
    who: str = ""


@dataclass
class Cluster:
    members: list[Doc]
    area: str
    terms: list[str] = field(default_factory=list)  # the words most members share

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def start(self) -> dt.datetime:
        return min(d.at for d in self.members)

    @property
    def end(self) -> dt.datetime:
        return max(d.at for d in self.members)

    @property
    def people(self) -> int:
        """Distinct requesters where known (every member counts as one where not)."""
        return len({d.who or f"#{d.key}" for d in self.members})

    @property
    def score(self) -> float:
        """热度: one point per distinct requester, each weighted by their best-backed request
        (so that one person calling ten times is not a hotspot of ten)."""
        best: dict[str, float] = {}
        for d in self.members:
            who = d.who or f"#{d.key}"
            best[who] = max(best.get(who, 0.0), d.weight)
        return round(sum(best.values()), 3)


@dataclass(frozen=True)
class Features:
    words: frozenset[str]
    bigrams: frozenset[str]
    grams: frozenset[str] = frozenset()  # character 4-grams: the raw material of place names


def features(text: str, tokenize: Tokenizer = default_tokenize) -> Features:
    words = frozenset(
        w for w in (t.strip().lower() for t in tokenize(text or ""))
        if len(w) >= 2 and w not in STOP_WORDS and _WORD.search(w)
    )
    cjk = "".join(_CJK.findall(text or ""))
    bigrams = frozenset(cjk[i : i + 2] for i in range(len(cjk) - 1))
    if not bigrams:  # no Chinese: character bigrams of the words
        flat = _NOT_TEXT.sub("", (text or "").lower())
        bigrams = frozenset(flat[i : i + 2] for i in range(len(flat) - 1))
    grams = frozenset(run[i : i + 4] for run in _CJK_RUN.findall(text or "") for i in range(len(run) - 3))
    return Features(words, bigrams, grams)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def similarity(a: Features, b: Features, idf: Mapping[str, float] | None = None) -> float:
    """Mean of the words' and the bigrams' Jaccard similarity; with ``idf``, each word or
    bigram counts by its weight, so that what every request of an area says (the area's name,
    "之前反映过") counts for little."""
    if idf is None:
        return (jaccard(a.words, b.words) + jaccard(a.bigrams, b.bigrams)) / 2
    return (weighted_jaccard(a.words, b.words, idf) + weighted_jaccard(a.bigrams, b.bigrams, idf)) / 2


def weighted_jaccard(a: frozenset[str], b: frozenset[str], idf: Mapping[str, float]) -> float:
    if not a or not b:
        return 0.0
    inter = sum(idf.get(x, 1.0) for x in a & b)
    union = sum(idf.get(x, 1.0) for x in a) + sum(idf.get(x, 1.0) for x in b) - inter
    return inter / union if union else 0.0


def idf_weights(feats: Iterable[Features]) -> dict[str, float]:
    """ln((N + 1) / (df + 1)): 0 for what every document has."""
    df: Counter[str] = Counter()
    n = 0
    for f in feats:
        n += 1
        df.update(f.words)
        df.update(f.bigrams)
    return {x: math.log((n + 1) / (c + 1)) for x, c in df.items()}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def cluster(
    docs: Iterable[Doc],
    *,
    window: dt.timedelta = dt.timedelta(days=14),
    threshold: float = 0.3,
    min_size: int = 2,
    tokenize: Tokenizer = default_tokenize,
    max_df: float = 0.05,
    by_area: bool = True,
    anchor_threshold: float | None = 0.1,
    anchor_df: float = 0.015,
    featurize: Callable[[str], Features] | None = None,
) -> list[Cluster]:
    """Clusters of similar requests, hottest first (score, then size, then earliest).

    ``window``: the most time between two linked requests. ``threshold``: the least similarity
    of a link. ``max_df``: words in more than this share of an area's requests (and more than
    20 of them) do not propose pairs, though they still count in the similarity.

    Anchors: requests about one place word their complaints differently, but name the place
    (伊景园滨河苑, 丽发新城). Two requests that share at least two rare character 4-grams (in at
    most ``anchor_df`` of all the requests, at least two, and in at most 30 % of the area's) are
    linked from the lower similarity ``anchor_threshold`` on (None: no anchors)."""
    items = list(docs)
    # ``featurize``: the caller's (e.g. memoised) text → Features; by default ``features``.
    feats = [featurize(d.text) if featurize else features(d.text, tokenize) for d in items]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(items):
        groups[d.area if by_area else ""].append(i)
    uf = _UnionFind(len(items))
    # A place name is rare in the whole window; boilerplate ("上次说处理结果…") is not.
    gram_df = Counter(g for f in feats for g in f.grams) if anchor_threshold is not None else Counter()
    gram_cap = max(5, int(anchor_df * len(items)))
    rare_grams = {g for g, n in gram_df.items() if 2 <= n <= gram_cap}
    for members in groups.values():
        _link(items, feats, members, uf, window=window, threshold=threshold, max_df=max_df,
              anchor_threshold=anchor_threshold, rare_grams=rare_grams)
    idf_all = idf_weights(feats)
    components: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        components[uf.find(i)].append(i)
    out = []
    for idx in components.values():
        if len(idx) < min_size:
            continue
        idx.sort(key=lambda i: (items[i].at, items[i].key))
        counts = Counter(w for i in idx for w in feats[i].words)
        common = max(2, math.ceil(len(idx) / 2))
        # The words most members share, the rarest in the whole window first.
        terms = sorted((w for w, n in counts.items() if n >= common and not w.isdigit()),
                       key=lambda w: (-counts[w], -idf_all.get(w, 0), w))[:5]
        area = items[idx[0]].area if by_area else _common_area(items[i].area for i in idx)
        out.append(Cluster(members=[items[i] for i in idx], area=area, terms=terms))
    out.sort(key=lambda c: (-c.score, -c.size, c.start, c.members[0].key))
    return out


def _common_area(areas: Iterable[str]) -> str:
    counts = Counter(a for a in areas if a)
    return counts.most_common(1)[0][0] if counts else ""


def _link(items, feats, members: list[int], uf: _UnionFind, *, window, threshold, max_df, anchor_threshold,
          rare_grams: set[str]) -> None:
    index: dict[str, list[int]] = defaultdict(list)
    for i in members:
        for w in feats[i].words:
            index[w].append(i)
    cap = max(20, int(max_df * len(members)))
    rare: dict[int, frozenset[str]] = {}
    if anchor_threshold is not None:
        # ... and not what most requests of the area say (its own name, in small areas).
        local = Counter(g for i in members for g in feats[i].grams if g in rare_grams)
        local_cap = max(2, int(0.3 * len(members)))
        rare = {i: frozenset(g for g in feats[i].grams if g in rare_grams and local[g] <= local_cap) for i in members}
        for i in members:
            for g in rare[i]:
                index["\x00" + g].append(i)  # rare place-like strings propose pairs too
    idf = idf_weights(feats[i] for i in members)
    # Each document's total weight, once: a pair then costs only its intersections.
    totals = {i: (sum(idf.get(x, 1.0) for x in feats[i].words), sum(idf.get(x, 1.0) for x in feats[i].bigrams))
              for i in members}

    def sim(i: int, j: int) -> float:
        out = 0.0
        for part, (a, b) in enumerate(((feats[i].words, feats[j].words), (feats[i].bigrams, feats[j].bigrams))):
            if not a or not b:
                continue
            inter = sum(idf.get(x, 1.0) for x in a & b)
            union = totals[i][part] + totals[j][part] - inter
            out += inter / union if union else 0.0
        return out / 2

    seen: set[tuple[int, int]] = set()
    for posting in index.values():
        if len(posting) < 2 or len(posting) > cap:
            continue
        posting.sort(key=lambda i: items[i].at)
        for a_pos, i in enumerate(posting):
            for j in posting[a_pos + 1 :]:
                if items[j].at - items[i].at > window:
                    break
                pair = (i, j) if i < j else (j, i)
                if pair in seen:
                    continue
                seen.add(pair)
                if uf.find(i) == uf.find(j):
                    continue
                score = sim(i, j)
                if score >= threshold or (
                    anchor_threshold is not None and score >= anchor_threshold and len(rare[i] & rare[j]) >= 2
                ):
                    uf.union(i, j)


# ---------------------------------------------------------------------------------------------
# Spikes against the area's own history


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Spike:
    key: str  # the area (or area × category) key
    week: dt.date  # Monday of the spiking week
    count: int
    mean: float
    sd: float
    threshold: float

    @property
    def ratio(self) -> float:
        return round(self.count / self.mean, 2) if self.mean else math.inf


def weekly_counts(items: Iterable[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
    """(key, day) pairs → counts per (key, Monday)."""
    counts: Counter[tuple[str, dt.date]] = Counter()
    for key, day in items:
        counts[(key, week_start(day))] += 1
    return dict(counts)


def spikes(
    counts: Mapping[tuple[str, dt.date], int],
    *,
    week: dt.date,
    history: int = 8,
    k: float = 2.0,
    min_count: int = 5,
) -> list[Spike]:
    """Keys whose count in ``week`` exceeds mean + k·max(sd, √mean, 1) of the ``history``
    weeks before it (weeks without requests count as 0). Biggest excess first.

    ``week`` is the bucket of the current week as the keys of ``counts`` have it (a Monday from
    ``weekly_counts``, or the first day of any seven-day block); earlier weeks are 7·i days before."""
    keys = {key for key, _ in counts}
    out = []
    for key in keys:
        current = counts.get((key, week), 0)
        if current < min_count:
            continue
        past = [counts.get((key, week - dt.timedelta(weeks=i)), 0) for i in range(1, history + 1)]
        mean = sum(past) / len(past) if past else 0.0
        sd = math.sqrt(sum((x - mean) ** 2 for x in past) / len(past)) if past else 0.0
        limit = mean + k * max(sd, math.sqrt(mean), 1.0)
        if current > limit:
            out.append(Spike(key=key, week=week, count=current, mean=round(mean, 2), sd=round(sd, 2),
                             threshold=round(limit, 2)))
    out.sort(key=lambda s: (-(s.count - s.threshold), s.key))
    return out
