"""The read replica (``jiesu.ops.replica``) against a real streaming standby. Run by hand, not by
the tests, on a machine with a local PostgreSQL:

    .venv/bin/python -m bench.replica_standby        # as root or postgres, beside the server

1. ``pg_basebackup -R`` of the local server (``REPL_PRIMARY``, 127.0.0.1:5432) into a temporary
   directory, started as a hot standby on ``REPL_STANDBY_PORT`` (5499);
2. a dedicated database ``repl_standby`` on the primary, migrated, with ``REPL_ORDERS`` (20,000)
   orders of ``bench.scorecard``'s generator and their roll-ups; waited for on the standby;
3. Jiesu with ``JIESU_REPLICA_URL`` at the standby: ``jiesu check``; the dashboard and a street
   ranking, each query counted on the connection it ran on, and the routed connection asked
   ``pg_is_in_recovery()`` and its port;
4. replay paused on the standby and a write on the primary: beyond ``JIESU_REPLICA_MAX_LAG``
   (2 s here) the reads go to the primary and ``jiesu check`` warns; replay resumed, back;
5. the standby stopped: the dashboard still answers (from the primary), the log warns, ``jiesu
   check`` fails;
6. always: the standby stopped, its directory removed, the database dropped.

Needs ``pg_basebackup`` and ``pg_ctl`` of the server's version and a replication entry for
127.0.0.1 in the primary's pg_hba.conf (``host replication postgres 127.0.0.1/32 trust``: a
reload, ``SELECT pg_reload_conf()``, no restart); it stops and says so if that is missing.
``wal_level = replica`` and ``max_wal_senders`` > 0 are PostgreSQL's defaults since 10. No
replication slot (a slot left behind by a crashed run would keep WAL on the primary forever).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PRIMARY = os.environ.get("REPL_PRIMARY", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("REPL_STANDBY_PORT", "5499"))
ORDERS = int(os.environ.get("REPL_ORDERS", "20000"))
DB = "repl_standby"
STANDBY = f"postgres://postgres@127.0.0.1:{PORT}"
# Copied from the primary: a hot standby refuses to start with less of these than its primary.
MATCHED = ("max_connections", "max_worker_processes", "max_wal_senders", "max_locks_per_transaction",
           "max_prepared_transactions")


def say(text: str) -> None:
    print(text, flush=True)


def admin(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description else []


def as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """The server's tools run as its owner (a cluster's files must be the postmaster's)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, **kw)  # noqa: S603 (our own argument lists)


def start_standby(tmp: Path) -> tuple[Path, Path]:
    major = int(admin(f"{PRIMARY}/postgres", "SHOW server_version_num")[0][0]) // 10000
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (bindir / "pg_basebackup").exists():
        sys.exit(f"no pg_basebackup in {bindir}")
    data = tmp / "data"
    say(f"pg_basebackup of {PRIMARY} (PostgreSQL {major}) into {data} …")
    started = time.perf_counter()
    done = as_postgres([str(bindir / "pg_basebackup"), "-d", f"{PRIMARY}/postgres", "-D", str(data), "-R",
                        "-X", "stream", "-c", "fast"])
    if done.returncode:
        if "pg_hba.conf" in done.stderr:
            sys.exit(f"{done.stderr.strip()}\nThe primary refuses replication connections: add "
                     "`host replication postgres 127.0.0.1/32 trust` to its pg_hba.conf and "
                     "`SELECT pg_reload_conf()` (a reload, no restart), then run again.")
        sys.exit(done.stderr)
    size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    say(f"  {size / 2**30:.1f} GiB in {time.perf_counter() - started:.0f} s")
    matched = dict(admin(f"{PRIMARY}/postgres", "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                         list(MATCHED)))
    # Debian keeps postgresql.conf and pg_hba.conf in /etc, outside the copied data directory.
    (data / "postgresql.conf").write_text("\n".join([
        f"port = {PORT}", "listen_addresses = '127.0.0.1'", f"unix_socket_directories = '{tmp}'",
        "hot_standby = on", "hot_standby_feedback = on", "shared_buffers = 64MB",
        *(f"{k} = {v}" for k, v in matched.items()), "",
    ]))
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    if os.geteuid() == 0:
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(data / name, "postgres", "postgres")
    pg_ctl = bindir / "pg_ctl"
    done = as_postgres([str(pg_ctl), "-D", str(data), "-l", str(tmp / "standby.log"), "-w", "start"])
    if done.returncode:
        sys.exit(f"the standby did not start: {done.stdout}{done.stderr}{(tmp / 'standby.log').read_text()}")
    say(f"standby on port {PORT}: in recovery = {admin(f'{STANDBY}/postgres', 'SELECT pg_is_in_recovery()')[0][0]}")
    return pg_ctl, data


def wait_replayed(what: str = "replay") -> None:
    """Until the standby has replayed (or received) all the primary has written so far."""
    lsn = admin(f"{PRIMARY}/postgres", "SELECT pg_current_wal_lsn()")[0][0]
    column = "pg_last_wal_replay_lsn()" if what == "replay" else "pg_last_wal_receive_lsn()"
    started = time.perf_counter()
    while not admin(f"{STANDBY}/postgres", f"SELECT {column} >= %s::pg_lsn", lsn)[0][0]:
        if time.perf_counter() - started > 120:
            sys.exit(f"the standby did not {what} {lsn} in 120 s")
        time.sleep(0.1)


def jiesu(tmp: Path) -> None:
    """Steps 2-5, with Django set up on the primary's database and the standby as its replica."""
    os.environ.update(
        JIESU_DATA_DIR=str(tmp / "jiesu"), DJANGO_SETTINGS_MODULE="jiesu.settings",
        JIESU_DATABASE_URL=f"{PRIMARY}/{DB}", JIESU_REPLICA_URL=f"{STANDBY}/{DB}",
        JIESU_REPLICA_MAX_LAG="2", JIESU_REPLICA_LAG_CHECK="1", JIESU_REPLICA_BACKOFF="30",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import DEFAULT_DB_ALIAS, connections

    from bench.dashboard import _analyst
    from bench.scorecard import END, generate
    from jiesu import clock
    from jiesu.accounts.policy import Actor
    from jiesu.followup import periods
    from jiesu.followup.selectors import scorecard
    from jiesu.insight import rollup
    from jiesu.insight.dashboard import Period, dashboard
    from jiesu.ops import replica

    logging.getLogger("jiesu.replica").addHandler(logging.StreamHandler(sys.stdout))
    logging.getLogger("jiesu.replica").propagate = False  # once, on stdout beside the rest

    call_command("migrate", verbosity=0)
    say(f"generating {ORDERS:,} orders on the primary …")
    generate(ORDERS)
    now = dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(hours=9)
    month = periods.Period("month", (END - dt.timedelta(days=180)).replace(day=1))
    with clock.frozen(now):
        rollup.refresh()
    actor = Actor.of(_analyst())
    wait_replayed()
    say("the standby has replayed the load")

    def check() -> None:
        out = io.StringIO()
        try:
            call_command("jiesu_check", stdout=out)
        except CommandError as err:
            say("  " + out.getvalue().strip().replace("\n", "\n  "))
            say(f"  jiesu check failed: {err}")
        else:
            say("  " + out.getvalue().strip().replace("\n", "\n  "))

    def routed() -> str:
        with replica.reading():
            conn = replica.connection()
            with conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery(), inet_server_port()")
                standby, port = cur.fetchone()
        return f"{conn.alias} (port {port}, pg_is_in_recovery() = {standby})"

    def run(name: str, fn) -> None:
        with Counted(connections[DEFAULT_DB_ALIAS]) as primary, Counted(connections[replica.ALIAS]) as standby, \
                clock.frozen(now):
            started = time.perf_counter()
            fn()
            ms = (time.perf_counter() - started) * 1000
        say(f"  {name}: {ms:.0f} ms, queries on the primary {primary.n}, on the standby {standby.n}")

    def pages() -> None:
        run("dashboard (city, 30 days)", lambda: dashboard(actor, Period.last_days(30)))
        run(f"street ranking ({month.key})", lambda: scorecard("street", month))

    say("\n[3] routed reads with JIESU_REPLICA_URL at the standby")
    check()
    say(f"  a routed read's connection: {routed()}")
    pages()  # warm
    pages()

    say("\n[4] replay paused on the standby, a write on the primary")
    admin(f"{STANDBY}/postgres", "SELECT pg_wal_replay_pause()")
    time.sleep(3)
    admin(f"{PRIMARY}/{DB}", "CREATE TABLE repl_tick AS SELECT now() AS at")
    wait_replayed("receive")
    say(f"  the standby says: {replica.status()}")
    check()
    time.sleep(1.1)  # past JIESU_REPLICA_LAG_CHECK: the next read looks again
    say(f"  a routed read's connection: {routed()}")
    pages()
    admin(f"{STANDBY}/postgres", "SELECT pg_wal_replay_resume()")
    wait_replayed()
    time.sleep(1.1)
    say("  replay resumed:")
    say(f"  a routed read's connection: {routed()}")
    pages()

    say("\n[5] the standby stopped")
    stop_standby()
    pages()  # the kept connection fails: the call runs again on the primary
    say(f"  a routed read's connection: {routed()}")
    pages()  # in the back-off: not tried
    check()
    for alias in connections:
        connections[alias].close()


class Counted:
    """The queries run on a connection in the block (a failed one too). Unlike Django's
    CaptureQueriesContext it does not connect first: the standby may be down."""

    def __init__(self, conn) -> None:
        self.conn, self.n = conn, 0

    def __enter__(self) -> Counted:
        self.conn.force_debug_cursor, self.start = True, len(self.conn.queries_log)
        return self

    def __exit__(self, *exc) -> None:
        self.conn.force_debug_cursor, self.n = False, len(self.conn.queries_log) - self.start


_standby: list[tuple[Path, Path]] = []


def stop_standby() -> None:
    for pg_ctl, data in _standby:
        as_postgres([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"])
    _standby.clear()


def main() -> None:
    pwd.getpwnam("postgres")  # the server's owner, who runs the standby
    tmp = Path(tempfile.mkdtemp(prefix="jiesu-standby-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    say(f"load average {os.getloadavg()[0]:.1f} (2 cores; the machine is shared)")
    admin(f"{PRIMARY}/postgres", f"DROP DATABASE IF EXISTS {DB}")
    admin(f"{PRIMARY}/postgres", f"CREATE DATABASE {DB}")
    try:
        _standby.append(start_standby(tmp))
        jiesu(tmp)
    finally:
        stop_standby()
        shutil.rmtree(tmp, ignore_errors=True)
        admin(f"{PRIMARY}/postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        say(f"\ncleaned up: standby stopped, {tmp} removed, database {DB} dropped")


if __name__ == "__main__":
    main()
