"""Open311 GeoReport v2 (``/open311/v2/``): what Jiesu offers as services, the keys of the
systems that post to it, what came in through it, and the units whose own case systems take
their assignments through Open311 (Jiesu as the client)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Category, RequestType
from jiesu.open311.attributes import DATATYPES
from jiesu.orders.models import Assignment, WorkOrder
from jiesu.org.models import Unit


class ServiceType(models.TextChoices):
    REALTIME = "realtime", _("Realtime: answers with the request id")
    BATCH = "batch", _("Batch: answers with a token")


class Service(models.Model):
    """How one category is offered as an Open311 service. Every active leaf category is a
    service with its own code even without a row here; a row changes its code, wording, group
    or request type, adds attributes (the service definition), or hides it."""

    category = models.OneToOneField(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                    related_name="open311_service")
    code = models.CharField(_("service code"), max_length=64, blank=True,
                            help_text=_("Empty: the category code."))
    description = models.CharField(_("description"), max_length=500, blank=True)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True, help_text=_("Comma-separated."))
    group = models.CharField(_("group"), max_length=100, blank=True, help_text=_("Empty: the top-level category."))
    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices,
                                    default=RequestType.COMPLAINT)
    type = models.CharField(_("type"), max_length=16, choices=ServiceType.choices, default=ServiceType.REALTIME)
    notice = models.CharField(_("service notice"), max_length=500, blank=True,
                              help_text=_("What the requester can expect, e.g. “will inspect within 24 hours”."))
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")
        ordering = ["category__path"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="open311_service_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} {self.category}"

    @property
    def service_code(self) -> str:
        return self.code or self.category.code

    def clean(self) -> None:
        super().clean()
        if self.code and Category.objects.filter(code=self.code).exclude(pk=self.category_id).exists():
            raise ValidationError({"code": _("Another category already has this code.")})


class Attribute(models.Model):
    """One question of a service definition; the client sends the answer as ``attribute[code]``."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    code = models.CharField(_("code"), max_length=64)
    variable = models.BooleanField(_("needs input"), default=True,
                                   help_text=_("Off: an information text shown to the requester."))
    datatype = models.CharField(_("datatype"), max_length=16, choices=[(d, d) for d in DATATYPES], default="string")
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("datatype description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=500)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="open311_attribute_code_unique"),
            models.UniqueConstraint(fields=["service", "order"], name="open311_attribute_order_unique"),
            models.CheckConstraint(condition=models.Q(order__gte=1), name="open311_attribute_order_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class AttributeValue(models.Model):
    """An option of a single- or multi-value list attribute."""

    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="values")
    key = models.CharField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["attribute", "key"], name="open311_value_key_unique")]

    def __str__(self) -> str:
        return self.name


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """An Open311 ``api_key``. Only its SHA-256 is stored; the raw key is printed once by
    ``jiesu apikey create NAME``. A key issued for a unit lets that unit's own system post
    status updates (``servicerequestupdates``) on the unit's assignments."""

    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acts as"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+",
                             help_text=_("Only for a unit's own case system: the handler account it acts as."))
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_raw() -> str:
        return "o311_" + secrets.token_urlsafe(24)


class Submission(models.Model):
    """What an Open311 client sent with a request, beside the order it became."""

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="open311")
    service_code = models.CharField(max_length=64)
    api_key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    address_id = models.CharField(max_length=100, blank=True)
    media_url = models.URLField(max_length=1000, blank=True)
    email = models.CharField(max_length=254, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")


class PollMode(models.TextChoices):
    UPDATES = "updates", _("GET servicerequestupdates (mySociety extension)")
    REQUESTS = "requests", _("GET requests (status open/closed)")


class UnitLink(models.Model):
    """A unit whose own case system takes its assignments through Open311: on dispatch to the
    unit, Jiesu POSTs the request there, and polls it for the unit's progress and reply."""

    unit = models.OneToOneField(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="open311_link")
    # Replies and acceptances read back from the unit's system are recorded as this person
    # of the unit (a reply has a named author: DESIGN §1).
    acts_as = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded as"), on_delete=models.PROTECT,
                                related_name="+", help_text=_("A handler of the unit."))
    endpoint = models.URLField(_("endpoint"), max_length=500, help_text=_("Base URL, e.g. https://cases.example/open311/v2"))
    api_key = models.CharField(_("API key at the unit's system"), max_length=200)
    jurisdiction_id = models.CharField(_("jurisdiction id"), max_length=100, blank=True)
    service_codes = models.JSONField(_("service code map"), default=dict, blank=True,
                                     help_text=_("Jiesu category code → the unit's service code; "
                                                 "“*” for every other category."))
    poll_mode = models.CharField(_("poll"), max_length=16, choices=PollMode.choices, default=PollMode.UPDATES)
    enabled = models.BooleanField(_("enabled"), default=True)
    polled_until = models.DateTimeField(_("polled until"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit Open311 link")
        verbose_name_plural = _("unit Open311 links")

    def __str__(self) -> str:
        return f"{self.unit} → {self.endpoint}"

    def remote_code(self, category_code: str | None) -> str | None:
        codes = self.service_codes or {}
        if category_code and category_code in codes:
            return str(codes[category_code])
        return str(codes["*"]) if "*" in codes else category_code


class SendState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")
    DONE = "done", _("Replied")


class Outbound(models.Model):
    """One assignment sent to a unit's system: the attempts, and the remote request id."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="open311_outbound")
    link = models.ForeignKey(UnitLink, on_delete=models.CASCADE, related_name="outbound")
    state = models.CharField(_("state"), max_length=16, choices=SendState.choices, default=SendState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    remote_id = models.CharField(_("remote request id"), max_length=100, blank=True, db_index=True)
    remote_token = models.CharField(_("remote token"), max_length=100, blank=True)
    remote_status = models.CharField(_("remote status"), max_length=32, blank=True)
    seen_updates = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment sent by Open311")
        verbose_name_plural = _("assignments sent by Open311")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.assignment_id} → {self.remote_id or self.state}"
