"""Training examples from the database: what dispatchers and call-takers decided.

Every order past its draft carries the category and request type a person gave it (or
confirmed, or corrected: a dispatcher's correction changes the order's category, so corrected
orders teach the corrected label). Draft orders are unfinished and left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from jiesu.orders.states import State

TARGETS = ("category", "request_type")


def order_text(title: str, content: str) -> str:
    """The text a model sees for an order: its summary line, then the content (the opening
    words weigh more in the classifier, and the summary is the best opening)."""
    title, content = (title or "").strip(), (content or "").strip()
    if title and not content.startswith(title):
        return f"{title} {content}"
    return content


def database_examples(target: str = "category", *, level: int | None = None,
                      limit: int | None = None) -> Iterator[tuple[str, str]]:
    """(text, label) for every order that is past its draft and has the label.

    ``target="category"``: the category code (with ``level`` 1 or 2, that of its ancestor at that
    level, e.g. 大类 for a coarse model); ``"request_type"``: the request type code. Newest
    orders first, so that ``limit`` keeps the most recent practice."""
    from jiesu.catalogue.models import Category
    from jiesu.orders.models import WorkOrder

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
    orders = WorkOrder.objects.exclude(state=State.DRAFT).order_by("-received_at", "-id")
    if target == "category":
        orders = orders.filter(category__isnull=False)
        rows = orders.values_list("title", "content", "category__code", "category__path")
    else:
        orders = orders.exclude(request_type="")
        rows = orders.values_list("title", "content", "request_type", "request_type")
    if limit:
        rows = rows[:limit]
    ancestor: dict[str, str] = {}
    if target == "category" and level:
        ancestor = {path: path.split("/")[min(level, path.count("/") + 1) - 1]
                    for path in Category.objects.values_list("path", flat=True)}
    for title, content, label, path in rows.iterator(chunk_size=2000):
        text = order_text(title, content)
        if not text:
            continue
        yield text, (ancestor.get(path, label) if ancestor else label)
