"""Background work of the legal services (django-tasks): the messages to requesters, and the
sweep that marks missed bookings and sends the day-ahead reminders."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.integrations.notifications import send_message
from jiesu.services.models import Booking


def booking_text(booking: Booking, kind: str) -> str:
    """The SMS, in Chinese (the public's language here), with the code to show at the window."""
    local = booking.start.astimezone(SHANGHAI)
    params = {"point": booking.point.name, "matter": booking.matter.name, "code": booking.code,
              "when": local.strftime("%Y-%m-%d %H:%M"), "address": booking.point.address}
    with translation.override("zh-hans"):
        if kind == "booking_reminder":
            text = _("Reminder: your appointment for %(matter)s at %(point)s (%(address)s) is at %(when)s. "
                     "Code %(code)s.") % params
        elif kind == "booking_moved":
            text = _("Your appointment for %(matter)s at %(point)s is now at %(when)s. Code %(code)s.") % params
        else:
            text = _("Booked: %(matter)s at %(point)s (%(address)s), %(when)s. Code %(code)s; bring your ID. "
                     "Cancel or change with the code and this phone.") % params
        if booking.matter.in_person_required:
            text += " " + _("You must come in person.")
    return text


@task()
def notify_booking(booking_id: int, kind: str) -> None:
    booking = Booking.objects.select_related("point", "matter").filter(pk=booking_id).first()
    if booking is None:
        return
    # One key per booking, kind and slot: a task run twice sends once; a booking moved twice
    # gets both messages.
    when = int(booking.start.timestamp())
    send_message(kind=kind, channel="sms", to=booking.phone, body=booking_text(booking, kind),
                 key=f"booking{booking.pk}:{kind}:{when}")


@task()
def sweep_bookings() -> dict[str, int]:
    from jiesu.services.actions import mark_no_shows, send_reminders

    return {"no_show": mark_no_shows(), "reminded": send_reminders()}
