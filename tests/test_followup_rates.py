"""三率 arithmetic (jiesu.followup.rates) and reporting periods (jiesu.followup.periods): pure
Python, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu.followup import periods, rates
from jiesu.followup.rates import Config, Counts, FlagRule


def test_zero_denominators_give_no_rate_and_no_score():
    values = rates.rates(Counts())
    assert values == {name: None for name in rates.RATES}
    assert rates.score(values) is None
    card = rates.card("x", "X", Counts())
    assert card.score is None


def test_every_rate_is_its_numerator_over_its_denominator():
    c = Counts(orders=20, assignments=10, returned=2, contact_due=8, contacted_in_time=6, handling_due=5, overdue=1,
               lead_rounds=9, extended=3, handled=7, replied=6, reopened=2, reached=4, solved=2, partly=1,
               unsolved=1, satisfied=1, basic=2, unsatisfied=1)
    config = Config(partly_weight=0.5, basic_weight=0.8)
    r = rates.rates(c, config)
    assert r["response"] == pytest.approx(6 / 8)
    assert r["resolution"] == pytest.approx((2 + 0.5) / 4)
    assert r["satisfaction"] == pytest.approx((1 + 2 * 0.8) / 4)
    assert r["overdue"] == pytest.approx(1 / 5)
    assert r["return"] == pytest.approx(2 / 10)
    assert r["extension"] == pytest.approx(3 / 9)
    assert r["reopen"] == pytest.approx(2 / 6)
    expected = 100 * (0.30 * 6 / 8 + 0.35 * 2.5 / 4 + 0.35 * 2.6 / 4) / 1.0
    assert rates.score(r, config) == pytest.approx(expected)


def test_score_uses_only_the_rates_that_have_data():
    # No callback reached yet: scored on the response rate alone (weights renormalised).
    values = rates.rates(Counts(contact_due=4, contacted_in_time=3))
    assert values["resolution"] is None and values["satisfaction"] is None
    assert rates.score(values) == pytest.approx(75.0)
    # A zero weight drops a rate from the score.
    config = Config(response_weight=0, resolution_weight=1, satisfaction_weight=1)
    both = rates.rates(Counts(contact_due=4, contacted_in_time=0, reached=2, solved=2, satisfied=1, unsatisfied=1))
    assert rates.score(both, config) == pytest.approx(100 * (1.0 + 0.5) / 2)


def test_default_weights_are_documented_values():
    config = Config()
    assert config.weights == {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}
    assert config.partly_weight == 0.5 and config.basic_weight == 1.0


def test_config_from_settings_mapping_and_its_checks():
    config = Config.from_mapping({"weights": {"response": 0.2, "resolution": 0.4, "satisfaction": 0.4},
                                  "partly_weight": 0.6, "basic_weight": 0.9,
                                  "flag": {"bottom_n": 3, "min_orders": 1, "below": {"satisfaction": 0.8}}})
    assert config.response_weight == 0.2 and config.partly_weight == 0.6 and config.basic_weight == 0.9
    assert config.flag == FlagRule(bottom_n=3, min_orders=1, below={"satisfaction": 0.8})
    assert Config.from_mapping(None) == Config()
    with pytest.raises(ValueError):
        Config.from_mapping({"weights": {"response": 0, "resolution": 0, "satisfaction": 0}})
    with pytest.raises(ValueError):
        Config.from_mapping({"basic_weight": 1.5})
    with pytest.raises(ValueError):
        Config.from_mapping({"flag": {"below": {"happiness": 0.5}}})


def _cards(scores: dict[str, float | None], orders: int = 10) -> list[rates.Card]:
    out = []
    for key, s in scores.items():
        counts = Counts(orders=orders) if s is None else Counts(orders=orders, contact_due=100,
                                                                  contacted_in_time=int(s))
        out.append(rates.card(key, key.upper(), counts))
    return out


def test_ranking_is_competition_ranking_with_unscored_last():
    ranked = rates.rank(_cards({"a": 50, "b": 90, "c": 90, "d": None, "e": 10}))
    assert [(c.key, c.rank) for c in ranked] == [("b", 1), ("c", 1), ("a", 3), ("e", 4), ("d", None)]


def test_flags_bottom_n_and_thresholds_among_groups_with_enough_orders():
    cards = rates.rank(_cards({"a": 95, "b": 80, "c": 60, "d": 40}) + [
        rates.card("tiny", "Tiny", Counts(orders=1, contact_due=1, contacted_in_time=0))])
    rates.flag(cards, FlagRule(bottom_n=2, min_orders=5))
    assert {c.key for c in cards if c.flagged} == {"c", "d"}  # "tiny" is last but has too few orders
    cards = rates.rank(_cards({"a": 95, "b": 80, "c": 60}))
    rates.flag(cards, FlagRule(bottom_n=0, min_orders=0, below={"response": 0.85, "score": 70}))
    flagged = {c.key: c.reasons for c in cards if c.flagged}
    assert set(flagged) == {"b", "c"}
    assert ("below", "score", 70) in flagged["c"] and ("below", "response", 0.85) in flagged["b"]


def test_ties_at_the_cutoff_are_all_flagged():
    cards = rates.rank(_cards({"a": 90, "b": 50, "c": 50}))
    rates.flag(cards, FlagRule(bottom_n=1, min_orders=0))
    assert {c.key for c in cards if c.flagged} == {"b", "c"}


def test_counts_add_up():
    total = rates.total([rates.card("a", "A", Counts(orders=2, reached=1, satisfied=1)),
                         rates.card("b", "B", Counts(orders=3, reached=1, unsatisfied=1))])
    assert total.counts.orders == 5 and total.rates["satisfaction"] == pytest.approx(0.5)


@pytest.mark.parametrize(("text", "kind", "start", "end"), [
    ("2026-03-05", "day", dt.date(2026, 3, 5), dt.date(2026, 3, 6)),
    ("2026-02", "month", dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    ("2026-12", "month", dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
    ("2026-Q4", "quarter", dt.date(2026, 10, 1), dt.date(2027, 1, 1)),
    ("2026q1", "quarter", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
    ("2026", "year", dt.date(2026, 1, 1), dt.date(2027, 1, 1)),
])
def test_periods_parse_and_bound_in_beijing_time(text, kind, start, end):
    p = periods.parse(text)
    assert (p.kind, p.start, p.end) == (kind, start, end)
    assert periods.parse(p.key) == p
    lo, hi = p.bounds()
    assert lo.utcoffset() == dt.timedelta(hours=8) and lo.date() == start and hi.date() == end


def test_period_shift_and_containing():
    assert periods.parse("2026-01").shift(-1).key == "2025-12"
    assert periods.parse("2026-Q1").shift(1).key == "2026-Q2"
    assert periods.parse("2026-02-28").shift(1).key == "2026-03-01"
    # 2026-01-31 17:00 UTC is already February 1st in Beijing.
    moment = dt.datetime(2026, 1, 31, 17, 0, tzinfo=dt.UTC)
    assert periods.containing("month", moment).key == "2026-02"
    assert periods.containing("quarter", moment).key == "2026-Q1"


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-02-30", "March", "2026-Q5"])
def test_bad_periods_are_refused(bad):
    with pytest.raises(periods.PeriodError):
        periods.parse(bad)
