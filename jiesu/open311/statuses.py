"""Jiesu's order states in Open311 terms, both ways (pure Python).

GeoReport v2 knows only ``open`` and ``closed``; the detailed status (``extensions=true`` and
the servicerequestupdates extension) uses mySociety's extended statuses, which map almost one
to one onto the 12345 loop (受理/办理中/已排期/办结/退单/转办/重办).
"""

from __future__ import annotations

# A request is "closed" for Open311 once the centre has finished with it: handled and called
# back, answered on the spot, referred to 110/courts…, declined, or merged into another.
CLOSED_STATES = frozenset({"closed", "merged", "answered", "referred", "declined"})

DETAILED = {
    "draft": "OPEN",
    "received": "OPEN",
    "dispatched": "INVESTIGATING",
    "returned": "FOR_TRIAGE",
    "accepted": "IN_PROGRESS",
    "replied": "FIXED",
    "callback_due": "FIXED",
    "reopened": "REOPEN",
    "answered": "NO_FURTHER_ACTION",
    "referred": "NOT_COUNCILS_RESPONSIBILITY",
    "declined": "NO_FURTHER_ACTION",
    "merged": "DUPLICATE",
    "closed": "CLOSED",
}

EXTENDED_STATUSES = frozenset({
    "OPEN", "INVESTIGATING", "IN_PROGRESS", "ACTION_SCHEDULED", "FIXED", "CLOSED", "CANCELLED", "REOPEN",
    "DUPLICATE", "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "FOR_TRIAGE",
})


def open_closed(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def detailed(state: str) -> str:
    return DETAILED.get(state, "OPEN")


# What a unit's system reports about the request Jiesu sent it → what Jiesu records on the
# unit's assignment: "accept" (签收), "reply" (答复: done), "return" (退单: not ours), "note".
REMOTE_ACTIONS = {
    "INVESTIGATING": "accept",
    "IN_PROGRESS": "accept",
    "ACTION_SCHEDULED": "accept",
    "FIXED": "reply",
    "CLOSED": "reply",
    "NO_FURTHER_ACTION": "reply",
    "NOT_COUNCILS_RESPONSIBILITY": "return",
    "INTERNAL_REFERRAL": "return",
}


def remote_action(status: str) -> str:
    """``status`` as a unit's system sends it (``closed``, ``FIXED``, ``in_progress``…)."""
    return REMOTE_ACTIONS.get((status or "").strip().upper(), "note")
