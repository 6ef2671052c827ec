"""Which limit applies: the most specific configured row (pure, no database)."""

from jiesu.deadlines.calendar import Limit, LimitUnit
from jiesu.deadlines.limits import DEFAULT_TERMS, EMERGENCY_TERMS, LimitRow, pick

WD, H = LimitUnit.WORKING_DAYS, LimitUnit.HOURS
ROWS = [
    LimitRow(Limit(7, WD), 24, 2),
    LimitRow(Limit(15, WD), 24, 2, request_type="complaint"),
    LimitRow(Limit(2, H), 1, 1, urgency="emergency"),
    LimitRow(Limit(24, H), 4, 2, category_path="10"),  # utilities
    LimitRow(Limit(12, H), 2, 1, category_path="10/1001"),  # water: deeper wins
    LimitRow(Limit(3, WD), 12, 2, request_type="complaint", urgency="urgent"),
]


def terms(**kw):
    args = {"request_type": "help", "urgency": "normal", "category_path": "20/2001"} | kw
    return pick(ROWS, **args)


def test_wildcard_row_applies_when_nothing_more_specific():
    assert terms().handling == Limit(7, WD)


def test_type_beats_wildcard_and_urgency_refines():
    assert terms(request_type="complaint").handling == Limit(15, WD)
    assert terms(request_type="complaint", urgency="urgent").handling == Limit(3, WD)


def test_category_override_beats_type_and_deeper_category_wins():
    assert terms(category_path="10/1002/100201").handling == Limit(24, H)
    assert terms(category_path="10/1001/100101", request_type="complaint").handling == Limit(12, H)


def test_urgency_row_beats_category_rows():
    assert terms(category_path="10/1001/100101", urgency="emergency").handling == Limit(2, H)


def test_category_prefix_must_match_a_whole_code():
    # "100" must not match the row for "10".
    assert terms(category_path="100/1").handling == Limit(7, WD)


def test_nothing_configured_uses_the_db11_defaults():
    assert pick([], request_type="help", urgency="normal", category_path="") == DEFAULT_TERMS
    assert pick([], request_type="help", urgency="emergency", category_path="") == EMERGENCY_TERMS
