"""Work orders and everything that hangs off them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Category, Channel, RequestType, Urgency
from jiesu.orders import numbering
from jiesu.orders.lookups import NumberExact
from jiesu.orders.states import Outcome, State
from jiesu.org.models import Area, Unit


class OrderState(models.TextChoices):
    DRAFT = State.DRAFT, _("Draft")
    RECEIVED = State.RECEIVED, _("Received")
    ANSWERED = State.ANSWERED, _("Answered")
    DISPATCHED = State.DISPATCHED, _("Dispatched")
    RETURNED = State.RETURNED, _("Returned")
    ACCEPTED = State.ACCEPTED, _("Accepted")
    REPLIED = State.REPLIED, _("Replied")
    CALLBACK_DUE = State.CALLBACK_DUE, _("Callback due")
    REOPENED = State.REOPENED, _("Reopened")
    REFERRED = State.REFERRED, _("Referred")
    DECLINED = State.DECLINED, _("Declined")
    MERGED = State.MERGED, _("Merged")
    CLOSED = State.CLOSED, _("Closed")


class OutcomeChoice(models.TextChoices):
    EMERGENCY = Outcome.EMERGENCY, _("Emergency: 110/119/120/122")
    LEGAL_PROCESS = Outcome.LEGAL_PROCESS, _("Litigation, arbitration, reconsideration, discipline or petition")
    DUPLICATE = Outcome.DUPLICATE, _("Duplicate with nothing new")
    SECRET = Outcome.SECRET, _("State secret, trade secret or privacy")
    NO_DUTY = Outcome.NO_DUTY, _("Outside every unit's duty")
    UNLAWFUL = Outcome.UNLAWFUL, _("Unlawful or against public order")


class DaySequence(models.Model):
    """The last order number handed out on a day (order numbers are YYYYMMDD + 6 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


# The states in which an order is still being worked on (dispatch's duplicate candidates read
# them through the partial index ``order_open_area_idx``).
OPEN_ORDER_STATES = [s.value for s in (State.RECEIVED, State.DISPATCHED, State.RETURNED, State.ACCEPTED,
                                       State.REPLIED, State.CALLBACK_DUE, State.REOPENED)]


class WorkOrderQuerySet(models.QuerySet["WorkOrder"]):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[override]
        objs = list(objs)
        for order in objs:
            order.give_id()
        return super().bulk_create(objs, *args, **kwargs)


class WorkOrder(models.Model):
    # The id is the number read as an integer (jiesu.orders.numbering: it carries the order's day,
    # so that PostgreSQL can partition orders by month on the primary key itself).
    number = models.CharField(_("number"), max_length=14, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=OrderState.choices, default=OrderState.RECEIVED)
    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("summary"), max_length=120, blank=True)
    content = models.TextField(_("content"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    # WGS-84 (DESIGN §5). GCJ-02/BD-09 are converted at the edges.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT)
    # A report (举报) or any order the requester asked to keep confidential hides the requester
    # from the handling units (Art. 8; DESIGN §9).
    is_confidential = models.BooleanField(_("confidential"), default=False)

    received_at = models.DateTimeField(_("received at"), db_index=True)
    triage_due_at = models.DateTimeField(_("dispatch due"), null=True, blank=True)
    due_at = models.DateTimeField(_("handling due"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField(_("answer given on the spot"), blank=True)
    outcome = models.CharField(_("Art. 11 outcome"), max_length=16, choices=OutcomeChoice.choices, blank=True)
    referred_to = models.CharField(_("referred to"), max_length=100, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    # Result of the last callback (回访), kept on the order for lists and scorecards.
    callback_attempts = models.PositiveSmallIntegerField(default=0)
    # ``solved`` is True only when fully solved; ``resolution`` says solved / partly / unsolved.
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=16, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            # A state's orders newest first (the order lists' ``state`` filter, ``order_list``).
            # Partitioned by id, each month's ``received_at`` index was walked to its end in the
            # months that hold no order in a recent state (407–455 ms p95 at 1M, docs/benchmarks.md);
            # this one answers "none here" with one probe per month. ``id`` is the lists' tie-break.
            models.Index(fields=["state", "received_at", "id"], name="order_state_received_idx"),
            models.Index(fields=["area", "received_at"]),
            # 三率 scorecards read a period's orders by area from this index alone (jiesu.followup).
            models.Index(fields=["area", "received_at", "state", "reopen_count", "satisfaction", "resolution"],
                         name="order_scorecard_idx"),
            # Duplicate candidates (jiesu.dispatch.services): a district's open orders, newest first,
            # and the recently closed ones, without walking every order (docs/benchmarks.md).
            models.Index(fields=["area", "received_at"], condition=models.Q(state__in=OPEN_ORDER_STATES),
                         name="order_open_area_idx"),
            models.Index(fields=["area", "closed_at"], name="order_closed_area_idx"),
            models.Index(fields=["closed_at"], name="order_closed_idx"),
        ]

    # Not a field: ``create_order`` sets it on the order it hands back when an idempotency key
    # replays an earlier submission, so that callers can answer "200, already had it" not "201".
    replayed = False
    # Not a field either: ``create_order`` hands the new order back with the requester, event
    # and (when intake's inline triage dispatched it) assignment rows it has just written
    # (``selectors.created_order_detail`` presents it from them instead of reading the whole
    # order back: 1 query instead of 8 on intake).
    written: tuple[list[Requester], list[Event], list[Assignment]] | None = None

    objects = WorkOrderQuerySet.as_manager()

    def __str__(self) -> str:
        return self.number

    def give_id(self) -> bool:
        """A new order's id is its number (``jiesu.orders.numbering``), wherever it is created.
        True when it was given here (the order is new)."""
        if self.pk is not None or not self.number:
            return False
        self.pk = numbering.id_of(self.number)
        return True

    def save(self, *args, **kwargs) -> None:
        if self.give_id():
            # Without it Django tries an UPDATE of the given id first: a wasted statement.
            kwargs.setdefault("force_insert", True)
        super().save(*args, **kwargs)

    @property
    def lead_assignment(self) -> Assignment | None:
        """The lead unit's assignment in force; for an order whose lead returned it and that
        waits to be dispatched again, that returned assignment (the queue says who returned it).
        A re-dispatched order has both: the new one is the lead (the old one named the unit that
        had returned it, in the dispatch message too)."""
        returned = None
        for a in self.assignments.all():  # ordered by id: the newest last
            if a.role != AssignmentRole.LEAD or a.state == AssignmentState.CANCELLED:
                continue
            if a.state != AssignmentState.RETURNED:
                return a
            returned = a
        return returned


# Every lookup by number also names the order's id, so that PostgreSQL looks in one month
# (jiesu.orders.lookups).
WorkOrder._meta.get_field("number").register_lookup(NumberExact)


class IdempotencyKey(models.Model):
    """A client's retry key (API, portal) → the order it created. One key, one order, ever."""

    key = models.CharField(max_length=128)
    owner = models.CharField(max_length=64)  # "user:<id>" or "public"
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique")]


class ReceiptState(models.TextChoices):
    PENDING = "pending", _("Acknowledged, being recorded")
    MADE = "made", _("Order recorded")
    FAILED = "failed", _("Could not be recorded")


class IntakeReceipt(models.Model):
    """An order acknowledged before it is made (``POST /api/v1/orders`` with ``Prefer:
    respond-async``): the request as it passed validation, committed before the answer left, so
    that it survives a crash; the batch intake (``jiesu.orders.actions.receipts``) makes the
    orders of many receipts at once and links each to its order. Nothing else writes here."""

    owner = models.CharField(max_length=64)  # as IdempotencyKey.owner
    key = models.CharField(max_length=128, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    payload = models.JSONField()
    received_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=ReceiptState.choices, default=ReceiptState.PENDING)
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    made_at = models.DateTimeField(null=True, blank=True)

    # Not a field: ``receive_order`` sets it on the receipt it hands back for a retried key.
    replayed = False

    class Meta:
        verbose_name = _("intake receipt")
        verbose_name_plural = _("intake receipts")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], condition=~models.Q(key=""), name="receipt_key_unique"),
        ]
        indexes = [
            # The batch intake's queue: only the pending ones, oldest first.
            models.Index(fields=["id"], condition=models.Q(state="pending"), name="receipt_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.state})"


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise, not enough to call."""
    p = phone.strip()
    if len(p) >= 11:
        return p[:3] + "****" + p[-4:]
    if len(p) >= 7:
        return p[:2] + "***" + p[-2:]
    return "*" * len(p)


def mask_email(address: str) -> str:
    """z***@example.com: the domain and the first letter, never the whole name."""
    name, _at, domain = (address or "").partition("@")
    if not address:
        return ""
    return (name[:1] + "***@" + domain) if domain else "***"


def mask_name(name: str) -> str:
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


class Requester(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="requesters")
    name = models.CharField(_("name"), max_length=64, blank=True)
    # Blank only for a channel without a phone (Open311): then an e-mail, or nothing at all
    # (匿名); a call always has a number, and intake requires it for every other channel.
    phone = models.CharField(_("phone"), max_length=20, db_index=True, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    is_primary = models.BooleanField(default=True)
    wants_confidential = models.BooleanField(_("keep my identity confidential"), default=False)
    # Where this requester came from when orders were merged.
    source_order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("requester")
        verbose_name_plural = _("requesters")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.masked_name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_email(self) -> str:
        return mask_email(self.email)

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email)


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    CO = "co", _("Co-handling (协办)")


class AssignmentState(models.TextChoices):
    DISPATCHED = "dispatched", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    REPLIED = "replied", _("Replied")
    CANCELLED = "cancelled", _("Withdrawn")


OPEN_ASSIGNMENT_STATES = [AssignmentState.DISPATCHED.value, AssignmentState.ACCEPTED.value]


class Assignment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AssignmentState.choices, default=AssignmentState.DISPATCHED
    )
    dispatched_at = models.DateTimeField()
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_due_at = models.DateTimeField(_("return window ends"))
    contact_due_at = models.DateTimeField(_("contact due"))
    due_at = models.DateTimeField(_("due"), db_index=True)
    original_due_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contacted_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)
    extended = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-role", "id"]  # lead before co
        indexes = [
            models.Index(fields=["unit", "state", "due_at"]),
            # The unit inbox: a unit's open assignments by deadline, read in index order so that the
            # first page costs the same with 100 or 100,000 open ones (jiesu.orders.selectors).
            models.Index(fields=["unit", "due_at"], condition=models.Q(state__in=OPEN_ASSIGNMENT_STATES),
                         name="assignment_open_idx"),
            # 三率 scorecards read an order's assignments from this index alone (jiesu.followup).
            models.Index(fields=["order", "role", "state", "unit", "contacted_at", "contact_due_at", "replied_at",
                                 "due_at", "extended"], name="assignment_scorecard_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}→{self.unit_id} ({self.role})"


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Extension(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    working_days = models.PositiveSmallIntegerField(_("extra working days"))
    reason = models.TextField(_("reason"))
    state = models.CharField(max_length=16, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    old_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        # The dispatcher's pending requests: few, among every request ever made.
        indexes = [models.Index(fields=["state", "requested_at"], name="extension_state_idx")]


class ReplyOutcome(models.TextChoices):
    SOLVED = "solved", _("Solved")
    PARTLY = "partly", _("Partly solved")
    EXPLAINED = "explained", _("Explained; cannot be solved now")


class Reply(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="replies")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("reply"))
    co_unit_summary = models.TextField(_("what the co-handling units did"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ReplyOutcome.choices)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]


class Resolution(models.TextChoices):
    """The requester's answer to "was it solved?" at the callback (回访)."""

    SOLVED = "solved", _("Solved")
    PARTLY = "partly", _("Partly solved")
    UNSOLVED = "unsolved", _("Not solved")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class CallbackVia(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WEB = "web", _("Web (requester's own rating)")
    # A proactive item (未诉先办) has no requester: the centre verifies the result on site or
    # with the unit instead of calling back.
    VERIFY = "verify", _("Verified by the centre (proactive item)")
    # The requester left neither a phone nor an e-mail (an anonymous Open311 report): nobody
    # can be asked, and the callback is recorded as unreachable at once.
    NONE = "none", _("No contact given")


class Callback(models.Model):
    """回访: contacted? solved? satisfied? One row per attempt."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="callbacks")
    attempt = models.PositiveSmallIntegerField()
    via = models.CharField(_("via"), max_length=8, choices=CallbackVia.choices, default=CallbackVia.PHONE)
    reached = models.BooleanField(_("requester reached"))
    contacted = models.BooleanField(_("unit contacted the requester"), null=True, blank=True)
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["created_at", "id"]


class AppendOnlyQuerySet(models.QuerySet):
    """Rows are written once: no bulk update or delete through the ORM (an order's deletion by
    the database's cascade, which the app never does, is the only way out)."""

    def update(self, **kwargs):
        raise ValueError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise ValueError(f"{self.model.__name__} rows are append-only")


class Event(models.Model):
    """The append-only history of an order: a code and structured data, never rendered text."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=32, db_index=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("events are append-only")

    def __str__(self) -> str:
        return f"{self.order_id} {self.code}"


class PersonalDataView(models.Model):
    """Every view of a requester's unmasked data is logged (DESIGN §9): who (``user``), when
    (``at``), which order, and why — the screen or interface that showed it for a task
    (``where``: the order page, the intake caller history, the API…). Append-only."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    where = models.CharField(max_length=32)

    objects = AppendOnlyQuerySet.as_manager()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("the personal-data log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the personal-data log is append-only")
