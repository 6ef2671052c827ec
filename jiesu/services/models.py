"""Public legal services (DESIGN §7): service points with windows and opening rules, the matters
they serve, bookings (预约) with their append-only history, outreach events (外出服务) with the
entries synced from the browser, circuit filing (巡回立案) batches, and specialised hotlines.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, Unit


def _bilingual(zh: str, en: str) -> str:
    return en if en and (get_language() or "").startswith("en") else zh


class PointKind(models.TextChoices):
    NOTARY = "notary", _("Notary office")
    COURT_FILING = "court_filing", _("Court filing window")
    PROCURATORATE = "procuratorate", _("Procuratorate reception")
    LIAISON_ROOM = "liaison_room", _("Liaison room")
    LEGAL_AID = "legal_aid", _("Legal-aid station")
    POLICE_POST = "police_post", _("Community police post")


class ServicePoint(models.Model):
    """服务点: a place with windows where the public is served by appointment."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PointKind.choices, db_index=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="service_points")
    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="service_points")
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # 两室一站: who staffs a liaison room (judge, procurator, lawyer / notary), shown to the public.
    staffed_by = models.CharField(_("staffed by"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return _bilingual(self.name, self.name_en)


class Window(models.Model):
    """A counter of a service point (1号窗口, 遗嘱专窗)."""

    point = models.ForeignKey(ServicePoint, verbose_name=_("service point"), on_delete=models.CASCADE,
                              related_name="windows")
    name = models.CharField(_("name"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        ordering = ["point", "id"]

    def __str__(self) -> str:
        return f"{self.point.name} · {self.name}"


class Matter(models.Model):
    """办理事项: what a booking is for, per kind of point (a will, an authorisation…)."""

    kind = models.CharField(_("kind of point"), max_length=16, choices=PointKind.choices, db_index=True)
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    # E.g. a will: 公证法 Art. 26 — wills, survival and adoption need the applicant in person.
    in_person_required = models.BooleanField(_("applicant must come in person"), default=False)
    in_person_reason = models.CharField(_("legal reason"), max_length=300, blank=True)
    in_person_reason_en = models.CharField(_("legal reason (English)"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["kind", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(slot_minutes__gt=0), name="matter_slot_positive")]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return _bilingual(self.name, self.name_en)

    @property
    def reason(self) -> str:
        return _bilingual(self.in_person_reason, self.in_person_reason_en)


class OpeningRule(models.Model):
    """One pool of windows open on a pattern of days (see jiesu.services.opening)."""

    point = models.ForeignKey(ServicePoint, verbose_name=_("service point"), on_delete=models.CASCADE,
                              related_name="rules")
    label = models.CharField(_("label"), max_length=100, blank=True,
                             help_text=_("E.g. 遗嘱公证周 (will week); shown to the public."))
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True,
                                help_text=_("0 = Monday … 6 = Sunday, e.g. [5] for every Saturday."))
    dates = models.JSONField(_("specific dates"), default=list, blank=True,
                             help_text=_("ISO dates, e.g. [\"2026-12-06\"] for a specific Sunday."))
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("until"), null=True, blank=True)
    opens = models.TimeField(_("opens"), default=dt.time(9))
    closes = models.TimeField(_("closes"), default=dt.time(17))
    windows = models.ManyToManyField(Window, verbose_name=_("windows"), related_name="rules")
    per_window = models.PositiveSmallIntegerField(_("people per window at a time"), default=1)
    matters = models.ManyToManyField(Matter, verbose_name=_("matters (none: all)"), blank=True, related_name="+")
    holidays_closed = models.BooleanField(_("closed on public holidays"), default=True)
    special = models.BooleanField(_("special service week"), default=False)

    class Meta:
        verbose_name = _("opening rule")
        verbose_name_plural = _("opening rules")
        ordering = ["point", "id"]

    def __str__(self) -> str:
        return f"{self.point.name} · {self.label or self.pk}"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("Did not come")
    SERVED = "served", _("Served")
    NEEDS_DOCUMENTS = "needs_documents", _("Needs more documents")
    REFERRED = "referred", _("Referred")


# A live booking holds its place; the others gave it back (or used it up).
HOLDING = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
OUTCOMES = (BookingStatus.SERVED, BookingStatus.NEEDS_DOCUMENTS, BookingStatus.REFERRED)


class BookingChannel(models.TextChoices):
    WEB = "web", _("Web")
    DESK = "desk", _("Call-taker on the caller's behalf")
    OUTREACH = "outreach", _("Outreach desk")
    API = "api", _("API")


class Booking(models.Model):
    code = models.CharField(_("confirmation code"), max_length=12, unique=True)
    point = models.ForeignKey(ServicePoint, verbose_name=_("service point"), on_delete=models.PROTECT,
                              related_name="bookings")
    matter = models.ForeignKey(Matter, verbose_name=_("matter"), on_delete=models.PROTECT, related_name="bookings")
    rule = models.ForeignKey(OpeningRule, verbose_name=_("opening rule"), on_delete=models.PROTECT,
                             related_name="bookings")
    window = models.ForeignKey(Window, verbose_name=_("window"), on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    name = models.CharField(_("name"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20)
    status = models.CharField(_("status"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    channel = models.CharField(_("channel"), max_length=16, choices=BookingChannel.choices, default=BookingChannel.WEB)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("booked at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # The client's retry key: one key, one booking, ever (a double click books once).
    idempotency_key = models.CharField(max_length=140, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["point", "start", "status"]), models.Index(fields=["status", "end"])]

    def __str__(self) -> str:
        return self.code


class BookingEvent(models.Model):
    """The booking's history: append-only, a code and structured data (never rendered text)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class OutreachKind(models.TextChoices):
    TASK_FORCE = "task_force", _("Task-force desk")
    LECTURE = "lecture", _("Legal lecture")
    CIRCUIT_FILING = "circuit_filing", _("Circuit filing")


class OutreachEvent(models.Model):
    """外出服务: a desk at a village gate, a market or a hall on a date."""

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=OutreachKind.choices)
    place = models.CharField(_("place"), max_length=200)
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    date = models.DateField(_("date"))
    team = models.CharField(_("team"), max_length=300, blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("organising unit"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("outreach event")
        verbose_name_plural = _("outreach events")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.title}"


class EntryOutcome(models.TextChoices):
    SOLVED_ON_SPOT = "solved_on_spot", _("Solved on the spot")
    DISPATCHED = "dispatched", _("Sent for dispatch")
    BOOKED = "booked", _("Booked an appointment")


class OutreachEntry(models.Model):
    """One request or booking taken at an outreach desk. ``client_id`` is the UUID the browser
    made when the entry was typed (maybe offline), so that a sync repeated makes no duplicate."""

    event = models.ForeignKey(OutreachEvent, on_delete=models.CASCADE, related_name="entries")
    client_id = models.UUIDField(unique=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=EntryOutcome.choices)
    order = models.OneToOneField(WorkOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    noted_at = models.DateTimeField(_("noted at"))  # on the device, maybe long before the sync
    synced_at = models.DateTimeField(_("synced at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("outreach entry")
        verbose_name_plural = _("outreach entries")
        ordering = ["event", "id"]


class CaseKind(models.TextChoices):
    CIVIL = "civil", _("Civil")
    ENFORCEMENT = "enforcement", _("Enforcement")
    ADMINISTRATIVE = "administrative", _("Administrative")


class FilingBatch(models.Model):
    """巡回立案: the facts many parties share (one village's 83 enforcement cases), entered once."""

    number = models.CharField(_("batch number"), max_length=24, unique=True)
    court = models.ForeignKey(Unit, verbose_name=_("court"), on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(OutreachEvent, verbose_name=_("outreach event"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="batches")
    case_kind = models.CharField(_("case kind"), max_length=16, choices=CaseKind.choices)
    cause = models.CharField(_("cause of action"), max_length=120)
    respondent = models.CharField(_("respondent"), max_length=200)
    facts = models.TextField(_("shared facts and claims"))
    place = models.CharField(_("place received"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("circuit filing batch")
        verbose_name_plural = _("circuit filing batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class FilingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_CORRECTION = "needs_correction", _("Needs correction")
    REGISTERED = "registered", _("Registered")
    REFUSED = "refused", _("Refused")


class Filing(models.Model):
    """One party's case in a batch; its receipt (收件凭证) number is ``receipt``."""

    batch = models.ForeignKey(FilingBatch, on_delete=models.CASCADE, related_name="filings")
    receipt = models.CharField(_("receipt number"), max_length=32, unique=True)
    party = models.CharField(_("party"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20)
    address = models.CharField(_("address"), max_length=255, blank=True)
    claim = models.CharField(_("own claim"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=FilingStatus.choices,
                              default=FilingStatus.SUBMITTED)
    received_at = models.DateTimeField(_("received at"))
    decision_due = models.DateTimeField(_("decision due"))
    # The one notice asking for everything missing at once (list of items).
    correction_items = models.JSONField(_("to correct"), default=list, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        ordering = ["batch", "id"]


class FilingEvent(models.Model):
    """A filing's history: append-only, a code and structured data."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Hotline(models.Model):
    """A specialised hotline such as the procuratorate's 12309: orders on the
    ``special_hotline`` channel, with its own queue and the units it dispatches to."""

    code = models.CharField(_("number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    owner = models.ForeignKey(Unit, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+")
    units = models.ManyToManyField(Unit, verbose_name=_("dispatches to"), related_name="+")

    class Meta:
        verbose_name = _("special hotline")
        verbose_name_plural = _("special hotlines")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def label(self) -> str:
        return _bilingual(self.name, self.name_en)


class HotlineOrder(models.Model):
    """Which hotline took an order (the order itself runs the one lifecycle of jiesu.orders)."""

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="hotline_link")
    hotline = models.ForeignKey(Hotline, on_delete=models.PROTECT, related_name="orders")

    class Meta:
        verbose_name = _("hotline order")
        verbose_name_plural = _("hotline orders")
