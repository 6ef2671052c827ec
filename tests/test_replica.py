"""Read replica (``jiesu.ops.replica``, ``JIESU_REPLICA_URL``): with a "replica" alias the insight
and scorecard reads run there, writes and the reads that decide a write never do, the desks read
the primary; without it nothing is routed.

The tests of ``TestWithReplica`` run with a "replica" alias as the setting makes it, pointed at
the test database as its ``TEST: {"MIRROR": "default"}`` does: a second connection to the same
database. It only sees committed rows, hence transactional tests there (a plain test's rows stay
in the open transaction of the primary's connection). The rest of the suite runs without one."""

from __future__ import annotations

import copy
import importlib
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiesu import clock
from jiesu.followup import daily, periods
from jiesu.insight import rollup
from jiesu.insight.dashboard import Period, dashboard
from jiesu.ops import replica
from jiesu.orders.models import Assignment, WorkOrder
from jiesu.settings import replica_database
from tests.test_insight_views import handled

ORDER_TABLES = re.compile(r'"(orders_workorder|orders_assignment|insight_dashboardday)"')
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Queries:
    """The SQL run on the primary and on the replica during the block."""

    def __enter__(self) -> Queries:
        self._on = {alias: CaptureQueriesContext(connections[alias]) for alias in (DEFAULT_DB_ALIAS, replica.ALIAS)
                    if alias in connections.settings}
        for ctx in self._on.values():
            ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for ctx in self._on.values():
            ctx.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        ctx = self._on.get(alias)
        return [q["sql"] for q in ctx.captured_queries] if ctx else []

    @property
    def primary(self) -> list[str]:
        return self.sql(DEFAULT_DB_ALIAS)

    @property
    def replica(self) -> list[str]:
        return self.sql(replica.ALIAS)


def _orders(city, new_order) -> list[WorkOrder]:
    return [handled(city, new_order), handled(city, new_order, area_code="110108001"), new_order()]


def _get(client, city, user: str, url: str, **query):
    client.force_login(city.users[user])
    with Queries() as q:
        response = client.get(url, query)
    assert response.status_code == 200, url
    return response, q


def _read_on_replica(q: Queries) -> None:
    """The page's counting ran on the replica, read-only; the primary answered only the
    session, the user and the permission check."""
    assert any(ORDER_TABLES.search(s) for s in q.replica), q.replica
    assert not any(WRITE.match(s) for s in q.replica)
    assert not any(ORDER_TABLES.search(s) for s in q.primary), q.primary


# ---------------------------------------------------------------------------------------------
# Without a replica


@pytest.mark.django_db
def test_without_a_replica_nothing_is_routed(client, city, new_order):
    handled(city, new_order)
    assert not replica.configured() and replica.ALIAS not in connections.settings
    router = replica.Router()
    order = WorkOrder.objects.get()
    with replica.reading():
        assert replica.db() == DEFAULT_DB_ALIAS and replica.connection() is connections[DEFAULT_DB_ALIAS]
        assert router.db_for_read(WorkOrder) is None and router.db_for_write(WorkOrder) is None
        assert router.allow_relation(order, order.area) is None
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "orders") is None
    response, q = _get(client, city, "analyst", reverse("insight:dashboard"))
    assert any(ORDER_TABLES.search(s) for s in q.primary) and q.replica == []


# ---------------------------------------------------------------------------------------------
# The settings


def test_the_setting_makes_a_mirrored_alias_kept_connected_like_the_primary():
    primary = {"ENGINE": "django.db.backends.postgresql", "NAME": "jiesu", "CONN_MAX_AGE": 60}
    got = replica_database("postgres://reader@standby.example:5432/jiesu", primary)
    assert got["ENGINE"] == "django.db.backends.postgresql"
    assert (got["HOST"], got["USER"], got["NAME"]) == ("standby.example", "reader", "jiesu")
    assert got["CONN_MAX_AGE"] == 60 and got["TEST"] == {"MIRROR": "default"}
    with pytest.raises(ImproperlyConfigured):  # a replica of an embedded SQLite database
        replica_database("postgres://reader@standby.example:5432/jiesu",
                         {"ENGINE": "django.db.backends.sqlite3", "NAME": "x", "CONN_MAX_AGE": 60})
    with pytest.raises(ImproperlyConfigured):
        replica_database("sqlite:///tmp/x.sqlite3", primary)


def test_the_variable_adds_the_alias_and_its_router(monkeypatch):
    """The settings module itself, re-read with the variables set (Django's settings, read at
    start-up, stay as they are), then re-read as it was."""
    import jiesu.settings as module

    monkeypatch.setenv("JIESU_DATABASE_URL", "postgres://jiesu@primary.example:5432/jiesu")
    monkeypatch.setenv("JIESU_REPLICA_URL", "postgres://reader@standby.example:5432/jiesu")
    try:
        importlib.reload(module)
        assert module.DATABASES["replica"]["HOST"] == "standby.example"
        assert module.DATABASE_ROUTERS == [replica.ROUTER]
        monkeypatch.delenv("JIESU_REPLICA_URL")
        importlib.reload(module)
        assert "replica" not in module.DATABASES and module.DATABASE_ROUTERS == []  # Django routes nothing
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_the_router_never_migrates_the_replica():
    assert replica.Router().allow_migrate(replica.ALIAS, "orders", "workorder") is False


@pytest.fixture(scope="class")
def replica_alias(django_db_setup):
    """The "replica" alias for a class's tests. Class-scoped, so that it exists before each
    test's database setup (which checks the aliases a test names and guards the others), and
    is gone before the next test outside the class."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[replica.ALIAS] = {**copy.deepcopy(default),
                                           "TEST": {**default["TEST"], "MIRROR": DEFAULT_DB_ALIAS}}
    routers = override_settings(DATABASE_ROUTERS=[replica.ROUTER])
    routers.enable()
    try:
        yield
    finally:
        routers.disable()
        connections[replica.ALIAS].close()
        del connections[replica.ALIAS]
        del connections.settings[replica.ALIAS]


@pytest.mark.usefixtures("replica_alias")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, replica.ALIAS])
class TestWithReplica:
    # -----------------------------------------------------------------------------------------
    # The insight and scorecard reads

    def test_the_dashboard_reads_the_replica(self, client, city, new_order):
        _orders(city, new_order)
        response, q = _get(client, city, "analyst", reverse("insight:dashboard"))
        _read_on_replica(q)
        assert any("insight_dashboardday" in s for s in q.replica)  # the roll-ups, and the orders of dirty days
        # Counted from the orders (a unit's handler: finer than a district), the timings' raw SQL too.
        with Queries() as q:
            d = dashboard(city.actor("handler"), Period.last_days(7))
        assert d.total == 2 and d.timings[0].n == 2
        _read_on_replica(q)
        assert any("ROW_NUMBER() OVER" in s for s in q.replica)
        # The city's numbers, from the roll-ups once refreshed.
        rollup.refresh()
        with Queries() as q:
            d = dashboard(city.actor("analyst"), Period.last_days(7))
        assert d.total == 3 and {c.code: c.n for c in d.by_district} == {"110105": 2, "110108": 1}
        _read_on_replica(q)

    def test_the_hotspots_read_the_replica(self, client, city, new_order):
        for _ in range(3):
            new_order()
        response, q = _get(client, city, "analyst", reverse("insight:hotspots"), min=3)
        _read_on_replica(q)
        key = WorkOrder.objects.order_by("received_at", "id").values_list("number", flat=True)[0]
        response, q = _get(client, city, "analyst", reverse("insight:hotspot", args=[key]), min=3)
        _read_on_replica(q)

    def test_the_scorecards_their_exports_and_the_report_read_the_replica(self, client, city, new_order):
        _orders(city, new_order)
        month = periods.containing("month", clock.now())
        for level in ("unit", "district", "street"):
            response, q = _get(client, city, "analyst", reverse("followup:scorecards"), level=level, period=month.key)
            _read_on_replica(q)
            assert 'data-key="110105001"' in response.content.decode() or level != "street"
        for fmt in ("csv", "xlsx"):
            response, q = _get(client, city, "analyst", reverse("followup:export", args=[fmt]), level="street",
                               period=month.key)
            _read_on_replica(q)
        response, q = _get(client, city, "analyst", reverse("followup:report", args=[month.key]))
        _read_on_replica(q)
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":  # the counts' planner settings, where they run
            assert any("SET LOCAL jit" in s for s in q.replica)
            assert not any("SET LOCAL" in s for s in q.primary)

    # -----------------------------------------------------------------------------------------
    # What never goes there

    def test_writes_go_to_the_primary_also_for_rows_read_from_the_replica(self, city, new_order):
        order = new_order()
        with Queries() as q, replica.reading():
            row = WorkOrder.objects.get(pk=order.pk)
            assert row._state.db == replica.ALIAS
            row.title = "路灯不亮"
            row.save(update_fields=["title", "updated_at"])
            row.area = city.sanlitun  # read from the primary: the router allows the relation
        assert [s for s in q.replica if "orders_workorder" in s] and not any(WRITE.match(s) for s in q.replica)
        assert any(WRITE.match(s) and "orders_workorder" in s for s in q.primary)
        assert WorkOrder.objects.get(pk=order.pk).title == "路灯不亮"

    def test_the_roll_ups_refresh_and_marks_read_the_primary_even_inside_reading(self, city, new_order,
                                                                                  monkeypatch):
        _orders(city, new_order)
        monkeypatch.setattr(rollup, "REFRESH_DAYS", 3)  # the dirty and missing days of the last three
        monkeypatch.setattr(daily, "SCORE_DAYS", 3)
        with Queries() as q, replica.reading():
            assert rollup.refresh() == 3
            assert daily.refresh() == 3
            # A saved assignment marks its order's day, read from the primary.
            lead = Assignment.objects.using(DEFAULT_DB_ALIAS).order_by("id")[0]
            assert "order" not in lead._state.fields_cache
            lead.save()
        assert q.replica == []
        assert any(WRITE.match(s) and "insight_dashboardday" in s for s in q.primary)

    def test_inside_a_transaction_on_the_primary_reads_stay_there(self, city, new_order):
        order = new_order()
        with Queries() as q, transaction.atomic(), replica.reading():
            assert replica.db() == DEFAULT_DB_ALIAS
            WorkOrder.objects.filter(pk=order.pk).update(title="改了")
            assert WorkOrder.objects.get(pk=order.pk).title == "改了"  # its own write
        assert q.replica == []

    def test_the_desks_read_the_primary(self, client, city, new_order):
        order = _orders(city, new_order)[0]
        waiting = new_order()
        for user, url in [("handler", reverse("desk:inbox")), ("dispatcher", reverse("desk:dispatch")),
                          ("dispatcher", reverse("desk:order", args=[order.number])),
                          ("dispatcher", reverse("desk:order", args=[waiting.number])),
                          ("analyst", reverse("desk:orders"))]:
            response, q = _get(client, city, user, url)
            assert q.replica == [], url
            assert any(ORDER_TABLES.search(s) for s in q.primary), url

    def test_a_worker_thread_reads_where_its_caller_reads(self):
        """The scorecard's time slices run on threads of their own (``daily._grouped``)."""
        with ThreadPoolExecutor(max_workers=1) as pool, replica.reading():
            assert replica.db() == replica.ALIAS
            assert pool.submit(replica.carried(replica.db)).result() == replica.ALIAS
            assert pool.submit(replica.db).result() == DEFAULT_DB_ALIAS  # a bare thread: not reading
        assert replica.db() == DEFAULT_DB_ALIAS


    def test_jiesu_check_asks_the_replica(self, city):
        out = io.StringIO()
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            with pytest.raises(CommandError, match="read replica"):  # no pg_is_in_recovery() there
                call_command("jiesu_check", stdout=out)
            return
        call_command("jiesu_check", stdout=out)
        text = out.getvalue()
        # The test's "replica" is the primary itself: no standby, nothing replayed.
        assert "replica: postgresql" in text and "last replay unknown" in text and "not a standby" in text
