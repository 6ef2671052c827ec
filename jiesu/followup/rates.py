"""三率 and the scorecard, from counts. Pure Python: no Django, no database.

The selectors (``jiesu.followup.selectors``) count raw rows per group; this module turns the
counts into rates, a composite score, ranks and flags. Every rate keeps the counts behind it,
and a rate whose denominator is zero is ``None`` ("no data"), never 0 % or 100 %.

Definitions (the counts are documented in ``jiesu.followup.metrics``):

- response rate      = contacted_in_time / contact_due
- resolution rate    = (solved + partly × partly_weight) / reached
- satisfaction rate  = (satisfied + basic × basic_weight) / reached
- overdue rate       = overdue / handling_due
- return rate        = returned / assignments
- extension rate     = extended / lead_rounds
- reopen rate        = reopened / replied
- score              = 100 × Σ wᵢ·rateᵢ / Σ wᵢ over response, resolution and satisfaction,
                       the sum over the rates that exist (a group with no callbacks yet is
                       scored on its response rate alone); ``None`` when none exists.

Default weights 0.30 / 0.35 / 0.35: Beijing ranks units on these three rates but does not
publish its weights; these are this project's choice, configurable in ``JIESU["SCORECARD"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace

RATES = ("response", "resolution", "satisfaction", "overdue", "return", "extension", "reopen")
SCORED = ("response", "resolution", "satisfaction")


@dataclass(frozen=True)
class Counts:
    orders: int = 0  # volume: orders received in the period (area) / orders with an assignment (unit)
    assignments: int = 0
    returned: int = 0
    contact_due: int = 0
    contacted_in_time: int = 0
    handling_due: int = 0
    overdue: int = 0
    lead_rounds: int = 0
    extended: int = 0
    handled: int = 0
    replied: int = 0
    reopened: int = 0
    reached: int = 0
    solved: int = 0
    partly: int = 0
    unsolved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def of(cls, values: Mapping[str, int | None]) -> Counts:
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v or 0) for k, v in values.items() if k in names})


COUNT_NAMES = tuple(f.name for f in fields(Counts))

# Each rate: its numerator counts (with the weight key, if weighted) and its denominator.
RATE_PARTS: dict[str, tuple[tuple[str, ...], str]] = {
    "response": (("contacted_in_time",), "contact_due"),
    "resolution": (("solved", "partly"), "reached"),
    "satisfaction": (("satisfied", "basic"), "reached"),
    "overdue": (("overdue",), "handling_due"),
    "return": (("returned",), "assignments"),
    "extension": (("extended",), "lead_rounds"),
    "reopen": (("reopened",), "replied"),
}


@dataclass(frozen=True)
class FlagRule:
    """治理类街乡: the bottom ``bottom_n`` by score, and any group with a rate (or ``score``)
    below its threshold in ``below``; only groups with at least ``min_orders`` orders."""

    bottom_n: int = 10
    min_orders: int = 5
    below: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    response_weight: float = 0.30
    resolution_weight: float = 0.35
    satisfaction_weight: float = 0.35
    partly_weight: float = 0.5  # a partly solved case counts this much of a solved one
    basic_weight: float = 1.0  # "basically satisfied" counts as satisfied: (满意 + 基本满意) / 回访
    flag: FlagRule = field(default_factory=FlagRule)

    @property
    def weights(self) -> dict[str, float]:
        return {"response": self.response_weight, "resolution": self.resolution_weight,
                "satisfaction": self.satisfaction_weight}

    @classmethod
    def from_mapping(cls, raw: Mapping | None) -> Config:
        """From ``JIESU["SCORECARD"]``: {"weights": {...}, "partly_weight", "basic_weight",
        "flag": {"bottom_n", "min_orders", "below": {rate or "score": threshold}}}."""
        raw = raw or {}
        weights = raw.get("weights") or {}
        flag = raw.get("flag") or {}
        base = cls()
        config = replace(
            base,
            response_weight=float(weights.get("response", base.response_weight)),
            resolution_weight=float(weights.get("resolution", base.resolution_weight)),
            satisfaction_weight=float(weights.get("satisfaction", base.satisfaction_weight)),
            partly_weight=float(raw.get("partly_weight", base.partly_weight)),
            basic_weight=float(raw.get("basic_weight", base.basic_weight)),
            flag=FlagRule(
                bottom_n=int(flag.get("bottom_n", base.flag.bottom_n)),
                min_orders=int(flag.get("min_orders", base.flag.min_orders)),
                below={str(k): float(v) for k, v in (flag.get("below") or {}).items()},
            ),
        )
        config.check()
        return config

    def check(self) -> None:
        ws = self.weights.values()
        if any(w < 0 for w in ws) or sum(ws) <= 0:
            raise ValueError("scorecard weights must be non-negative and not all zero")
        for w in (self.partly_weight, self.basic_weight):
            if not 0 <= w <= 1:
                raise ValueError("partly_weight and basic_weight are between 0 and 1")
        unknown = set(self.flag.below) - set(RATES) - {"score"}
        if unknown:
            raise ValueError(f"unknown rates in flag.below: {sorted(unknown)}")


def ratio(numerator: float, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def numerator(name: str, counts: Counts, config: Config) -> float:
    c = counts
    if name == "resolution":
        return c.solved + c.partly * config.partly_weight
    if name == "satisfaction":
        return c.satisfied + c.basic * config.basic_weight
    return float(getattr(c, RATE_PARTS[name][0][0]))


def rates(counts: Counts, config: Config | None = None) -> dict[str, float | None]:
    config = config or Config()
    return {name: ratio(numerator(name, counts, config), getattr(counts, RATE_PARTS[name][1]))
            for name in RATES}


def score(values: Mapping[str, float | None], config: Config | None = None) -> float | None:
    config = config or Config()
    weights = config.weights
    parts = [(weights[n], values[n]) for n in SCORED if values.get(n) is not None and weights[n] > 0]
    total = sum(w for w, _v in parts)
    if not parts or total <= 0:
        return None
    return 100.0 * sum(w * v for w, v in parts if v is not None) / total


@dataclass
class Card:
    key: str
    name: str
    counts: Counts
    rates: dict[str, float | None]
    score: float | None
    rank: int | None = None
    flagged: bool = False
    reasons: list[tuple[str, str, float]] = field(default_factory=list)  # ("bottom", "", n) / ("below", rate, t)


def card(key: str, name: str, counts: Counts, config: Config | None = None) -> Card:
    config = config or Config()
    values = rates(counts, config)
    return Card(key=key, name=name, counts=counts, rates=values, score=score(values, config))


def _score_key(value: float) -> float:
    return round(value, 9)  # equal scores tie despite float noise


def rank(cards: list[Card]) -> list[Card]:
    """Competition ranking by score, high first (1, 2, 2, 4); groups without a score come
    last, unranked. Ties and the unranked keep the order of their keys."""
    scored = sorted((c for c in cards if c.score is not None), key=lambda c: (-_score_key(c.score or 0), c.key))
    unscored = sorted((c for c in cards if c.score is None), key=lambda c: c.key)
    previous: float | None = None
    position = 0
    for i, c in enumerate(scored, start=1):
        value = _score_key(c.score or 0)
        if value != previous:
            position, previous = i, value
        c.rank = position
    for c in unscored:
        c.rank = None
    return scored + unscored


def flag(cards: list[Card], rule: FlagRule) -> list[Card]:
    """Mark the groups for remedial governance. ``cards`` must be ranked."""
    eligible = [c for c in cards if c.rank is not None and c.counts.orders >= rule.min_orders]
    if rule.bottom_n > 0 and eligible:
        worst_rank = sorted((c.rank or 0 for c in eligible), reverse=True)
        cutoff = worst_rank[min(rule.bottom_n, len(worst_rank)) - 1]
        for c in eligible:
            if (c.rank or 0) >= cutoff:
                c.flagged = True
                c.reasons.append(("bottom", "", float(rule.bottom_n)))
    for c in eligible:
        for name, threshold in rule.below.items():
            value = c.score if name == "score" else c.rates.get(name)
            if value is not None and value < threshold:
                c.flagged = True
                c.reasons.append(("below", name, threshold))
    return cards


def table(rows: Iterable[tuple[str, str, Counts]], config: Config | None = None, *, flags: bool = False) -> list[Card]:
    """Cards for (key, name, counts) rows, ranked, and flagged when asked."""
    config = config or Config()
    cards = rank([card(k, n, c, config) for k, n, c in rows])
    return flag(cards, config.flag) if flags else cards


def total(cards: Iterable[Card], config: Config | None = None, *, key: str = "", name: str = "") -> Card:
    """One card for the sum of the groups' counts (the whole city)."""
    counts = Counts()
    for c in cards:
        counts = counts + c.counts
    return card(key, name, counts, config)
