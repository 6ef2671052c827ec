"""Forms check the shape of what was posted; the services decide whether it may happen.

Templates render the fields by hand (tab order, labels, aria), so the forms hold data and
errors only.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Channel, RequestType, Urgency
from jiesu.orders.errors import DomainError, InvalidInput
from jiesu.orders.models import CallbackVia, OutcomeChoice, ReplyOutcome, Resolution, Satisfaction
from jiesu.orders.typed_text import without_invisible


class TypedText(forms.CharField):
    """A text field that drops the characters no one typed on purpose (jiesu.orders.typed_text):
    a pasted NUL or BEL is removed before the checks, instead of an error about "null
    characters" the call-taker cannot see."""

    def to_python(self, value):
        value = super().to_python(value)
        return without_invisible(value) if isinstance(value, str) else value


YES_NO = [("", ""), ("yes", _("Yes")), ("no", _("No"))]


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def new_key() -> str:
    return uuid.uuid4().hex


class CodeList(forms.Field):
    """Several codes from a <select multiple> (or one comma/space separated text field)."""

    widget = forms.SelectMultiple

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = value.replace("，", ",").replace(",", " ").split()
        return [str(v).strip()[:32] for v in value if str(v).strip()][:30]


class DeskForm(forms.Form):
    """Carries a domain error: attached to its field when the service names one we show."""

    def add_domain_error(self, err: DomainError) -> None:
        field = getattr(err, "field", "") if isinstance(err, InvalidInput) else ""
        target = FIELD_ALIASES.get(field, field)
        if target and target in self.fields:
            self.add_error(target, str(err))
        else:
            self.add_error(None, str(err))


# Service field names → our form field names where they differ.
FIELD_ALIASES = {"unit": "lead_unit", "co_units": "co_units", "text": "note", "phone": "phone"}


# --- intake -----------------------------------------------------------------------------------


class IntakeForm(DeskForm):
    phone = TypedText(label=_("Phone"), max_length=40)
    name = TypedText(label=_("Name"), max_length=64, required=False)
    request_type = forms.ChoiceField(label=_("Type"), choices=RequestType.choices, initial=RequestType.COMPLAINT)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    content = TypedText(label=_("Content"), max_length=5000, strip=True)
    address = TypedText(label=_("Address"), max_length=255, required=False)
    area = TypedText(label=_("Area"), max_length=32, required=False)
    category = TypedText(label=_("Category"), max_length=32, required=False)
    channel = forms.ChoiceField(label=_("Channel"), initial=Channel.HOTLINE, choices=[
        (c, label) for c, label in Channel.choices if c in (
            Channel.HOTLINE, Channel.SPECIAL_HOTLINE, Channel.WALK_IN, Channel.LETTER, Channel.OUTREACH)
    ])
    confidential = forms.BooleanField(label=_("Confidential: hide the caller from the handling unit"),
                                      required=False)
    answer = TypedText(label=_("Answer given on the spot"), max_length=5000, required=False)
    do = forms.ChoiceField(choices=[("dispatch", "dispatch"), ("answer", "answer")], initial="dispatch")
    idempotency_key = TypedText(max_length=64, required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean() or {}
        if data.get("do") == "answer" and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer given to the caller."))
        return data


# --- dispatcher -------------------------------------------------------------------------------


class DispatchForm(DeskForm):
    area = TypedText(max_length=32, required=False)
    category = TypedText(max_length=32, required=False)
    lead_unit = TypedText(max_length=32, error_messages={"required": _("Choose the lead unit.")})
    co_units = CodeList(required=False)
    note = TypedText(max_length=2000, required=False)


class ReferForm(DeskForm):
    outcome = forms.ChoiceField(choices=OutcomeChoice.choices,
                                error_messages={"required": _("Choose one of the outcomes of Art. 11.")})
    referred_to = TypedText(max_length=100, required=False)
    reason = TypedText(max_length=2000, required=False)


class DeclineForm(DeskForm):
    outcome = forms.ChoiceField(choices=OutcomeChoice.choices,
                                error_messages={"required": _("Choose one of the outcomes of Art. 11.")})
    reason = TypedText(max_length=2000, required=False)


class MergeForm(DeskForm):
    into = TypedText(max_length=20, error_messages={"required": _("Give the number of the order to keep.")})
    reason = TypedText(max_length=2000, required=False)


class ReasonForm(DeskForm):
    """Requeue, return, urge, reopen: a reason the service checks."""

    reason = TypedText(max_length=2000, required=False)


class NoteForm(DeskForm):
    note = TypedText(max_length=2000, required=False)


class AnswerForm(DeskForm):
    answer = TypedText(max_length=5000, required=False)


class EmptyForm(DeskForm):
    pass


class ExtensionDecisionForm(DeskForm):
    extension = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    note = TypedText(max_length=2000, required=False)


# --- unit -------------------------------------------------------------------------------------


class ExtensionForm(DeskForm):
    working_days = forms.IntegerField(min_value=1, max_value=30, initial=3)
    reason = TypedText(max_length=2000, required=False)


class ReplyForm(DeskForm):
    body = TypedText(max_length=5000, required=False)
    outcome = forms.ChoiceField(choices=ReplyOutcome.choices, initial=ReplyOutcome.SOLVED)
    co_unit_summary = TypedText(max_length=5000, required=False)


# --- supervisor -------------------------------------------------------------------------------


class CallbackForm(DeskForm):
    reached = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")], initial="yes")
    contacted = forms.ChoiceField(choices=YES_NO, required=False)
    solved = forms.ChoiceField(choices=YES_NO, required=False)  # older form of ``resolution``
    resolution = forms.ChoiceField(choices=[("", ""), *Resolution.choices], required=False)
    satisfaction = forms.ChoiceField(choices=[("", ""), *Satisfaction.choices], required=False)
    via = forms.ChoiceField(choices=[c for c in CallbackVia.choices if c[0] not in (CallbackVia.WEB, CallbackVia.NONE)],
                            initial=CallbackVia.PHONE)
    note = TypedText(max_length=2000, required=False)


# --- order search -----------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = TypedText(max_length=100, required=False)
    state = TypedText(max_length=16, required=False)
    phone = TypedText(max_length=20, required=False)
