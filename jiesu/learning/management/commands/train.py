"""jiesu train: fit a triage classifier and store it as a new version.

    jiesu train --file F.csv|F.xlsx --text COLUMN --label COLUMN --model NAME
    jiesu train [--target category|request_type] [--level N]      # from the database's own orders

A running server picks the new version up without a restart (jiesu.triage.store).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from jiesu.learning import files
from jiesu.learning.sources import TARGETS, database_examples
from jiesu.triage.classifier import TextClassifier

MIN_EXAMPLES = 20


class Command(BaseCommand):
    help = "Train a text classifier (category, request type, any label) and store a new version."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="CSV or .xlsx with a header row; without it: the database's orders")
        parser.add_argument("--text", help="text column (several joined with '+', e.g. 主题+详情)")
        parser.add_argument("--label", help="label column")
        parser.add_argument("--model", help="model name (default: the --target)")
        parser.add_argument("--target", choices=TARGETS, default="category",
                            help="without --file: what to learn from the orders (default: category)")
        parser.add_argument("--level", type=int, choices=(1, 2, 3),
                            help="with --target category: learn the ancestor at this level")
        parser.add_argument("--unlabelled", help="file of unlabelled texts (same --text column) for self-training")
        parser.add_argument("--keep", type=int, default=10, help="versions to keep (default 10; 0: all)")
        parser.add_argument("--no-activate", action="store_true", help="store without making it current")
        parser.add_argument("--json", action="store_true", help="print the model's info as JSON")

    def handle(self, *args, **opts):
        name = opts["model"] or opts["target"]
        if opts["file"]:
            if not opts["text"] or not opts["label"]:
                raise CommandError("--file needs --text COLUMN and --label COLUMN")
            texts, labels, skipped = files.labelled(opts["file"], opts["text"], opts["label"])
            source = opts["file"]
        else:
            if opts["text"] or opts["label"]:
                raise CommandError("--text and --label go with --file")
            pairs = list(database_examples(opts["target"], level=opts["level"]))
            texts, labels, skipped = [t for t, _ in pairs], [lab for _, lab in pairs], 0
            source = f"database ({opts['target']})"
        if len(texts) < MIN_EXAMPLES or len(set(labels)) < 2:
            raise CommandError(f"not enough training data in {source}: {len(texts)} examples with "
                               f"{len(set(labels))} labels (need {MIN_EXAMPLES} and 2)")
        unlabelled = files.texts_of(opts["unlabelled"], opts["text"]) if opts["unlabelled"] else []
        try:
            model = TextClassifier().fit(texts, labels, unlabelled=unlabelled)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        model.info["source"] = source
        try:
            version = files.store().save(name, model, activate=not opts["no_activate"], keep=opts["keep"] or None)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot store the model: {exc}") from exc
        info = model.info
        if opts["json"]:
            self.stdout.write(json.dumps(info, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"model {name} version {version}: {info['n_samples']} examples, {len(info['classes'])} labels, "
            f"trained in {info['train_seconds']} s, {info.get('size_bytes', 0) / 1e6:.1f} MB"
            + (f"; {skipped} rows without text or label skipped" if skipped else "")
            + (f"; {info['n_pseudo_labelled']} pseudo-labelled" if unlabelled else "")
        )
