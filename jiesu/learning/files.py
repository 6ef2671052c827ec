"""What the ``train``, ``classify`` and ``evaluate`` commands share: reading texts and labels from
a file, finding the model store, and turning file problems into clear command errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from jiesu.learning.tabular import TableError, columns, read_rows, value
from jiesu.triage.store import ModelStore


def store() -> ModelStore:
    return ModelStore(settings.DATA_DIR)


def column_spec(spec: str, header: list[str]) -> str | list[str]:
    """A column name, or several joined by '+' (e.g. 留言主题+留言详情: title then detail)."""
    if spec in header or "+" not in spec:
        return spec
    return [part.strip() for part in spec.split("+") if part.strip()]


def rows(path: str, wanted: dict[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(index, {option: value}) for each data row (index 0 = the first row after the header)."""
    try:
        header, data = read_rows(Path(path))
        pos = columns(header, {k: column_spec(v, header) for k, v in wanted.items()}, path)
    except TableError as exc:
        raise CommandError(str(exc)) from exc
    try:
        for i, row in enumerate(data):
            yield i, {k: value(row, p) for k, p in pos.items()}
    except TableError as exc:
        raise CommandError(str(exc)) from exc


def labelled(path: str, text: str, label: str) -> tuple[list[str], list[str], int]:
    """Texts and labels of a file; rows missing either are skipped and counted."""
    texts, labels, skipped = [], [], 0
    for _i, row in rows(path, {"--text": text, "--label": label}):
        if row["--text"] and row["--label"]:
            texts.append(row["--text"])
            labels.append(row["--label"])
        else:
            skipped += 1
    if not texts:
        raise CommandError(f"{path}: no row has both a text and a label")
    return texts, labels, skipped


def texts_of(path: str, text: str) -> list[str]:
    return [row["--text"] for _i, row in rows(path, {"--text": text}) if row["--text"]]
