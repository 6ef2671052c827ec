"""jiesu classify --model NAME --file F --text COLUMN: one JSON line per row,
{"index", "label", "confidence"} (or {"index", "error"} for a row that cannot be classified; the
run goes on). ``index`` counts data rows from 0 (the row after the header)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from jiesu.learning import files
from jiesu.triage.classifier import TextClassifier
from jiesu.triage.text import has_chinese, normalise

BATCH = 512


class Command(BaseCommand):
    help = "Classify the texts of a CSV or .xlsx file with a stored model; JSON lines out."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True)
        parser.add_argument("--model-version", help="a stored version (default: the current one)")
        parser.add_argument("--file", required=True)
        parser.add_argument("--text", required=True, help="text column (several joined with '+')")
        parser.add_argument("--explain", action="store_true", help="add the deciding words and alternatives")
        parser.add_argument("--output", help="write the JSON lines here instead of standard output")

    def handle(self, *args, **opts):
        model = self._model(opts["model"], opts["model_version"])
        out = open(opts["output"], "w", encoding="utf-8") if opts["output"] else None  # noqa: SIM115
        try:
            self._run(model, opts, out)  # `… | head`: the reader's early exit is handled in jiesu.cli
        finally:
            if out:
                out.close()

    def _model(self, name: str, version: str | None) -> TextClassifier:
        store = files.store()
        try:
            if version:
                return store.load(name, version)
            found = store.latest(name)
        except Exception as exc:  # a damaged pickle raises anything
            raise CommandError(f"model {name!r} {version or ''} cannot be loaded: {exc}") from exc
        if found is None:
            known = ", ".join(store.versions(name)) or "none"
            raise CommandError(f"no usable model {name!r} under {store.root / 'models'} (versions: {known}); "
                               "train one with `jiesu train`")
        return found[1]

    def _run(self, model: TextClassifier, opts, out) -> None:
        write = (lambda line: out.write(line + "\n")) if out else (lambda line: self.stdout.write(line))
        # (index, text to classify, or None with the error) in file order, written in that order
        pending: list[tuple[int, str | None, str]] = []

        def flush() -> None:
            todo = [t for _i, t, _e in pending if t is not None]
            try:
                preds: list = list(model.predict(todo))
            except Exception:  # one bad text must not fail its batch: retry one by one
                preds = []
                for one in todo:
                    try:
                        preds.append(model.predict(one))
                    except Exception as exc:
                        preds.append(exc)
            it = iter(preds)
            for i, t, problem in pending:
                error = problem
                p = next(it) if t is not None else None
                if isinstance(p, Exception):
                    error = f"{type(p).__name__}: {p}"
                elif p is not None and not p.label:
                    error = "no known words in the text"
                if error or p is None:
                    write(json.dumps({"index": i, "error": error}, ensure_ascii=False))
                    continue
                row = {"index": i, "label": p.label, "confidence": round(p.confidence, 4)}
                if opts["explain"]:
                    row["words"] = p.words
                    row["alternatives"] = [[lab, c] for lab, c in p.alternatives[:5]]
                write(json.dumps(row, ensure_ascii=False))
            pending.clear()

        for i, row in files.rows(opts["file"], {"--text": opts["text"]}):
            text = normalise(row["--text"])
            if not text:
                pending.append((i, None, "empty text"))
            elif not has_chinese(text):
                pending.append((i, None, "no Chinese in the text"))
            else:
                pending.append((i, text, ""))
            if len(pending) >= BATCH:
                flush()
        flush()
        if out is None:
            sys.stdout.flush()
