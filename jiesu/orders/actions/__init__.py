"""One function per state change of a work order (DESIGN §3).

Each one: validates input, opens a transaction, locks the order row, checks permission and
state, changes, appends one event, and schedules side effects for after the commit.
"""

from jiesu.orders.actions.dispatch import dispatch_order, requeue_order
from jiesu.orders.actions.followup import (
    add_note,
    open_callback,
    rate_order,
    record_callback,
    reopen_order,
    urge_order,
)
from jiesu.orders.actions.handling import (
    accept_assignment,
    decide_extension,
    record_contact,
    reply_to_order,
    request_extension,
    return_assignment,
)
from jiesu.orders.actions.intake import (
    RequesterInput,
    answer_order,
    close_order,
    create_order,
    decline_order,
    merge_orders,
    refer_order,
    submit_order,
)

__all__ = [
    "RequesterInput",
    "accept_assignment",
    "add_note",
    "answer_order",
    "close_order",
    "create_order",
    "decide_extension",
    "decline_order",
    "dispatch_order",
    "merge_orders",
    "open_callback",
    "rate_order",
    "record_callback",
    "record_contact",
    "refer_order",
    "reopen_order",
    "reply_to_order",
    "request_extension",
    "requeue_order",
    "return_assignment",
    "submit_order",
    "urge_order",
]
