"""The scorecard table as people and files read it: one list of columns for the page, the
Excel and CSV exports and the CLI, so that they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiesu.followup.rates import Card

LEVEL_LABELS = {"unit": _("Units"), "district": _("Districts"), "street": _("Streets and townships")}
RATE_LABELS = {
    "response": _("Response rate"),
    "resolution": _("Resolution rate"),
    "satisfaction": _("Satisfaction rate"),
    "overdue": _("Overdue rate"),
    "return": _("Return rate"),
    "extension": _("Extension rate"),
    "reopen": _("Reopen rate"),
}
COUNT_LABELS = {
    "orders": pgettext_lazy("how many", "Orders"),
    "assignments": _("Assignments"),
    "returned": _("Returned"),
    "contact_due": _("Contact due"),
    "contacted_in_time": _("Contacted in time"),
    "handling_due": _("Handling due"),
    "overdue": _("Overdue"),
    "lead_rounds": _("Lead rounds"),
    "extended": _("Extended"),
    "handled": _("Led orders"),
    "replied": _("Replied orders"),
    "reopened": _("Reopened orders"),
    "reached": _("Callbacks reached"),
    "solved": _("Solved"),
    "partly": _("Partly solved"),
    "unsolved": _("Not solved"),
    "satisfied": _("Satisfied"),
    "basic": _("Basically satisfied"),
    "unsatisfied": _("Unsatisfied"),
}


@dataclass(frozen=True)
class Column:
    id: str  # rank, key, name, score, flag, rate:<name>, count:<name>
    kind: str  # int, text, rate, count, score, flag

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[-1]

    @property
    def label(self) -> str:
        if self.kind == "rate":
            return str(RATE_LABELS[self.name])
        if self.kind == "count":
            return str(COUNT_LABELS[self.name])
        return str({"rank": _("Rank"), "key": _("Code"), "name": pgettext_lazy("of a unit or an area", "Name"), "score": _("Score"),
                    "flag": _("Remedial governance (治理类)")}[self.id])


def _cols(*ids: str) -> tuple[Column, ...]:
    kinds = {"rank": "int", "key": "text", "name": "text", "score": "score", "flag": "flag"}
    return tuple(Column(i, kinds.get(i, i.split(":")[0])) for i in ids)


COLUMNS = _cols(
    "rank", "key", "name", "count:orders",
    "rate:response", "count:contacted_in_time", "count:contact_due",
    "rate:resolution", "count:solved", "count:partly", "count:unsolved", "count:reached",
    "rate:satisfaction", "count:satisfied", "count:basic", "count:unsatisfied",
    "score",
    "rate:overdue", "count:overdue", "count:handling_due",
    "rate:return", "count:returned", "count:assignments",
    "rate:extension", "count:extended", "count:lead_rounds",
    "rate:reopen", "count:reopened", "count:replied", "count:handled",
    "flag",
)
# The page groups each rate with the counts behind it.
RATE_GROUPS = (
    ("response", ("contacted_in_time", "contact_due")),
    ("resolution", ("solved", "partly", "unsolved", "reached")),
    ("satisfaction", ("satisfied", "basic", "unsatisfied", "reached")),
    ("overdue", ("overdue", "handling_due")),
    ("return", ("returned", "assignments")),
    ("extension", ("extended", "lead_rounds")),
    ("reopen", ("reopened", "replied")),
)


def value(card: Card, col: Column) -> Any:
    """The raw value: int, float (a rate as a fraction, the score out of 100), str or None."""
    if col.id == "rank":
        return card.rank
    if col.id == "key":
        return card.key
    if col.id == "name":
        return card.name
    if col.id == "score":
        return card.score
    if col.id == "flag":
        return card.flagged
    if col.kind == "rate":
        return card.rates[col.name]
    return getattr(card.counts, col.name)


def text(raw: Any, kind: str) -> str:
    """The value as the page shows it (and the CSV writes it)."""
    if raw is None:
        return "—"
    if kind == "rate":
        return f"{raw * 100:.1f}%"
    if kind == "score":
        return f"{raw:.1f}"
    if kind == "flag":
        return "●" if raw else ""
    return str(raw)


def reasons(card: Card) -> list[str]:
    out = []
    for kind, name, threshold in card.reasons:
        if kind == "bottom":
            out.append(str(_("bottom %(n)s by score")) % {"n": int(threshold)})
        else:
            label = str(_("Score")) if name == "score" else str(RATE_LABELS[name])
            shown = f"{threshold:.1f}" if name == "score" else f"{threshold * 100:.1f}%"
            out.append(str(_("%(rate)s below %(threshold)s")) % {"rate": label, "threshold": shown})
    return out


def json_row(card: Card, *, level: str, period: str) -> dict[str, Any]:
    return {
        "level": level,
        "period": period,
        "rank": card.rank,
        "key": card.key,
        "name": card.name,
        "score": None if card.score is None else round(card.score, 4),
        "flagged": card.flagged,
        "flag_reasons": [{"rule": k, "rate": n, "threshold": t} for k, n, t in card.reasons],
        "rates": {k: (None if v is None else round(v, 6)) for k, v in card.rates.items()},
        "counts": card.counts.as_dict(),
    }
