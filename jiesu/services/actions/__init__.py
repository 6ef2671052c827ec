"""Every write of the legal services: one function each, keyword-only, with an explicit actor;
a transaction and a row lock, the permission and state guards, the change, one append-only
event row, and side effects after the commit."""

from jiesu.services.actions.bookings import (
    book,
    cancel_booking,
    check_in,
    mark_no_shows,
    record_outcome,
    reschedule_booking,
    send_reminders,
)
from jiesu.services.actions.filing import (
    PartyInput,
    add_parties,
    decide_filing,
    open_batch,
    request_correction,
    resubmit_filing,
)
from jiesu.services.actions.hotline import dispatch_hotline_order, record_hotline_order
from jiesu.services.actions.outreach import EntryInput, SyncResult, plan_event, sync_entries

__all__ = [
    "EntryInput",
    "PartyInput",
    "SyncResult",
    "add_parties",
    "book",
    "cancel_booking",
    "check_in",
    "decide_filing",
    "dispatch_hotline_order",
    "mark_no_shows",
    "open_batch",
    "plan_event",
    "record_hotline_order",
    "record_outcome",
    "request_correction",
    "reschedule_booking",
    "resubmit_filing",
    "send_reminders",
    "sync_entries",
]
