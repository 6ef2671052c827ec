"""Shared fixtures: a small city with one of every kind of unit and a user for every role."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest

from jiesu.accounts.models import Membership, Role, User
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, Channel, RequestType
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.deadlines.services import seed_calendar_from_library
from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The suite runs without a read replica, also where JIESU_REPLICA_URL is set: a plain
    test's rows stay in its transaction on the primary, out of a replica connection's sight.
    tests/test_replica.py adds the alias for its own tests."""
    from django.db import connections

    connections.settings.pop("replica", None)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from django.core.cache import cache

    from jiesu.accounts.token_memory import TOKENS
    from jiesu.integrations.selectors import forget_active_subscriptions

    cache.clear()  # hotspot clusters cached by an earlier test (ids repeat after rollbacks)
    TOKENS.forget_all()  # tokens an earlier test's rolled-back users were accepted with
    forget_active_subscriptions()  # an earlier test's subscriptions were rolled back without a signal
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # client.login() authenticates without a request, which django-axes refuses; the lockout and
    # the public rate limits have their own tests (tests/test_security.py), which turn them on.
    settings.AXES_ENABLED = False
    settings.JIESU = {**settings.JIESU, "RATE_LIMITS": {k: "100000/1s" for k in settings.JIESU["RATE_LIMITS"]},
                      # New orders stay "received" for the test to act on, as they did when triage
                      # ran only after commit (which a test's transaction never reaches): the task
                      # path. tests/test_inline_triage.py turns intake's inline triage on.
                      "INLINE_TRIAGE": False}


@dataclass
class City:
    city: Area
    chaoyang: Area
    haidian: Area
    sanlitun: Area
    zhongguancun: Area
    centre: Unit
    chaoyang_centre: Unit
    sanlitun_office: Unit
    zhongguancun_office: Unit
    water: Unit
    police: Unit
    road: Category
    lamp: Category
    noise: Category
    users: dict[str, User]

    def actor(self, username: str) -> Actor:
        return Actor.of(self.users[username])


def build_city() -> City:
    # Transactional tests flush every table, the migration-seeded calendar included.
    seed_calendar_from_library()
    city = Area.objects.create(code="110000", name="北京市", level=AreaLevel.CITY)
    chaoyang = Area.objects.create(code="110105", name="朝阳区", level=AreaLevel.DISTRICT, parent=city)
    haidian = Area.objects.create(code="110108", name="海淀区", level=AreaLevel.DISTRICT, parent=city)
    sanlitun = Area.objects.create(code="110105001", name="三里屯街道", level=AreaLevel.STREET, parent=chaoyang)
    zgc = Area.objects.create(code="110108001", name="中关村街道", level=AreaLevel.STREET, parent=haidian)
    centre = Unit.objects.create(code="C12345", name="市民热线服务中心", kind=UnitKind.HOTLINE_CENTRE, area=city)
    cy_centre = Unit.objects.create(code="CY", name="朝阳区热线分中心", kind=UnitKind.DISTRICT_CENTRE, area=chaoyang,
                                    parent=centre)
    sanlitun_office = Unit.objects.create(code="SLT", name="三里屯街道办事处", kind=UnitKind.STREET_OFFICE,
                                          area=sanlitun)
    zgc_office = Unit.objects.create(code="ZGC", name="中关村街道办事处", kind=UnitKind.STREET_OFFICE, area=zgc)
    water = Unit.objects.create(code="WATER", name="自来水集团", kind=UnitKind.UTILITY, area=city)
    police = Unit.objects.create(code="PSB-SLT", name="三里屯派出所", kind=UnitKind.POLICE_STATION, area=sanlitun)
    infra = Category.objects.create(code="01", name="城市管理", name_en="City management")
    road = Category.objects.create(code="0101", name="道路", parent=infra)
    lamp = Category.objects.create(code="010101", name="路灯", parent=road)
    env = Category.objects.create(code="02", name="环境保护")
    noise = Category.objects.create(code="0201", name="噪音扰民", parent=env)
    users = {}

    def user(name: str, *grants: tuple[Unit, str], superuser: bool = False) -> None:
        u = User.objects.create_user(username=name, password="pw-" + name, display_name=name,
                                     is_superuser=superuser, is_staff=superuser)
        for unit, role in grants:
            Membership.objects.create(user=u, unit=unit, role=role)
        users[name] = u

    user("admin", superuser=True)
    user("calltaker", (centre, Role.CALL_TAKER))
    user("dispatcher", (centre, Role.DISPATCHER))
    user("cy_dispatcher", (cy_centre, Role.DISPATCHER))
    user("supervisor", (centre, Role.SUPERVISOR))
    user("analyst", (centre, Role.ANALYST))
    user("handler", (sanlitun_office, Role.HANDLER))
    user("lead", (sanlitun_office, Role.UNIT_LEAD))
    user("zgc_handler", (zgc_office, Role.HANDLER))
    user("water_handler", (water, Role.HANDLER))
    user("police_handler", (police, Role.HANDLER))
    user("outreach", (sanlitun_office, Role.OUTREACH))
    user("service", (sanlitun_office, Role.SERVICE_STAFF))
    user("nobody")
    return City(city, chaoyang, haidian, sanlitun, zgc, centre, cy_centre, sanlitun_office, zgc_office, water,
                police, road, lamp, noise, users)


@pytest.fixture
def city(db) -> City:
    return build_city()


def at(text: str) -> dt.datetime:
    """A time in Beijing: at("2026-09-30 16:00")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def new_order(city):
    """Create a received order as the call-taker; keyword arguments override the defaults."""
    from jiesu.orders.actions import RequesterInput, create_order

    def make(**kw):
        defaults = dict(
            actor=city.actor("calltaker"),
            request_type=RequestType.COMPLAINT,
            channel=Channel.HOTLINE,
            content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。",
            requesters=[RequesterInput(phone="13812345678", name="张三")],
            address="朝阳区三里屯路19号",
            category_code="010101",
            area_code="110105001",
        )
        defaults.update(kw)
        return create_order(**defaults)

    return make


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per browser-test module."""
    from tests.browser_kit import ARGS, CHROMIUM, SHOTS, require_chromium

    playwright_api = require_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
