"""Read replica (``jiesu.ops.replica``, ``JIESU_REPLICA_URL``): with a "replica" alias the insight
and scorecard reads run there, writes and the reads that decide a write never do, the desks read
the primary; without it nothing is routed.

The tests of ``TestWithReplica`` run with a "replica" alias as the setting makes it, pointed at
the test database as its ``TEST: {"MIRROR": "default"}`` does: a second connection to the same
database. It only sees committed rows, hence transactional tests there (a plain test's rows stay
in the open transaction of the primary's connection). Those of ``TestReplicaDown`` point it at a
replica that cannot be reached (a closed port on PostgreSQL, a missing directory on SQLite), so
both run on either database. The rest of the suite runs without one."""

from __future__ import annotations

import copy
import importlib
import io
import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
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

    def __init__(self, aliases: tuple[str, ...] = (DEFAULT_DB_ALIAS, replica.ALIAS)) -> None:
        self._aliases = aliases  # capturing connects first: not to a replica that is down

    def __enter__(self) -> Queries:
        self._on = {alias: CaptureQueriesContext(connections[alias]) for alias in self._aliases
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


@pytest.fixture(autouse=True)
def _forgotten():
    """Each test starts with a process that knows nothing of the replica's health."""
    replica.forget()
    yield
    replica.forget()


def _orders(city, new_order) -> list[WorkOrder]:
    return [handled(city, new_order), handled(city, new_order, area_code="110108001"), new_order()]


def _get(client, city, user: str, url: str, aliases: tuple[str, ...] = (DEFAULT_DB_ALIAS, replica.ALIAS), **query):
    client.force_login(city.users[user])
    with Queries(aliases) as q:
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
    assert got["OPTIONS"]["connect_timeout"] == 2  # a replica that is down costs a request 2 s, not minutes
    assert replica_database("postgres://reader@standby.example/jiesu?connect_timeout=5",
                            primary)["OPTIONS"]["connect_timeout"] == 5
    # A replica that holds a query cancels it after 10 s; a host that vanished is given up by TCP.
    assert got["OPTIONS"]["options"] == "-c statement_timeout=10000"
    assert {k: got["OPTIONS"][k] for k in ("keepalives", "keepalives_idle", "keepalives_interval",
                                           "keepalives_count", "tcp_user_timeout")} == {
        "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
        "tcp_user_timeout": 10_000}
    assert replica_database("postgres://reader@standby.example/jiesu", primary,
                            statement_timeout=2.5)["OPTIONS"]["options"] == "-c statement_timeout=2500"
    assert "options" not in replica_database("postgres://reader@standby.example/jiesu", primary,
                                             statement_timeout=0)["OPTIONS"]  # 0: none
    own = replica_database("postgres://reader@standby.example/jiesu?keepalives_idle=30"
                           "&options=-c%20statement_timeout%3D60s", primary)["OPTIONS"]  # the URL's own win
    assert own["keepalives_idle"] == 30 and own["options"] == "-c statement_timeout=60s"
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


def _mirror() -> dict:
    """The primary's settings as a test mirror of it."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    return {**copy.deepcopy(default), "TEST": {**default["TEST"], "MIRROR": DEFAULT_DB_ALIAS}}


def _with_alias(settings_dict: dict):
    """The "replica" alias with these settings, and the router, for the extent of a fixture."""
    connections.settings[replica.ALIAS] = settings_dict
    routers = override_settings(DATABASE_ROUTERS=[replica.ROUTER])
    routers.enable()
    replica.forget()
    try:
        yield
    finally:
        replica.forget()
        routers.disable()
        connections[replica.ALIAS].close()
        del connections[replica.ALIAS]
        del connections.settings[replica.ALIAS]


@pytest.fixture(scope="class")
def replica_alias(django_db_setup):
    """The "replica" alias for a class's tests. Class-scoped, so that it exists before each
    test's database setup (which checks the aliases a test names and guards the others), and
    is gone before the next test outside the class."""
    yield from _with_alias(_mirror())


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
        assert "replica: postgresql" in text and "lag unknown" in text and "not a standby" in text

    # -----------------------------------------------------------------------------------------
    # A replica that lags

    def test_a_replica_far_behind_leaves_the_reads_on_the_primary_until_it_catches_up(
            self, client, city, new_order, monkeypatch, caplog, settings):
        """Its lag, looked at once per REPLICA_LAG_CHECK_SECONDS (here the test's replica is
        the primary itself, which has no lag: what the standby says is made up)."""
        _orders(city, new_order)
        settings.JIESU = {**settings.JIESU, "REPLICA_MAX_LAG_SECONDS": 300, "REPLICA_LAG_CHECK_SECONDS": 10}
        now = _clock(monkeypatch)
        says = [replica.Status(True, 4000.0)]
        looks = []
        monkeypatch.setattr(replica, "status", lambda: looks.append(now[0]) or says[-1])
        response, q = _get(client, city, "analyst", reverse("insight:dashboard"))
        assert q.replica == [] and any(ORDER_TABLES.search(s) for s in q.primary)
        assert "4000 s behind (limit 300 s): insight reads go to the primary" in caplog.text
        now[0] += 9  # not looked at again before 10 s
        says.append(replica.Status(True, 0.5))
        response, q = _get(client, city, "analyst", reverse("insight:hotspots"), min=3)
        assert q.replica == [] and len(looks) == 1
        now[0] += 2
        response, q = _get(client, city, "analyst", reverse("insight:dashboard"))
        _read_on_replica(q)
        assert len(looks) == 2 and "answers again (0.5 s behind)" in caplog.text
        # No limit: never looked at for lag's sake (the look still finds a replica that is down).
        settings.JIESU = {**settings.JIESU, "REPLICA_MAX_LAG_SECONDS": 0}
        says.append(replica.Status(True, 99999.0))
        now[0] += 11
        response, q = _get(client, city, "analyst", reverse("insight:dashboard"))
        _read_on_replica(q)

    def test_jiesu_check_warns_of_a_replica_far_behind(self, city, monkeypatch):
        monkeypatch.setattr(replica, "status", lambda: replica.Status(True, 4000.0))
        out = io.StringIO()
        call_command("jiesu_check", stdout=out)
        assert "replica: " in out.getvalue() and "4000.0 s behind" in out.getvalue()
        assert "warning: the read replica is 4000 s behind (JIESU_REPLICA_MAX_LAG: 300 s)" in out.getvalue()

    def test_an_error_of_a_replica_that_answers_is_raised_not_rerun(self, caplog):
        """A recovery conflict (the standby's replay needed rows the query read): SQLSTATE 40001."""
        calls = []

        @replica.reading()
        def conflict() -> None:
            calls.append(replica.db())
            raise OperationalError("canceling statement due to conflict with recovery") from (
                psycopg.errors.SerializationFailure("canceling statement due to conflict with recovery"))

        with pytest.raises(OperationalError, match="conflict with recovery"):
            conflict()
        assert calls == [replica.ALIAS] and "jiesu.replica" not in caplog.text
        assert replica.in_use()

    def test_a_statement_the_replica_cancelled_reruns_on_the_primary_without_a_look(self, monkeypatch, caplog):
        """Its statement_timeout (SQLSTATE 57014): a replica that holds queries. It is avoided at
        once — a look would wait as long — and the call runs again on the primary. The real
        timeout on PostgreSQL: ``TestReplicaHangs``."""
        now = _clock(monkeypatch)
        replica._health.looked_at = now[0]  # a look a moment ago found it answering
        looks = []
        monkeypatch.setattr(replica, "status", lambda: looks.append(1) or replica.Status(True, 0.0))
        calls = []

        @replica.reading()
        def held() -> str:
            calls.append(replica.db())
            if replica.db() == replica.ALIAS:
                raise OperationalError("canceling statement due to statement timeout") from (
                    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
            return "answered"

        assert held() == "answered"
        assert calls == [replica.ALIAS, DEFAULT_DB_ALIAS] and looks == []
        assert "does not answer (canceling statement due to statement timeout): insight reads go to the primary " \
               "for 30 s" in caplog.text
        now[0] += 29
        with replica.reading():
            assert replica.db() == DEFAULT_DB_ALIAS and looks == []  # the back-off


def _clock(monkeypatch) -> list[float]:
    """The replica's clock (``replica.monotonic``), moved by hand: ``now[0] += seconds``."""
    now = [1000.0]
    monkeypatch.setattr(replica, "monotonic", lambda: now[0])
    return now


# ---------------------------------------------------------------------------------------------
# A replica that does not answer


@pytest.fixture(scope="class")
def dead_replica(django_db_setup):
    """A "replica" alias that cannot be reached: on PostgreSQL a closed port (127.0.0.1:1, the
    connect is refused at once), on SQLite a file in a directory that does not exist. Both
    raise OperationalError on connect, as a standby that is down does."""
    dead = _mirror()
    if dead["ENGINE"] == "django.db.backends.postgresql":
        dead.update(HOST="127.0.0.1", PORT=1)
    else:
        dead["NAME"] = "/nonexistent-jiesu-dir/replica.sqlite3"
    yield from _with_alias(dead)


PRIMARY = (DEFAULT_DB_ALIAS,)


@pytest.mark.usefixtures("dead_replica")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, replica.ALIAS])
class TestReplicaDown:
    def test_the_pages_read_the_primary_and_the_log_says_so(self, client, city, new_order, monkeypatch, caplog):
        _orders(city, new_order)
        _clock(monkeypatch)
        response, q = _get(client, city, "analyst", reverse("insight:dashboard"), PRIMARY)
        assert any(ORDER_TABLES.search(s) for s in q.primary)
        assert "does not answer" in caplog.text and "insight reads go to the primary for 30 s" in caplog.text
        assert [r.levelname for r in caplog.records if r.name == "jiesu.replica"] == ["WARNING"]
        # The selectors answer from the primary: the dashboard, the hotspots, a ranking.
        assert dashboard(city.actor("handler"), Period.last_days(7)).total == 2
        month = periods.containing("month", clock.now())
        for url, query in [(reverse("insight:hotspots"), {"min": 1}),
                           (reverse("followup:scorecards"), {"level": "street", "period": month.key}),
                           (reverse("followup:export", args=["csv"]), {"level": "street", "period": month.key})]:
            response, q = _get(client, city, "analyst", url, PRIMARY, **query)
            assert any(ORDER_TABLES.search(s) for s in q.primary), url
        response, q = _get(client, city, "analyst", reverse("followup:scorecards"), PRIMARY, level="street",
                           period=month.key)
        assert 'data-key="110105001"' in response.content.decode()

    def test_the_back_off_leaves_the_replica_alone_for_its_duration(self, city, new_order, monkeypatch, caplog,
                                                                   settings):
        settings.JIESU = {**settings.JIESU, "REPLICA_BACKOFF_SECONDS": 30}
        handled(city, new_order)
        now = _clock(monkeypatch)
        attempts = _connects(monkeypatch)
        assert dashboard(city.actor("handler"), Period.last_days(7)).total == 1
        assert len(attempts) == 2  # the look, and its second try on a fresh connection
        for later in (1, 15, 29.9):  # not tried again
            now[0] = 1000 + later
            with replica.reading():
                assert replica.db() == DEFAULT_DB_ALIAS
            assert dashboard(city.actor("handler"), Period.last_days(7)).total == 1
        assert len(attempts) == 2 and caplog.text.count("does not answer") == 1
        now[0] = 1030  # over: one look, still down, another 30 s
        assert dashboard(city.actor("handler"), Period.last_days(7)).total == 1
        assert len(attempts) == 4 and caplog.text.count("does not answer") == 2
        now[0] = 1059
        with replica.reading():
            assert replica.db() == DEFAULT_DB_ALIAS
        assert len(attempts) == 4

    def test_a_read_that_fails_on_the_replica_runs_again_on_the_primary(self, city, new_order, monkeypatch,
                                                                          caplog):
        """The replica went away after the last look said it answers: the query fails, the
        call reruns whole on the primary — the outermost call, so none of it is the replica's."""
        handled(city, new_order)
        now = _clock(monkeypatch)
        replica._health.looked_at = now[0]  # a look a moment ago found it answering
        calls = []

        @replica.reading()
        def inner() -> int:
            calls.append(("inner", replica.db()))
            return WorkOrder.objects.count()

        @replica.reading()
        def outer() -> int:
            calls.append(("outer", replica.db()))
            return inner()

        assert outer() == 1
        assert calls == [("outer", replica.ALIAS), ("inner", replica.ALIAS),
                         ("outer", DEFAULT_DB_ALIAS), ("inner", DEFAULT_DB_ALIAS)]
        assert "does not answer" in caplog.text

    def test_jiesu_check_reports_it(self, city):
        with pytest.raises(CommandError, match="the read replica .* does not answer, the insight pages read the primary"):
            call_command("jiesu_check", stdout=io.StringIO())


def _connects(monkeypatch) -> list[int]:
    """Connection attempts to the replica from this thread."""
    conn = connections[replica.ALIAS]
    attempts: list[int] = []
    connect = conn.get_new_connection

    def counted(params):
        attempts.append(1)
        return connect(params)

    monkeypatch.setattr(conn, "get_new_connection", counted)
    return attempts


# ---------------------------------------------------------------------------------------------
# A replica that takes a query and holds it


@pytest.fixture(scope="class")
def held_replica(django_db_setup):
    """A "replica" alias with the connection options the setting gives a real one
    (``replica_database``: statement_timeout, keepalives), a short statement_timeout (0.5 s), on
    the test database like ``replica_alias``."""
    alias = _mirror()
    made = replica_database(f"postgres://{alias['USER']}@{alias['HOST']}:{alias['PORT']}/{alias['NAME']}",
                            alias, statement_timeout=0.5)
    alias["OPTIONS"] = made["OPTIONS"]
    yield from _with_alias(alias)


@pytest.mark.skipif(connections[DEFAULT_DB_ALIAS].vendor != "postgresql",
                    reason="statement_timeout is PostgreSQL's; a replica is PostgreSQL only")
@pytest.mark.usefixtures("held_replica")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, replica.ALIAS])
class TestReplicaHangs:
    def test_a_query_the_replica_holds_is_cancelled_and_answered_by_the_primary(self, city, new_order,
                                                                               monkeypatch, caplog):
        """A standby whose replay holds a lock the insight query waits for (here: another
        connection holds the order table's ACCESS EXCLUSIVE lock). The replica's
        statement_timeout cancels the query, the call reruns on the primary. The test's replica
        is the primary's database, so the lock is let go when the fallback begins (``_avoid``),
        as the primary's own connection would otherwise wait for it too."""
        handled(city, new_order)
        now = _clock(monkeypatch)
        with connections[replica.ALIAS].cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "500ms"
        holder = connections.create_connection(DEFAULT_DB_ALIAS)
        let_go = []
        avoid = replica._avoid

        def let_go_then_avoid(err: BaseException) -> None:
            let_go.append(str(err).strip())
            with holder.cursor() as cursor:
                cursor.execute("ROLLBACK")
            avoid(err)

        monkeypatch.setattr(replica, "_avoid", let_go_then_avoid)
        try:
            with holder.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("LOCK TABLE orders_workorder IN ACCESS EXCLUSIVE MODE")
            with Queries() as q:
                d = dashboard(city.actor("handler"), Period.last_days(7))
        finally:
            holder.close()
        assert d.total == 1
        assert let_go == ["canceling statement due to statement timeout"]
        assert any('"orders_workorder"' in s for s in q.replica)  # sent there, held, cancelled
        assert any('"orders_workorder"' in s for s in q.primary)  # the whole call again
        assert "read replica" in caplog.text and "insight reads go to the primary for 30 s" in caplog.text
        now[0] += 29
        with replica.reading():
            assert replica.db() == DEFAULT_DB_ALIAS  # the back-off
