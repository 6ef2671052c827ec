"""Reply quality (jiesu.insight.reply_quality) on the TipDM 2020 C replies (附件4) against the
competitors' weak labels.

    .venv/bin/python -m bench.reply_quality [--data DIR] [--json OUT]

The labels (attachment4_reply_quality_team_labels.csv) are single-annotator, not official:
- ``syu_可解释性`` (all 2,816 replies): does the reply explain the handling (0 mostly for
  "已转…处理" and "已收悉" replies that say nothing of substance);
- ``rollbear_完整性`` and ``rollbear_可解释性`` (100 replies).

What is compared with each label: the single criteria (action, result, basis, contact), "any of
action/result/basis" (the reply says something of substance) and score thresholds.
Skips with a message (exit 0) when the data is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020_c_gov_messages"
LABELS = {
    "syu_explainability": "syu_可解释性_0或1",
    "rollbear_completeness": "rollbear_完整性指标_0或1",
    "rollbear_explainability": "rollbear_可解释性指标_0或1",
}


def prf(pred: list[bool], gold: list[bool]) -> dict[str, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    tn = len(pred) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # The negative class matters here (the labels are 90 % positive): report its F1 too.
    p0 = tn / (tn + fn) if tn + fn else 0.0
    r0 = tn / (tn + fp) if tn + fp else 0.0
    f0 = 2 * p0 * r0 / (p0 + r0) if p0 + r0 else 0.0
    return {"n": len(pred), "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "accuracy": round((tp + tn) / len(pred), 3) if pred else 0.0, "f1_negative": round(f0, 3),
            "positives": tp + fn}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, default=Path("bench/results/reply_quality.json"))
    args = parser.parse_args(argv)
    replies_csv = args.data / "attachment4_replies.csv"
    labels_csv = args.data / "attachment4_reply_quality_team_labels.csv"
    if not replies_csv.exists() or not labels_csv.exists():
        print(f"skipped: {replies_csv} or {labels_csv} not found")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from jiesu.insight.reply_quality import CRITERIA, check

    with replies_csv.open(encoding="utf-8") as f:
        replies = {r["留言编号"]: r["答复意见"] for r in csv.DictReader(f)}
    with labels_csv.open(encoding="utf-8") as f:
        labels = {r["留言编号"]: r for r in csv.DictReader(f)}
    started = time.perf_counter()
    results = {key: check(text) for key, text in replies.items()}
    seconds = time.perf_counter() - started

    predictors = {c: (lambda q, c=c: q[c].met) for c in CRITERIA}
    predictors["action|result|basis"] = lambda q: q["action"].met or q["result"].met or q["basis"].met
    for t in (30, 50, 70):
        predictors[f"score>={t}"] = lambda q, t=t: q.score >= t
    report: dict = {
        "replies": len(results),
        "ms_per_reply": round(1000 * seconds / max(len(results), 1), 3),
        "criterion_rates": {c: round(sum(q[c].met for q in results.values()) / len(results), 3) for c in CRITERIA},
        "score_median": statistics.median(q.score for q in results.values()),
        "labels": {},
    }
    for name, column in LABELS.items():
        keys = [k for k in results if labels.get(k, {}).get(column, "") in ("0", "1")]
        gold = [labels[k][column] == "1" for k in keys]
        report["labels"][name] = {
            "rows": len(keys),
            "positive_rate": round(sum(gold) / len(gold), 3) if gold else None,
            "by_predictor": {p: prf([fn(results[k]) for k in keys], gold) for p, fn in predictors.items()},
        }
    print(f"{report['replies']} replies, {report['ms_per_reply']} ms each; criterion rates "
          + ", ".join(f"{c} {r:.0%}" for c, r in report["criterion_rates"].items()))
    for name, block in report["labels"].items():
        print(f"\n{name}: {block['rows']} labelled rows, {block['positive_rate']:.0%} positive")
        print(f"  {'predictor':<22} {'P':>6} {'R':>6} {'F1':>6} {'acc':>6} {'F1(neg)':>8}")
        for p, m in block["by_predictor"].items():
            print(f"  {p:<22} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['accuracy']:>6.3f}"
                  f" {m['f1_negative']:>8.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
