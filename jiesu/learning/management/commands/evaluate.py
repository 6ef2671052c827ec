"""jiesu evaluate --model NAME --file F --text C --label C [--folds 5] [--json OUT]

By default, stratified k-fold cross-validation on the file with the settings of model NAME (or
the defaults when there is no such model yet): how well would this kind of model learn these
labels? With --stored, the stored model itself is measured on the file as it is (a hold-out
check of what is in service). Prints macro-F1, accuracy, per-class precision/recall, the
confusion matrix, training time, predictions per second, model size, calibration and the
auto-dispatch threshold, and writes all of it as JSON with --json.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiesu.learning import files
from jiesu.triage.classifier import TextClassifier
from jiesu.triage.evaluation import cross_validate, evaluate_model


class Command(BaseCommand):
    help = "Measure a text classifier on a labelled CSV or .xlsx file (k-fold, or the stored model as it is)."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True)
        parser.add_argument("--file", required=True)
        parser.add_argument("--text", required=True, help="text column (several joined with '+')")
        parser.add_argument("--label", required=True)
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--stored", action="store_true", help="measure the stored model, no training")
        parser.add_argument("--precision", type=float, default=0.97,
                            help="precision the auto-dispatch threshold must reach (default 0.97)")
        parser.add_argument("--json", dest="json_out", help="write the metrics to this JSON file")

    def handle(self, *args, **opts):
        if opts["folds"] < 2:
            raise CommandError("--folds must be at least 2")
        texts, labels, skipped = files.labelled(opts["file"], opts["text"], opts["label"])
        found = files.store().latest(opts["model"])
        if opts["stored"]:
            if found is None:
                raise CommandError(f"no usable model {opts['model']!r}; train one with `jiesu train`")
            result = evaluate_model(found[1], texts, labels, precision_target=opts["precision"],
                                    extra={"model": opts["model"], "version": found[0]})
        else:
            settings = found[1].settings if found else None
            try:
                result = cross_validate(texts, labels, folds=opts["folds"], precision_target=opts["precision"],
                                        factory=partial(TextClassifier, settings))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            result["model_settings_from"] = f"{opts['model']} {found[0]}" if found else "defaults"
        result["file"] = opts["file"]
        result["rows_skipped"] = skipped
        self._print(result)
        if opts["json_out"]:
            Path(opts["json_out"]).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
            self.stdout.write(f"written to {opts['json_out']}")

    def _print(self, r: dict[str, Any]) -> None:
        w = self.stdout.write
        w(f"{r['mode']} on {r['n']} texts ({r['file']})")
        if r.get("left_out"):
            rare = sorted(r["left_out"].items(), key=lambda kv: (-kv[1], kv[0]))
            names = ", ".join(f"{label} ({n})" for label, n in rare[:10]) + (" …" if len(rare) > 10 else "")
            n = sum(r["left_out"].values())
            w(f"left out: {len(rare)} label{'s' if len(rare) > 1 else ''} with fewer texts than folds "
              f"({n} text{'s' if n > 1 else ''}): {names}")
        w(f"macro-F1 {r['macro_f1']:.4f}   accuracy {r['accuracy']:.4f}"
          + (f"   (folds: {', '.join(f'{v:.4f}' for v in r['macro_f1_folds'])})" if "macro_f1_folds" in r else ""))
        if "train_seconds_per_fold" in r:
            w(f"training {r['train_seconds_per_fold']} s per fold of {r['train_samples_per_fold']} texts")
        w(f"{r['predictions_per_second']} predictions/s; model file {r['model_bytes'] / 1e6:.1f} MB")
        cal, auto = r.get("calibration", {}), r.get("auto_dispatch", {})
        if cal:
            w(f"calibration error (ECE) {cal['ece']:.4f}")
        if auto:
            if auto.get("threshold") is None:
                w(f"no confidence threshold reaches precision {auto['precision_target']}")
            else:
                w(f"auto-dispatch at confidence >= {auto['threshold']}: precision {auto['precision']}, "
                  f"covers {auto['coverage']:.1%} of texts")
        w("")
        width = max([len(lab) for lab in r["per_class"]] + [5])
        w(f"{'label':<{width}}  precision  recall     f1  support")
        for lab, m in r["per_class"].items():
            w(f"{lab:<{width}}  {m['precision']:9.4f}  {m['recall']:6.4f}  {m['f1']:.4f}  {m['support']:7d}")
        labels, matrix = r["confusion"]["labels"], r["confusion"]["matrix"]
        if len(labels) <= 30:
            w("")
            w("confusion matrix (rows: true, columns: predicted, in the order above)")
            for lab, row in zip(labels, matrix, strict=True):
                w(f"{lab:<{width}}  " + " ".join(f"{v:5d}" for v in row))
