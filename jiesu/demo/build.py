"""Load the demo city: Beijing's districts, streets and communities, its hotline centre and
handling units, routing rules, deadline limits, people, and a few thousand work orders with
their full histories. Only into an empty database (``make run`` calls it only then).

Determinism: the same seed and anchor give the same order numbers, texts, states and event
times. The anchor defaults to today's midnight in Asia/Shanghai, so without ``anchor`` the
output is the same for a given seed *on a given day*.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from jiesu.accounts.models import User
from jiesu.catalogue.models import Category
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.demo import insight as demo_insight
from jiesu.demo import lifecycle, org, people
from jiesu.demo import services as demo_services
from jiesu.demo.orders import plan_orders
from jiesu.integrations.exchange.importing import load_shipped
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, Unit

DEFAULT_ORDERS = 3000
DEFAULT_SEED = 12345
demo_accounts = people.demo_accounts
format_accounts = people.format_accounts


class DemoError(Exception):
    """The demo cannot be loaded (the database is not empty, or bad options)."""


@dataclass(frozen=True)
class DemoSummary:
    anchor: dt.datetime
    areas: int
    units: int
    rules: int
    users: int
    orders: int
    states: dict[str, int]
    seconds: float


def database_is_empty() -> bool:
    """No city, organisation, catalogue, people or orders yet (the calendar that migrations
    seed does not count)."""
    return not any(m.objects.exists() for m in (WorkOrder, Area, Unit, Category, User))


def anchor_for(day: dt.date | None) -> dt.datetime:
    day = day or timezone.now().astimezone(SHANGHAI).date()
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)


@contextmanager
def _quiet_calendar() -> Iterator[None]:
    """Deadlines past the last official holiday year warn once per deadline; the demo would
    print thousands. ``jiesu check`` reports the missing year instead."""
    logger = logging.getLogger("jiesu.deadlines.services")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_demo(
    *, orders: int = DEFAULT_ORDERS, seed: int = DEFAULT_SEED, anchor: dt.date | None = None
) -> DemoSummary:
    if orders < 0 or orders > 200_000:
        raise DemoError("--orders must be between 0 and 200000.")
    if not database_is_empty():
        raise DemoError("The database already has data; the demo loads only into an empty database.")
    started = time.monotonic()
    at = anchor_for(anchor)
    # The callback queue's tasks are not needed: the demo opens callbacks itself, in the past.
    tasks = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=tasks), _quiet_calendar():
        with transaction.atomic():
            categories = resources.files("jiesu.demo").joinpath("data/categories.csv").read_bytes()
            load_shipped(kind="categories", data=categories, filename="categories.csv")
            streets = org.load_areas()
            units, police = org.build_units(streets)
            world = org.World(
                streets=streets,
                districts=sorted({(s.district_code, s.district) for s in streets}),
                units=units,
                police=police,
                categories=org.category_index(),
            )
            rules = org.build_routing_rules(world)
            org.build_limits()
            actors = people.create_people()
        # --orders counts every order: 1 % of them are the analysts' proactive work items.
        proactive = demo_insight.proactive_share(orders)
        plans = plan_orders(world=world, seed=seed, anchor=at,
                            orders=orders - proactive - demo_services.services_share(orders))
        cast = lifecycle.Cast(actors)
        # From here on the calendar and the limit table no longer change: read them once.
        with deadlines.cached():
            lifecycle.create_all(plans, cast)
            lifecycle.play_all(plans, world=world, cast=cast, seed=seed, limit=at)
        with transaction.atomic():
            demo_insight.load(anchor=at)  # monthly topics and practical measures
        with deadlines.cached():
            demo_insight.load_proactive(anchor=at, analyst=cast.actors["analyst1"], count=proactive)
            with transaction.atomic():  # service points, bookings, outreach, circuit filing, 12309 (issue 5)
                demo_services.load(anchor=at, actors=cast.actors, orders=orders)
    states = Counter(WorkOrder.objects.values_list("state", flat=True))
    return DemoSummary(
        anchor=at,
        areas=Area.objects.count(),
        units=Unit.objects.count(),
        rules=rules,
        users=User.objects.count(),
        orders=sum(states.values()),
        states=dict(sorted(states.items())),
        seconds=time.monotonic() - started,
    )
