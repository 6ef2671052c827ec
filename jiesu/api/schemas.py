"""What goes in and comes out of the REST API.

Input schemas check shape and type only (and refuse characters no database column can hold);
the rules of the domain (lengths, choices, codes, phones) stay in the service functions, which
answer in the user's language with the offending field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# One scan in C, not a Python generator per character (every text of every request passes here).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> str:
    """NUL and lone surrogates fit in no text column (PostgreSQL refuses NUL, SQLite's driver
    cannot encode a surrogate): refuse them here rather than fail in the database."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    if _SURROGATE.search(value):
        raise ValueError("contains an unpaired surrogate")
    return value


Text = Annotated[str, AfterValidator(_storable)]


class In(BaseModel):
    """An input: plain pydantic, not ninja's ``Schema``. ``Schema`` reads its input through a
    wrapper meant for model instances (``DjangoGetter``) and, with ``extra="forbid"``, validates
    it twice; a request body is a dict (issue 8: that wrapper was about 8 % of the
    acknowledgement's time under cProfile, session 9)."""

    # A misspelt field is a mistake worth telling the client about, not something to ignore.
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- input: intake


class RequesterIn(In):
    name: Text = ""
    phone: Text
    confidential: bool = False


class OrderCreateIn(In):
    request_type: Text
    channel: Text = "api"
    urgency: Text = "normal"
    title: Text = ""
    content: Text
    address: Text = ""
    latitude: float | None = None
    longitude: float | None = None
    category: Text | None = Field(None, description="category code")
    area: Text | None = Field(None, description="area code")
    confidential: bool = False
    requesters: list[RequesterIn] = Field(..., max_length=200)
    draft: bool = False


class ProactiveCreateIn(In):
    """未诉先办: a work item the centre opens itself, with no requester (DESIGN §1)."""

    request_type: Text = "other"
    urgency: Text = "normal"
    title: Text = ""
    content: Text
    address: Text = ""
    latitude: float | None = None
    longitude: float | None = None
    category: Text | None = Field(None, description="category code")
    area: Text | None = Field(None, description="area code")


# ---------------------------------------------------------------- input: one per action


class DispatchIn(In):
    lead_unit: Text
    co_units: list[Text] = Field(default_factory=list, max_length=200)
    category: Text | None = Field(None, description="reclassify: category code")
    area: Text | None = Field(None, description="correct the jurisdiction: area code")
    note: Text = ""


class UnitIn(In):
    unit: Text | None = Field(None, description="act for this unit (when you belong to several on the order)")


class AcceptIn(UnitIn):
    pass


class ReturnIn(UnitIn):
    reason: Text


class ExtendIn(UnitIn):
    working_days: int
    reason: Text


class DecideExtensionIn(In):
    approve: bool
    note: Text = ""
    extension_id: int | None = Field(None, description="which pending request (default: the only one)")


class ReplyIn(UnitIn):
    body: Text
    outcome: Text = Field(..., description="solved · partly · explained")
    co_unit_summary: Text = ""


class ContactIn(UnitIn):
    note: Text = ""


class CallbackIn(In):
    reached: bool
    contacted: bool | None = None
    solved: bool | None = None
    resolution: Text = Field("", description="solved · partly · unsolved (wins over `solved`)")
    satisfaction: Text = Field("", description="satisfied · basic · unsatisfied")
    note: Text = ""
    via: Text = "phone"


class ReasonIn(In):
    reason: Text


class OptionalReasonIn(In):
    reason: Text = ""


class MergeIn(In):
    into: Text = Field(..., description="number of the surviving order")
    reason: Text = ""


class ReferIn(In):
    outcome: Text = Field(..., description="one of the six Art. 11 outcomes")
    referred_to: Text
    reason: Text = ""


class DeclineIn(In):
    outcome: Text = Field(..., description="one of the six Art. 11 outcomes")
    reason: Text


class AnswerIn(In):
    answer: Text


class NoteIn(In):
    text: Text


class EmptyIn(In):
    pass


# ---------------------------------------------------------------- output


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


class Ref(Schema):
    code: str
    name: str


class AssignmentBrief(Schema):
    unit: Ref
    role: str
    state: str
    due_at: dt.datetime


class OrderSummary(Schema):
    number: str
    state: str
    state_label: str
    request_type: str
    channel: str
    urgency: str
    title: str
    address: str
    area: Ref | None
    category: Ref | None
    confidential: bool
    received_at: dt.datetime
    due_at: dt.datetime | None
    closed_at: dt.datetime | None
    assignments: list[AssignmentBrief]


class OrderPage(Schema):
    count: int = Field(description="matching orders; a lower bound when ``count_is_estimate``")
    count_is_estimate: bool = Field(
        False, description="true when more orders match than were counted (see ``exact_count``)")
    limit: int
    offset: int
    results: list[OrderSummary]


class RequesterOut(Schema):
    name: str
    phone: str = Field(..., description="empty for a requester who left none (Open311)")
    email: str = Field("", description="the e-mail a requester without a phone may have left")
    confidential: bool
    primary: bool
    masked: bool = Field(..., description="true when name, phone and e-mail are masked for this caller")


class ExtensionOut(Schema):
    id: int
    working_days: int
    reason: str
    state: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    old_due_at: dt.datetime
    new_due_at: dt.datetime | None


class AssignmentOut(Schema):
    id: int
    unit: Ref
    role: str
    state: str
    dispatched_at: dt.datetime
    return_due_at: dt.datetime
    contact_due_at: dt.datetime
    due_at: dt.datetime
    original_due_at: dt.datetime
    extended: bool
    accepted_at: dt.datetime | None
    contacted_at: dt.datetime | None
    replied_at: dt.datetime | None
    returned_at: dt.datetime | None
    return_reason: str
    extensions: list[ExtensionOut]


class ReplyOut(Schema):
    id: int
    unit: Ref
    author: str
    body: str
    co_unit_summary: str
    outcome: str
    created_at: dt.datetime


class CallbackOut(Schema):
    attempt: int
    via: str
    reached: bool
    contacted: bool | None
    solved: bool | None
    resolution: str
    satisfaction: str
    note: str
    created_at: dt.datetime


class EventOut(Schema):
    code: str
    label: str
    at: dt.datetime
    actor: str | None
    from_state: str
    to_state: str
    reason: str
    data: dict[str, Any]


class ReceiptOut(Schema):
    """An order acknowledged with ``Prefer: respond-async`` (``GET /receipts/{id}``)."""

    receipt: int | None = Field(description="the receipt's id (none when a synchronous request made the order)")
    state: str = Field(description="pending, made or failed")
    state_label: str
    number: str | None = Field(description="the order's number once made")
    received_at: dt.datetime | None
    error: str = ""


class OrderDetail(OrderSummary):
    content: str
    latitude: float | None
    longitude: float | None
    triage_due_at: dt.datetime | None
    created_by: str | None
    answer: str
    outcome: str
    referred_to: str
    merged_into: str | None
    callback_attempts: int
    solved: bool | None
    resolution: str
    satisfaction: str
    reopen_count: int
    requesters_hidden: bool = Field(
        ..., description="true when requesters are withheld from this caller (confidential report)"
    )
    requesters: list[RequesterOut]
    assignments: list[AssignmentOut]  # type: ignore[assignment]
    replies: list[ReplyOut]
    callbacks: list[CallbackOut]
    events: list[EventOut]
