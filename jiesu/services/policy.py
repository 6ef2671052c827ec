"""Who may do what at the legal services. A role is held in a unit and reaches that unit and
the units below it (a justice bureau's staff serve its notary offices)."""

from __future__ import annotations

from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.org.models import Unit

R = Role
# Booking on a caller's behalf (the call-taker at the desk, outreach staff on site).
BOOK_FOR_OTHERS = frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR, R.OUTREACH, R.SERVICE_STAFF})
STATS = frozenset({R.ANALYST, R.SUPERVISOR, R.SERVICE_STAFF, R.OUTREACH, R.UNIT_LEAD})
# A specialised hotline's queue (12309, 12348…) is the centre's work: recording its calls and
# dispatching them to the hotline's units, as on the 12345 desk.
HOTLINE_DESK = frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR})


def _reaches(actor: Actor, unit: Unit, roles: frozenset[str]) -> bool:
    if actor.is_admin:
        return True
    return any(g.role in roles and (unit.path == g.unit_path or unit.path.startswith(g.unit_path + "/"))
               for g in actor.grants)


def may_serve(actor: Actor, unit: Unit) -> bool:
    """Check-in, outcomes and the day's list of a point of this unit (窗口人员)."""
    return _reaches(actor, unit, frozenset({R.SERVICE_STAFF, R.UNIT_LEAD}))


def may_book_for_others(actor: Actor) -> bool:
    return actor.has_role(*BOOK_FOR_OTHERS)


def may_run_outreach(actor: Actor, unit: Unit) -> bool:
    """Plan an event of this unit and enter its requests."""
    return _reaches(actor, unit, frozenset({R.OUTREACH, R.UNIT_LEAD}))


def may_file(actor: Actor, court: Unit) -> bool:
    """Take and decide circuit filings of this court."""
    return _reaches(actor, court, frozenset({R.SERVICE_STAFF, R.OUTREACH, R.UNIT_LEAD}))


def may_take_hotline_calls(actor: Actor) -> bool:
    """Open a specialised hotline's queue: record its calls, dispatch them, print the slips."""
    return actor.has_role(*HOTLINE_DESK)


def may_see_stats(actor: Actor) -> bool:
    return actor.has_role(*STATS)


def may_use_desk(actor: Actor) -> bool:
    return actor.has_role(*(BOOK_FOR_OTHERS | STATS | {R.UNIT_LEAD}))
