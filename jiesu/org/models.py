"""The organisation: where (Area) and who (Unit).

Both are trees stored with a parent link and a materialised ``path`` of codes
("110000/110105/110105001"), so that "this district and everything under it" is one
indexed prefix query on SQLite and PostgreSQL alike, and a district is a natural shard key.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    STREET = 3, _("Street / township")
    COMMUNITY = 4, _("Community / village")


class TreeNode(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        parent = getattr(self, "parent", None)
        self.path = f"{parent.path}/{self.code}" if parent else self.code
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class Area(TreeNode):
    """辖区: city → district (区) → street/township (街道/乡镇) → community/village (社区/村)."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent area"))
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    # Another official name of the same place, e.g. 旧宫地区 / 旧宫镇 (DESIGN §5).
    alias = models.CharField(_("alias"), max_length=100, blank=True)
    # The area's outline as a GeoJSON geometry (Polygon or MultiPolygon, WGS-84), for finding
    # the area of a request from its coordinates (jiesu.triage.gazetteer). Optional: the demo
    # city has none, since its official source (jionlp) ships none.
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def clean(self) -> None:
        super().clean()
        if self.boundary not in (None, "", {}):
            from django.core.exceptions import ValidationError

            from jiesu.triage.gazetteer import boundary_problem

            problem = boundary_problem(self.boundary)
            if problem:
                raise ValidationError({"boundary": _("Not a usable GeoJSON polygon: %(problem)s")
                                       % {"problem": problem}})


class UnitKind(models.TextChoices):
    HOTLINE_CENTRE = "hotline_centre", _("Hotline centre")
    DISTRICT_CENTRE = "district_centre", _("District centre")
    STREET_OFFICE = "street_office", _("Street / township office")
    CITY_BUREAU = "city_bureau", _("City bureau")
    UTILITY = "utility", _("Utility")
    COURT = "court", _("Court")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    JUSTICE_BUREAU = "justice_bureau", _("Justice bureau")
    NOTARY_OFFICE = "notary_office", _("Notary office")
    POLICE_STATION = "police_station", _("Police station")


# Units that run the hotline itself: their staff work on every order in their jurisdiction.
CENTRE_KINDS = frozenset({UnitKind.HOTLINE_CENTRE, UnitKind.DISTRICT_CENTRE})


class Unit(TreeNode):
    """承办单位: an organisation that receives assignments, or a centre that dispatches them."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent unit"))
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("jurisdiction"), null=True, blank=True, on_delete=models.PROTECT, related_name="units"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]

    @property
    def is_centre(self) -> bool:
        return self.kind in CENTRE_KINDS
