"""PostgreSQL binds parameters on the server and prepares repeated statements (settings:
``JIESU_PG_SERVER_BINDING``, on by default); SQLite is left as it was."""

from __future__ import annotations

import pytest
from django.db import connection

from jiesu import settings as jiesu_settings
from jiesu.orders.models import WorkOrder

PG = connection.vendor == "postgresql"
URL = "postgres://postgres@127.0.0.1:5432/anything"


def test_postgresql_binds_on_the_server_unless_switched_off(monkeypatch):
    monkeypatch.setenv("JIESU_DATABASE_URL", URL)
    monkeypatch.delenv("JIESU_PG_SERVER_BINDING", raising=False)
    options = jiesu_settings._database()["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # PostgreSQL's own plan cache (auto): forcing a new plan for each call also re-planned every
    # foreign-key check; the inbox carries its units as constants instead.
    assert "plan_cache_mode" not in options["options"]
    monkeypatch.setenv("JIESU_PG_SERVER_BINDING", "0")
    off = jiesu_settings._database().get("OPTIONS", {})
    assert "server_side_binding" not in off and "plan_cache_mode" not in off["options"]


def test_sqlite_has_no_binding_options(monkeypatch):
    monkeypatch.delenv("JIESU_DATABASE_URL", raising=False)
    monkeypatch.setenv("JIESU_PG_SERVER_BINDING", "1")
    db = jiesu_settings._database()
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert "server_side_binding" not in db["OPTIONS"]


@pytest.mark.skipif(not PG, reason="prepared statements are PostgreSQL's")
@pytest.mark.django_db
def test_a_repeated_orm_query_is_prepared_with_its_values_as_parameters():
    if not connection.settings_dict["OPTIONS"].get("server_side_binding"):
        pytest.skip("JIESU_PG_SERVER_BINDING=0")
    for pk in range(1, 8):  # psycopg prepares from the 5th execution of the same text
        WorkOrder.objects.filter(pk=pk, number=f"n{pk}").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%"orders_workorder"%'])
        statements = [row[0] for row in cursor.fetchall()]
    assert len(statements) == 1  # one text for all seven: the values travel as $1, $2
    assert "$1" in statements[0] and "$2" in statements[0]


def test_postgresql_connections_start_without_parallel_workers_or_jit(monkeypatch):
    monkeypatch.setenv("JIESU_DATABASE_URL", URL)
    for binding in ("1", "0"):
        monkeypatch.setenv("JIESU_PG_SERVER_BINDING", binding)
        options = jiesu_settings._database()["OPTIONS"]["options"]
        assert "-c max_parallel_workers_per_gather=0" in options and "-c jit=off" in options
    # The URL's own options come last, so that a site's setting wins over these defaults.
    monkeypatch.setenv("JIESU_DATABASE_URL", f"{URL}?options=-c%20jit%3Don%20-c%20work_mem%3D8MB")
    assert jiesu_settings._database()["OPTIONS"]["options"] == (
        "-c max_parallel_workers_per_gather=0 -c jit=off -c jit=on -c work_mem=8MB")


@pytest.mark.skipif(not PG, reason="PostgreSQL's parallel workers")
@pytest.mark.django_db(transaction=True)
def test_a_scorecard_recount_asks_for_parallel_workers_for_its_transaction_only():
    from jiesu.followup import daily

    def workers() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return cursor.fetchone()[0]

    assert workers() == "0"  # the desks' short lookups
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    if connection.settings_dict["OPTIONS"].get("server_side_binding"):
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            assert cursor.fetchone()[0] == "auto"
    with daily._tuned():
        assert workers() == "2"
    assert workers() == "0"
