"""Reads of the smart-dispatch data: dispatchers' corrections as training examples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jiesu.dispatch.models import CorrectionField, TriageCorrection


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    number: str = ""


def correction_examples(field: str = CorrectionField.CATEGORY, *, limit: int | None = None) -> list[Example]:
    """(order text, the label the dispatcher chose) for each correction of ``field`` — the
    latest correction per order wins. Category corrections train the category model."""
    return list(iter_correction_examples(field, limit=limit))


def iter_correction_examples(field: str = CorrectionField.CATEGORY, *, limit: int | None = None) -> Iterator[Example]:
    seen: set[int] = set()
    rows = TriageCorrection.objects.filter(field=field).order_by("-at", "-id").values_list(
        "order_id", "order__number", "order__title", "order__content", "chosen")
    count = 0
    for order_id, number, title, content, chosen in rows.iterator(chunk_size=2000):
        if order_id in seen:
            continue
        seen.add(order_id)
        yield Example(text=f"{title}。{content}" if title else content, label=chosen, number=number)
        count += 1
        if limit is not None and count >= limit:
            return


def machine_labelled_order_ids():
    """Orders whose category only the system chose (auto-dispatched on a predicted category,
    never dispatched again by a person): a model should not learn from its own guesses. For
    ``jiesu.learning.sources.database_examples``:
    ``orders.exclude(pk__in=machine_labelled_order_ids())``."""
    from jiesu.dispatch.models import TriageSuggestion
    from jiesu.orders.models import Event

    by_people = Event.objects.filter(code="dispatched", actor__isnull=False).values("order_id")
    return (
        TriageSuggestion.objects.filter(auto_dispatched=True)
        .exclude(result__category__source="given")
        .exclude(order_id__in=by_people)
        .values("order_id")
    )
