"""The public forms: shape only; the services decide (and say why, in the user's language)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import RequestType
from jiesu.desk.forms import TypedText
from jiesu.orders.errors import DomainError, InvalidInput
from jiesu.orders.models import Resolution, Satisfaction


class PortalForm(forms.Form):
    def add_domain_error(self, err: DomainError) -> None:
        field = err.field if isinstance(err, InvalidInput) else ""
        if field in self.fields:
            self.add_error(field, str(err))
        else:
            self.add_error(None, str(err))


class SubmitForm(PortalForm):
    name = TypedText(max_length=64, error_messages={
        "required": _("Please enter your name."), "max_length": _("The name is too long.")})
    phone = TypedText(max_length=30, error_messages={
        "required": _("Please enter a phone number we can call you back on."),
        "max_length": _("The phone number is too long.")})
    request_type = forms.ChoiceField(choices=RequestType.choices, error_messages={
        "required": _("Please choose what kind of request this is."),
        "invalid_choice": _("Please choose what kind of request this is.")})
    content = TypedText(max_length=5000, error_messages={
        "required": _("Please describe your request."),
        "max_length": _("The description is too long: at most 5000 characters.")})
    address = TypedText(max_length=255, required=False, error_messages={
        "max_length": _("The address is too long.")})
    area = TypedText(max_length=32, required=False)
    confidential = forms.BooleanField(required=False)
    idempotency_key = TypedText(max_length=64, required=False, widget=forms.HiddenInput)


class TrackForm(PortalForm):
    number = TypedText(max_length=20, error_messages={"required": _("Please enter the order number.")})
    phone = TypedText(max_length=30, error_messages={
        "required": _("Please enter the phone number you gave us.")})


class CallbackAnswerForm(PortalForm):
    """The requester's answers to a callback, the same three questions as the supervisor's phone
    script: on the signed-link page (``jiesu.followup.views_public``) and on the portal's track
    page alike (template ``portal/_callback_questions.html``)."""

    contacted = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))], error_messages={
        "required": _("Please say whether the unit contacted you in time."),
        "invalid_choice": _("Please say whether the unit contacted you in time.")})
    resolution = forms.ChoiceField(choices=Resolution.choices, error_messages={
        "required": _("Please say whether the problem was solved."),
        "invalid_choice": _("Please say whether the problem was solved.")})
    satisfaction = forms.ChoiceField(choices=Satisfaction.choices, error_messages={
        "required": _("Please say how satisfied you are."),
        "invalid_choice": _("Please say how satisfied you are.")})
    comment = TypedText(max_length=2000, required=False, error_messages={
        "max_length": _("The comment is too long: at most 2000 characters.")})


RateForm = CallbackAnswerForm  # the portal's rating is the same form
