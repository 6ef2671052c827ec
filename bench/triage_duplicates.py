"""Duplicate detection (jiesu.triage.duplicates) measured on real citizen messages.

Data: ``../shared/data/tipdm2020_c_gov_messages/attachment3_hotspot_messages.csv`` (TipDM 2020
C, 附件3: 4,326 messages to a provincial message board, 2017–2020). Never committed; when it is
absent this script says so and exits 0.

How the pairs are labelled (the scorer sees only the message body 留言详情, its place and its
time — never the subject line or the user id, which the labels come from):

- duplicate (positive):
  - ``subject``: two messages whose subject lines (留言主题) are identical after removing
    punctuation and spaces;
  - ``user``: the same user (留言用户) wrote both, and their subject lines share at least half of
    their character bigrams (Jaccard ≥ 0.5) without being identical ("A市805路公交车能不能改道走
    木莲中路" / "A市805路公交车改道能不能走木莲中路").
  Pairs whose bodies are character-for-character identical are reported separately
  (``near`` = positives with different bodies: the interesting ones).
- not a duplicate (negative):
  - ``random``: 20 random pairs per positive with different subjects and different users;
  - ``same_place``: 10 pairs per positive from the same district token (A3区, A7县 …) whose
    subjects share less than 15 % of their bigrams, from different users: same place,
    clearly different topic — the pairs the place bonus could fool.

Place: the first district token of the subject+body (A市 alone counts as the city only, so no
bonus). Time: 留言时间, with the finder's time decay.

Two measurements:
1. pair classification at the finder's threshold and a sweep (precision, recall, F1);
2. retrieval as the desk uses it: for each message of a positive pair, the finder searches all
   messages within ±60 days; recall@5 = the partner is returned; precision = labelled positives
   among everything returned. This precision is a lower bound: unlabelled real duplicates
   (same issue, differently worded subjects) count as false positives.

Writes ``bench/results/triage_duplicates.json``. Run: ``.venv/bin/python bench/triage_duplicates.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jiesu.triage.duplicates import Candidate, DuplicateFinder, bigrams, corpus_idf  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tipdm2020_c_gov_messages" / "attachment3_hotspot_messages.csv"
OUT = ROOT / "bench" / "results" / "triage_duplicates.json"
PLACE = re.compile(r"[A-Z]\d*[市区县]")
WINDOW_DAYS = 60


def norm(s: str) -> str:
    return re.sub(r"[\W_]+", "", s)


def jaccard(a: str, b: str) -> float:
    x, y = set(bigrams(a)), set(bigrams(b))
    return len(x & y) / max(len(x | y), 1)


def place(row: dict) -> str:
    """A path like the areas': "A" (city) or "A/A3区" (a district of city A)."""
    found = PLACE.findall(row["留言主题"] + row["留言详情"])
    if not found:
        return ""
    token = found[0]
    if token.endswith("市"):
        return token[0]
    return f"{token[0]}/{token}"


def when(row: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(row["留言时间"])


def label_pairs(rows: list[dict], rng: random.Random) -> tuple[list, list]:
    pos: dict[tuple[str, str], str] = {}
    by_subject: dict[str, list[dict]] = defaultdict(list)
    by_user: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_subject[norm(r["留言主题"])].append(r)
        by_user[r["留言用户"]].append(r)
    for group in by_subject.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                pos[(a["留言编号"], b["留言编号"])] = "subject"
    for group in by_user.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                key = (a["留言编号"], b["留言编号"])
                if key not in pos and norm(a["留言主题"]) != norm(b["留言主题"]) \
                        and jaccard(a["留言主题"], b["留言主题"]) >= 0.5:
                    pos[key] = "user"
    by_id = {r["留言编号"]: r for r in rows}
    positives = [(by_id[a], by_id[b], kind) for (a, b), kind in sorted(pos.items())]
    known = set(pos) | {(b, a) for a, b in pos}
    negatives: list[tuple[dict, dict, str]] = []
    while len(negatives) < 20 * len(positives):
        a, b = rng.sample(rows, 2)
        if (a["留言编号"], b["留言编号"]) in known or a["留言用户"] == b["留言用户"]:
            continue
        if norm(a["留言主题"]) != norm(b["留言主题"]):
            negatives.append((a, b, "random"))
    by_place: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        p = place(r)
        if "/" in p:
            by_place[p].append(r)
    places = sorted(by_place)
    wanted = 10 * len(positives)
    tries = 0
    hard: list[tuple[dict, dict, str]] = []
    while len(hard) < wanted and tries < wanted * 200:
        tries += 1
        group = by_place[rng.choice(places)]
        if len(group) < 2:
            continue
        a, b = rng.sample(group, 2)
        if (a["留言编号"], b["留言编号"]) in known or a["留言用户"] == b["留言用户"]:
            continue
        if jaccard(a["留言主题"], b["留言主题"]) < 0.15:
            hard.append((a, b, "same_place"))
    return positives, negatives + hard


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn}


def main() -> int:
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (real data is never committed; see docs/benchmarks.md)")
        return 0
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    rng = random.Random(20200228)
    positives, negatives = label_pairs(rows, rng)
    body = {r["留言编号"]: r["留言详情"].strip() for r in rows}
    idf = corpus_idf(body.values())
    finder = DuplicateFinder(background=idf)
    default_idf = max(idf.values())

    def score(a: dict, b: dict) -> float:
        days = (when(a) - when(b)).total_seconds() / 86400
        return finder.pair_score(body[a["留言编号"]], body[b["留言编号"]], area_a=place(a), area_b=place(b),
                                 days=days, idf=lambda t: idf.get(t, default_idf))

    started = time.perf_counter()
    pos_scores = [(score(a, b), kind, body[a["留言编号"]] == body[b["留言编号"]]) for a, b, kind in positives]
    neg_scores = [(score(a, b), kind) for a, b, kind in negatives]
    pair_seconds = time.perf_counter() - started

    def at(th: float, *, near_only: bool = False, neg_kind: str | None = None) -> dict:
        ps = [s for s, _k, same in pos_scores if not (near_only and same)]
        ns = [s for s, k in neg_scores if neg_kind is None or k == neg_kind]
        tp = sum(s >= th for s in ps)
        return prf(tp, sum(s >= th for s in ns), len(ps) - tp)

    th = finder.threshold
    sweep = {f"{t:.2f}": at(t) for t in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)}
    classification = {
        "threshold": th,
        "all": at(th),
        "near_duplicates_only": at(th, near_only=True),
        "vs_random": at(th, neg_kind="random"),
        "vs_same_place": at(th, neg_kind="same_place"),
        "sweep": sweep,
    }

    # Retrieval as on the desk: each positive's message searches everything within ±60 days.
    ordered = sorted(rows, key=when)
    cands = {r["留言编号"]: Candidate(number=r["留言编号"], text=body[r["留言编号"]], area=place(r), at=when(r))
             for r in ordered}
    truth: dict[str, set[str]] = defaultdict(set)
    for a, b, _k in positives:
        truth[a["留言编号"]].add(b["留言编号"])
        truth[b["留言编号"]].add(a["留言编号"])
    found = returned = correct = 0
    started = time.perf_counter()
    queries = sorted(truth)
    for q in queries:
        qa = cands[q]
        assert qa.at is not None
        pool = [c for c in cands.values() if c.at is not None and abs((c.at - qa.at).days) <= WINDOW_DAYS]
        hits = finder.find(qa.text, pool, area=qa.area, at=qa.at, exclude=[q], limit=5)
        numbers = {h.number for h in hits}
        returned += len(hits)
        correct += len(numbers & truth[q])
        found += bool(numbers & truth[q])
    retrieval_seconds = time.perf_counter() - started
    reachable = sum(
        1 for q in queries
        if any(abs((cands[p].at - cands[q].at).days) <= WINDOW_DAYS for p in truth[q])  # type: ignore[operator]
    )
    retrieval = {
        "queries": len(queries),
        "queries_with_partner_in_window": reachable,
        "recall_at_5": round(found / reachable, 4) if reachable else None,
        "precision_lower_bound": round(correct / returned, 4) if returned else None,
        "returned": returned,
        "ms_per_query": round(1000 * retrieval_seconds / max(len(queries), 1), 2),
        "window_days": WINDOW_DAYS,
    }
    counts = defaultdict(int)
    for _a, _b, k in positives:
        counts[f"positive_{k}"] += 1
    for _a, _b, k in negatives:
        counts[f"negative_{k}"] += 1
    counts["positive_identical_body"] = sum(1 for _s, _k, same in pos_scores if same)
    out = {
        "data": str(DATA.relative_to(ROOT.parent)),
        "messages": len(rows),
        "pairs": dict(counts),
        "finder": {"threshold": finder.threshold, "half_life_days": finder.half_life_days,
                   "time_floor": finder.time_floor, "bonus": dict(finder.bonus), "features": "char bigrams, TF-IDF"},
        "classification": classification,
        "retrieval": retrieval,
        "pair_scoring_us": round(1e6 * pair_seconds / (len(pos_scores) + len(neg_scores)), 1),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"pairs: {dict(counts)}")
    for name in ("all", "near_duplicates_only", "vs_random", "vs_same_place"):
        m = classification[name]
        print(f"  threshold {th}: {name:>22}: precision {m['precision']:.3f} recall {m['recall']:.3f} "
              f"f1 {m['f1']:.3f}")
    print("  sweep: " + "  ".join(f"{t}: P {m['precision']:.3f} R {m['recall']:.3f}" for t, m in sweep.items()))
    print(f"retrieval (±{WINDOW_DAYS} d, top 5): recall@5 {retrieval['recall_at_5']} "
          f"precision ≥ {retrieval['precision_lower_bound']} ({retrieval['ms_per_query']} ms/query)")
    print(f"written: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
