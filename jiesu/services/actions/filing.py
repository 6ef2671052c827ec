"""巡回立案: batch registration of many parties sharing the same facts.

The court enters the shared facts once (a batch), then each party; each filing gets a receipt
(收件凭证) with the date received and a decision deadline of 7 working days on the official
calendar (立案登记: the court decides within seven days whether to register a civil case).
Statuses: submitted → needs correction (one notice listing everything to fix) → submitted
again (the deadline starts anew from the corrected materials) → registered / refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import SHANGHAI, Limit, LimitUnit
from jiesu.orders.actions.base import clean_text
from jiesu.orders.actions.intake import normalise_phone
from jiesu.org.models import Unit, UnitKind
from jiesu.services.errors import InvalidInput, NotAllowed, NotFound, WrongState
from jiesu.services.models import (
    CaseKind,
    Filing,
    FilingBatch,
    FilingEvent,
    FilingStatus,
    OutreachEvent,
)
from jiesu.services.policy import may_file

# Decision limits per case kind (working days, on the official calendar).
DECISION_LIMITS = {
    CaseKind.CIVIL: Limit(7, LimitUnit.WORKING_DAYS),
    CaseKind.ENFORCEMENT: Limit(7, LimitUnit.WORKING_DAYS),
    CaseKind.ADMINISTRATIVE: Limit(7, LimitUnit.WORKING_DAYS),
}
MAX_PARTIES = 500
MAX_ITEMS = 30


def _event(filing: Filing, code: str, actor: Actor, *, source: str = "", data: dict | None = None) -> None:
    FilingEvent.objects.create(filing=filing, code=code, actor_id=actor.user_id, at=clock.now(),
                               from_status=source, to_status=filing.status, data=data or {})


def open_batch(
    *,
    actor: Actor,
    court_code: str,
    case_kind: str,
    cause: str,
    respondent: str,
    facts: str,
    place: str,
    event_id: int | None = None,
) -> FilingBatch:
    court = Unit.objects.filter(code=court_code, is_active=True).first()
    if court is None or court.kind != UnitKind.COURT:
        raise InvalidInput(_("Choose a court."), field="court")
    if not may_file(actor, court):
        raise NotAllowed(_("You are not allowed to do this."))
    if case_kind not in CaseKind.values:
        raise InvalidInput(_("Choose the kind of case."), field="case_kind")
    fields = {
        "cause": clean_text(cause, field="cause", label=_("the cause of action"), max_length=120),
        "respondent": clean_text(respondent, field="respondent", label=_("the respondent"), max_length=200),
        "facts": clean_text(facts, field="facts", label=_("the shared facts")),
        "place": clean_text(place, field="place", label=_("the place"), max_length=200),
    }
    event = None
    if event_id is not None:
        event = OutreachEvent.objects.filter(pk=event_id).first()
        if event is None:
            raise InvalidInput(_("No outreach event %(id)s."), field="event", id=event_id)
    with transaction.atomic():
        now = clock.now()
        day = now.astimezone(SHANGHAI).date()
        # Numbers per court and day; the court's row lock keeps two clerks from taking one number.
        Unit.objects.select_for_update(of=("self",)).get(pk=court.pk)
        seq = FilingBatch.objects.filter(number__startswith=f"XF{day:%Y%m%d}").count() + 1
        return FilingBatch.objects.create(number=f"XF{day:%Y%m%d}{seq:03d}", court=court, event=event,
                                          case_kind=case_kind, created_by_id=actor.user_id, created_at=now,
                                          **fields)


@dataclass(frozen=True)
class PartyInput:
    party: str
    phone: str
    address: str = ""
    claim: str = ""


def add_parties(*, actor: Actor, batch_id: int, parties: list[PartyInput]) -> list[Filing]:
    """Receive the parties' filings: all or none (a bad row names its line and changes nothing)."""
    if not parties:
        raise InvalidInput(_("Enter at least one party."), field="parties")
    if len(parties) > MAX_PARTIES:
        raise InvalidInput(_("At most %(n)s parties at a time."), field="parties", n=MAX_PARTIES)
    rows = []
    for i, p in enumerate(parties, start=1):
        try:
            if not (p.phone or "").strip():  # else: "“” is not a valid phone number"
                raise InvalidInput(_("Please fill in %(label)s."), field="phone", label=_("the phone number"))
            rows.append((clean_text(p.party, field="party", label=_("the party's name"), max_length=64),
                         normalise_phone(p.phone),
                         clean_text(p.address, field="address", label=_("the address"), required=False,
                                    max_length=255),
                         clean_text(p.claim, field="claim", label=_("the claim"), required=False, max_length=500)))
        except InvalidInput as err:
            raise InvalidInput(_("Line %(line)s: %(problem)s"), field="parties", line=i, problem=str(err)) from None
    with transaction.atomic():
        batch = FilingBatch.objects.select_for_update(of=("self",)).select_related("court").filter(pk=batch_id).first()
        if batch is None:
            raise NotFound(_("No filing batch %(id)s."), id=batch_id)
        if not may_file(actor, batch.court):
            raise NotAllowed(_("You are not allowed to do this."))
        now = clock.now()
        due = deadlines.compute_due(now, DECISION_LIMITS[CaseKind(batch.case_kind)])
        start = batch.filings.count()
        made = []
        for n, (party, phone, address, claim) in enumerate(rows, start=start + 1):
            filing = Filing.objects.create(batch=batch, receipt=f"{batch.number}-{n:03d}", party=party, phone=phone,
                                           address=address, claim=claim, received_at=now, decision_due=due)
            _event(filing, "received", actor, data={"due": due.isoformat()})
            made.append(filing)
    return made


def _lock(filing_id: int, actor: Actor) -> Filing:
    filing = (Filing.objects.select_for_update(of=("self",)).select_related("batch__court")
              .filter(pk=filing_id).first())
    if filing is None:
        raise NotFound(_("No filing %(id)s."), id=filing_id)
    if not may_file(actor, filing.batch.court):
        raise NotAllowed(_("You are not allowed to do this."))
    return filing


def _wrong(filing: Filing, action) -> WrongState:
    return WrongState(_("Filing %(receipt)s is “%(status)s”; it cannot be %(action)s."),
                      receipt=filing.receipt, status=filing.get_status_display(), action=action)


def request_correction(*, actor: Actor, filing_id: int, items: list[str]) -> Filing:
    """One notice listing everything to correct (一次性告知), never one item at a time."""
    cleaned = [clean_text(i, field="items", label=_("an item to correct"), max_length=300)
               for i in items if (i or "").strip()]
    if not cleaned:
        raise InvalidInput(_("List what the party must correct or add."), field="items")
    if len(cleaned) > MAX_ITEMS:
        raise InvalidInput(_("At most %(n)s items."), field="items", n=MAX_ITEMS)
    with transaction.atomic():
        filing = _lock(filing_id, actor)
        if filing.status != FilingStatus.SUBMITTED:
            raise _wrong(filing, _("sent back for correction"))
        filing.status, filing.correction_items = FilingStatus.NEEDS_CORRECTION, cleaned
        filing.save(update_fields=["status", "correction_items"])
        _event(filing, "correction_requested", actor, source=FilingStatus.SUBMITTED, data={"items": cleaned})
    return filing


def resubmit_filing(*, actor: Actor, filing_id: int) -> Filing:
    """The corrected materials are in: the decision deadline starts again from today."""
    with transaction.atomic():
        filing = _lock(filing_id, actor)
        if filing.status != FilingStatus.NEEDS_CORRECTION:
            raise _wrong(filing, _("resubmitted"))
        now = clock.now()
        filing.status = FilingStatus.SUBMITTED
        filing.decision_due = deadlines.compute_due(now, DECISION_LIMITS[CaseKind(filing.batch.case_kind)])
        filing.save(update_fields=["status", "decision_due"])
        _event(filing, "resubmitted", actor, source=FilingStatus.NEEDS_CORRECTION,
               data={"due": filing.decision_due.isoformat()})
    return filing


def decide_filing(*, actor: Actor, filing_id: int, register: bool, note: str = "") -> Filing:
    note = clean_text(note, field="note", label=_("the reason"), required=not register, max_length=500)
    with transaction.atomic():
        filing = _lock(filing_id, actor)
        if filing.status != FilingStatus.SUBMITTED:
            raise _wrong(filing, _("decided"))
        source = filing.status
        filing.status = FilingStatus.REGISTERED if register else FilingStatus.REFUSED
        filing.decided_at, filing.decision_note = clock.now(), note
        filing.save(update_fields=["status", "decided_at", "decision_note"])
        _event(filing, "decided", actor, source=source, data={"registered": register, "note": note,
                                                              "in_time": filing.decided_at <= filing.decision_due})
    return filing
