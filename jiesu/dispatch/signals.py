"""The triage engine is built from areas, units, categories, routing rules and keyword rules: when one of them
changes, this process drops its engine at once and the others see a new ``generation`` (they
check it every few seconds, see ``jiesu.dispatch.runtime``)."""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from jiesu.catalogue.models import Category, RoutingRule
from jiesu.dispatch.models import KeywordRule
from jiesu.org.models import Area, Unit


def catalogue_changed(**kwargs) -> None:
    from jiesu.dispatch import runtime
    from jiesu.dispatch.models import DispatchSettings

    runtime.invalidate()
    if not DispatchSettings.objects.filter(pk=1).update(generation=F("generation") + 1):
        DispatchSettings.objects.get_or_create(pk=1, defaults={"generation": 1})


for model in (Area, Unit, Category, RoutingRule, KeywordRule):
    post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"triage-{model.__name__}-save")
    post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"triage-{model.__name__}-delete")
m2m_changed.connect(catalogue_changed, sender=RoutingRule.co_units.through, dispatch_uid="triage-co-units")
