"""The work-order lifecycle (DESIGN §3, 北京市接诉即办工作条例 Art. 10–23). Pure Python.

The table below is the only place that says which move is legal. Every service function asks
``check_move`` before it changes anything.
"""

from __future__ import annotations

import enum


class State(enum.StrEnum):
    DRAFT = "draft"
    RECEIVED = "received"
    ANSWERED = "answered"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    REPLIED = "replied"
    CALLBACK_DUE = "callback_due"
    REOPENED = "reopened"
    REFERRED = "referred"
    DECLINED = "declined"
    MERGED = "merged"
    CLOSED = "closed"


S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.DRAFT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.ANSWERED, S.DISPATCHED, S.REFERRED, S.DECLINED, S.MERGED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.RETURNED, S.MERGED}),
    S.RETURNED: frozenset({S.DISPATCHED, S.RECEIVED}),
    S.ACCEPTED: frozenset({S.REPLIED, S.RETURNED}),
    S.REPLIED: frozenset({S.CALLBACK_DUE}),
    S.CALLBACK_DUE: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.ACCEPTED}),
    S.ANSWERED: frozenset({S.CLOSED}),
    S.REFERRED: frozenset({S.CLOSED}),
    S.DECLINED: frozenset({S.CLOSED}),
    S.MERGED: frozenset(),
    # Closed is terminal; only a supervisor's recorded reopen leaves it (DESIGN §3).
    S.CLOSED: frozenset({S.REOPENED}),
}

TERMINAL = frozenset({S.MERGED, S.CLOSED})
# States in which a unit is working against a deadline.
IN_HANDLING = frozenset({S.DISPATCHED, S.ACCEPTED, S.REOPENED})
OPEN = frozenset(State) - TERMINAL


def can_move(source: State | str, target: State | str) -> bool:
    return State(target) in TRANSITIONS[State(source)]


class Outcome(enum.StrEnum):
    """The six outcomes of Art. 11 for requests that are referred or declined."""

    EMERGENCY = "emergency"  # 110/119/120/122
    LEGAL_PROCESS = "legal_process"  # litigation, arbitration, reconsideration, discipline, petitions
    DUPLICATE = "duplicate"  # a duplicate with nothing new
    SECRET = "secret"  # noqa: S105 - state secrets, trade secrets or privacy
    NO_DUTY = "no_duty"  # outside every unit's duty
    UNLAWFUL = "unlawful"  # unlawful or against public order
