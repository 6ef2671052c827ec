"""Why the TipDM macro-F1 stops near 0.93: the learning curve, the labels of near-identical
messages, and raw against segmented text in the honest hold-out.

    JIESU_SHARED_DATA=../shared/data .venv/bin/python -m bench.triage_tipdm_curve

1. Learning curve: the same 5 stratified folds as ``bench.triage_tipdm``, each training fold cut
   to 50 %, 75 % and 100 % of its rows (a seeded shuffle per fold), for Jiesu's classifier and the
   plain baseline (TF-IDF over the same words + ``LinearSVC()``). If the curve is flat at the top,
   more messages labelled the same way — weak labels from the government replies of 附件4,
   self-training on the unlabelled pool — cannot add much.
2. Label agreement of near-duplicates: every training message's most similar other message
   (cosine over TF-IDF of the words); among pairs above 0.8 and 0.9, the share whose labels
   differ. Two almost identical messages with different labels cap what any model can score.
3. The honest hold-out (the sample's messages taken out of training) predicted from the sample's
   raw text and from the training file's segmented text of the same messages: if both score alike,
   the gap between the hold-out and cross-validation is in the messages, not in the segmentation.

Writes ``bench/results/triage_tipdm_curve.json``; without the data it says so and exits 0.
About 5 minutes on one core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "triage_tipdm_curve.json"
SHARES = (0.5, 0.75, 1.0)


def learning_curve(X: list[str], y: list[str], models: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    scores: dict[str, dict[float, list[float]]] = {name: {s: [] for s in SHARES} for name in models}
    for k, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
        order = list(tr)
        random.Random(k).shuffle(order)
        for share in SHARES:
            rows = order[: int(len(order) * share)]
            for name, factory in models.items():
                model = factory().fit([X[i] for i in rows], [y[i] for i in rows])
                pred = [p.label for p in model.predict([X[i] for i in te])]
                scores[name][share].append(float(f1_score([y[i] for i in te], pred, average="macro")))
        print(f"  fold {k}: " + "; ".join(
            f"{name} " + " ".join(f"{s:.0%} {scores[name][s][-1]:.4f}" for s in SHARES) for name in models), flush=True)
    out: dict[str, Any] = {}
    for name in models:
        out[name] = {f"{s:.2f}": {"macro_f1": round(float(np.mean(v)), 4), "macro_f1_std": round(float(np.std(v)), 4),
                                  "train_rows": int(len(X) * 0.8 * s)} for s, v in scores[name].items()}
    return out


def near_duplicate_labels(X: list[str], y: list[str]) -> dict[str, Any]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    M = TfidfVectorizer(analyzer=str.split, sublinear_tf=True).fit_transform(X)
    best = np.zeros(len(X))
    partner = np.zeros(len(X), dtype=np.int64)
    for start in range(0, len(X), 1000):
        sims = (M[start : start + 1000] @ M.T).toarray()
        for j in range(sims.shape[0]):
            sims[j, start + j] = -1.0  # not itself
        partner[start : start + 1000] = sims.argmax(axis=1)
        best[start : start + 1000] = sims.max(axis=1)
    out: dict[str, Any] = {}
    for cut in (0.8, 0.9, 0.95):
        idx = np.flatnonzero(best >= cut)
        differ = sum(1 for i in idx if y[i] != y[partner[i]])
        out[f"{cut:.2f}"] = {"messages": int(len(idx)), "label_differs": differ,
                             "share_differs": round(differ / len(idx), 4) if len(idx) else None}
    return out


def raw_against_segmented(train: list[dict[str, str]], sample: list[dict[str, str]], factory: Any) -> dict[str, Any]:
    from bench.triage_tipdm import scores

    ids = {r["留言编号"] for r in sample}
    seen = [r for r in train if r["留言编号_若可匹配"] not in ids]
    segmented = {}
    for r in train:
        if r["留言编号_若可匹配"] in ids:
            segmented.setdefault(r["留言编号_若可匹配"], r["分词文本"])
    both = [r for r in sample if r["留言编号"] in segmented]
    model = factory().fit([r["分词文本"] for r in seen], [r["一级标签"] for r in seen])
    gold = [r["一级标签"] for r in both]
    raw = [p.label for p in model.predict([r["留言主题"] + " " + r["留言详情"] for r in both])]
    seg = [p.label for p in model.predict([segmented[r["留言编号"]] for r in both])]
    return {"messages": len(both), "train_rows": len(seen), "raw_text": scores(gold, raw),
            "segmented_text": scores(gold, seg),
            "predictions_agree": round(sum(a == b for a, b in zip(raw, seg, strict=True)) / len(both), 4)}


def main() -> int:
    from bench.triage_tipdm import Baseline, data_dir, read

    d = data_dir()
    if not (d / "train_segmented_labeled.csv").is_file():
        print(f"triage_tipdm_curve: skipped, the TipDM data is not at {d} (set JIESU_SHARED_DATA)")
        return 0
    sys.path.insert(0, str(ROOT))
    from jiesu.triage.classifier import TextClassifier

    train = read(d / "train_segmented_labeled.csv")
    sample = read(d / "sample_fulltext_labeled.csv")
    X = [r["分词文本"] for r in train]
    y = [r["一级标签"] for r in train]
    result: dict[str, Any] = {"data": str(d), "train_rows": len(X)}
    print(f"TipDM 2020 C: learning curve over {len(X)} messages (5 folds; 50/75/100 % of each training fold)")
    result["learning_curve"] = learning_curve(X, y, {"baseline": Baseline, "jiesu": TextClassifier})
    for name, curve in result["learning_curve"].items():
        print(f"  {name:9s} " + "  ".join(f"{k}: {v['macro_f1']:.4f} ± {v['macro_f1_std']:.4f}" for k, v in curve.items()))
    jiesu = result["learning_curve"]["jiesu"]
    result["ratios_to_baseline"] = {k: round(v["macro_f1"] / result["learning_curve"]["baseline"][k]["macro_f1"], 4)
                                    for k, v in jiesu.items()}
    print("  ratio to the baseline: " + ", ".join(f"{k} {v:.3f}×" for k, v in result["ratios_to_baseline"].items()))
    result["near_duplicate_labels"] = near_duplicate_labels(X, y)
    for cut, v in result["near_duplicate_labels"].items():
        print(f"  most similar other message at cosine ≥ {cut}: {v['messages']} messages, "
              f"label differs for {v['label_differs']} ({v['share_differs']})")
    result["holdout_raw_vs_segmented"] = raw_against_segmented(train, sample, TextClassifier)
    h = result["holdout_raw_vs_segmented"]
    print(f"  honest hold-out, {h['messages']} messages: raw text macro-F1 {h['raw_text']['macro_f1']:.4f}, "
          f"segmented text {h['segmented_text']['macro_f1']:.4f}; predictions agree {h['predictions_agree']:.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
