"""Intake over HTTP, Jiesu against django-helpdesk in the same run (issue 8, benchmarks 1, 2, 5).

For each database (SQLite, PostgreSQL) and each round, in turn:

- Jiesu as ``jiesu serve`` runs it: 2 gunicorn workers of ``JIESU_THREADS`` (4) threads, connections
  kept open, plus the background-task worker; without gunicorn's access log
  (``JIESU_ACCESS_LOG=0``), as the peer's gunicorn runs.
  The load is ``POST /api/v1/orders`` with a bearer token: validation, numbering, requester,
  event, then triage and auto-dispatch (which sets the deadlines) in the same transaction; the
  answer is the dispatched order's detail. The task worker sends the notifications the events
  cause (and would triage an order whose inline triage failed);
- Jiesu again with ``Prefer: respond-async`` (``BENCH_ASYNC=0`` leaves it out): each request is
  acknowledged with a receipt (202) and the task worker makes the orders in batches
  (``jiesu.orders.actions.receipts``). Its orders/s counts orders *made*, over the run plus the
  time the worker needed afterwards to make the last one; the acknowledgements/s are beside it;
- the peer, django-helpdesk 2.6.1 on Django 5.2 (``bench.peer_helpdesk``): 2 sync gunicorn workers
  (its reference set-up and its faster one, see there), ``POST /api/tickets/`` with a DRF token.

The load is wrk (Debian's ``wrk``, ``bench/intake.lua``): 1 thread, 8 connections, closed loop,
127.0.0.1. wrk rather than a Python client because it is C: at several hundred requests a second
it takes a few per cent of one core, where an asyncio/httpx client would take a large share of
the 2 cores the servers run on and would measure itself.

Each run: warm-up, then ``DURATION`` seconds; figures are orders/s acknowledged (2xx), p50/p99
latency, errors (non-2xx and socket errors), acknowledged vs stored (``lost`` = acknowledged but
not in the database, must be 0), CPU per order of the web workers (and of the task worker and of
PostgreSQL's backends for this database), the peak RSS (VmHWM) of every worker, the CPU other
processes on the machine used meanwhile (it is shared), and for Jiesu how long the task
worker took to catch up (and the CPU per order counted until it had). Ratios are against the peer measured in the same round;
odd rounds run the peer first, so that the machine's drift over minutes does not favour one side.
Beside the ratio of orders/s, ``cpu_ratio``: the peer's CPU per ticket over Jiesu's per order.

Knobs: BENCH_QUICK=1 (5 s runs, 1 round), BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNS,
BENCH_DBS="sqlite postgresql", BENCH_PEER=0 (Jiesu only), BENCH_ASYNC=0 (no receipts run),
BENCH_SYNC=0 (no one-at-a-time run), BENCH_PG_URL (the server, default
postgres://postgres@127.0.0.1:5432), BENCH_PG_PREFIX (databases <prefix>_jiesu and <prefix>_peer
are dropped and made anew; default bench_intake).

Writes bench/results/intake_http.json and prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUA = HERE / "intake.lua"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
DURATION = int(os.environ.get("BENCH_DURATION", "5" if QUICK else "20"))
WARMUP = 2 if QUICK else 5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
CONNS = int(os.environ.get("BENCH_CONNS", "8"))
DBS = os.environ.get("BENCH_DBS", "sqlite postgresql").split()
PEER = os.environ.get("BENCH_PEER", "1") != "0"
ASYNC = os.environ.get("BENCH_ASYNC", "1") != "0"
SYNC = os.environ.get("BENCH_SYNC", "1") != "0"  # 0: no one-at-a-time run (comparing intake set-ups)
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "bench_intake")
DRAIN_S = 10 if QUICK else 120
HZ = os.sysconf("SC_CLK_TCK")

JIESU_BODY = json.dumps({
    "request_type": "complaint",
    "channel": "hotline",
    "content": "工体北路12号门口的路灯坏了一个多星期，晚上出行很不方便，老人摔倒过，请尽快派人修理。编号%N",
    "address": "朝阳区三里屯街道工体北路12号",
    "requesters": [{"phone": "%P", "name": "张先生"}],
}, ensure_ascii=False)


# ---------------------------------------------------------------- Jiesu's side (child process)


def jiesu_tool(cmd: str, *args: str) -> None:
    """Runs inside Jiesu's environment (JIESU_DATA_DIR / JIESU_DATABASE_URL set by the parent)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from jiesu.orders.models import WorkOrder

    if cmd == "setup":
        from django.conf import settings
        from django.core.management import call_command
        from django.db import transaction

        from jiesu.accounts.models import ApiToken
        from jiesu.catalogue.models import RoutingRule
        from jiesu.dispatch.models import DispatchSettings
        from tests.conftest import build_city

        # Nobody logs in with these passwords: the fast hasher keeps the set-up short.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        call_command("migrate", verbosity=0)

        with transaction.atomic():
            city = build_city()
            _token, raw = ApiToken.issue(user=city.users["calltaker"], name="bench")
            # Street lights go to the street office; with the keyword classifier (no trained
            # model here) triage is 0.5 sure of that, so the threshold is lowered to 0.5 for
            # every order to be auto-dispatched at intake: triage, then dispatch with
            # its deadlines, as a routed order would be.
            RoutingRule.objects.create(category=city.lamp, area=None, lead_unit=city.sanlitun_office)
            config = DispatchSettings.load()
            config.threshold = 0.5
            config.save()
        print(json.dumps({"token": raw}))
    elif cmd == "count":
        from django_tasks_db.models import DBTaskResult

        from jiesu.orders.models import IntakeReceipt, ReceiptState

        pending = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
        receipts = IntakeReceipt.objects.filter(state=ReceiptState.PENDING).count()
        print(json.dumps({"stored": WorkOrder.objects.count(), "tasks_pending": pending + receipts,
                          "receipts_pending": receipts}))
    elif cmd == "verify":
        numbers = Path(args[0]).read_text().split()
        found = sum(WorkOrder.objects.filter(number__in=numbers[i : i + 900]).count()
                    for i in range(0, len(numbers), 900))
        stored = WorkOrder.objects.count() - int(args[1])
        print(json.dumps({"acknowledged": len(numbers), "acknowledged_stored": found, "lost": len(numbers) - found,
                          "stored": stored, "stored_not_acknowledged": stored - found}))
    elif cmd == "verify_receipts":
        # Acknowledged = the receipts answered 202; stored = made into an order that exists.
        from jiesu.orders.models import IntakeReceipt, ReceiptState

        ids = [int(i) for i in Path(args[0]).read_text().split()]
        made = sum(IntakeReceipt.objects.filter(pk__in=ids[i : i + 900], state=ReceiptState.MADE,
                                                order__isnull=False).count() for i in range(0, len(ids), 900))
        stored = WorkOrder.objects.count() - int(args[1])
        print(json.dumps({"acknowledged": len(ids), "acknowledged_stored": made, "lost": len(ids) - made,
                          "stored": stored, "stored_not_acknowledged": stored - made}))
    elif cmd == "triaged":
        from django.db.models import Count

        from jiesu.dispatch.models import TriageSuggestion

        rows = TriageSuggestion.objects.values("auto_dispatched").annotate(n=Count("id"))
        print(json.dumps({("dispatched" if r["auto_dispatched"] else "suggested"): r["n"] for r in rows}))


# ---------------------------------------------------------------- processes and /proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


def tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError):
        return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def machine_busy_ticks() -> int:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(parts) - parts[3] - parts[4]  # all but idle and iowait


def roles(pid: int) -> dict[str, list[int]]:
    """The processes of one server: gunicorn's master and workers, Jiesu's task worker."""
    out: dict[str, list[int]] = {"web": [], "master": [], "task": [], "other": []}
    pids = tree(pid)
    kids = _children()
    for p in pids:
        cmd = cmdline(p)
        if "gunicorn" in cmd:
            out["master" if any("gunicorn" in cmdline(k) for k in kids.get(p, [])) else "web"].append(p)
        elif "db_worker" in cmd or "-m jiesu worker" in cmd:
            out["task"].append(p)
        else:
            out["other"].append(p)
    return out


def pg_backends(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]).fetchall()
    return [r[0] for r in rows]


def pg_recreate(database: str) -> None:
    """Only the benchmark's own databases (<prefix>_jiesu, <prefix>_peer) are dropped."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", connect_timeout=3):
            return True
    except Exception as err:  # noqa: BLE001
        print(f"PostgreSQL at {PG_URL} not reachable ({err}); skipping it", flush=True)
        return False


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False)  # noqa: S603, S607
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False)  # noqa: S603, S607
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False)  # noqa: S603, S607
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench.intake_http needs wrk: apt-get install -y wrk")
    return found


# ---------------------------------------------------------------- the two systems


class System:
    name: str
    database: str  # a SQLite path or a postgres:// URL
    headers: str
    body: str
    ack: str
    path: str
    token: str = ""

    def __init__(self, db: str, work: Path) -> None:
        self.db = db
        self.log = work / f"{self.name}-{db}.log"

    def server(self, port: int) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def tool(self, *args: str) -> dict:
        raise NotImplementedError


class Jiesu(System):
    name = "jiesu"
    path = "/api/v1/orders"
    ack = '"number":%s*"(%d+)"'

    def __init__(self, db: str, work: Path) -> None:
        super().__init__(db, work)
        self.data_dir = work / f"{self.name}-{db}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pg_name = f"{PG_PREFIX}_{self.name.replace('-', '_')}"
        if db == "postgresql":
            pg_recreate(self.pg_name)
        self.token = self.tool("setup")["token"]
        self.headers = f"Authorization: Bearer {self.token}|Content-Type: application/json"
        self.body = JIESU_BODY

    def env(self) -> dict[str, str]:
        # No access log, as the peer's gunicorn (its default): like is measured against like.
        env = {**os.environ, "JIESU_DATA_DIR": str(self.data_dir), "DJANGO_SETTINGS_MODULE": "jiesu.settings",
               "JIESU_SWEEP_SECONDS": "0", "JIESU_ACCESS_LOG": "0", "PYTHONPATH": str(HERE.parent)}
        env.pop("JIESU_TASK_BACKEND", None)
        if self.db == "postgresql":
            env["JIESU_DATABASE_URL"] = f"{PG_URL}/{self.pg_name}"
        else:
            env.pop("JIESU_DATABASE_URL", None)
        return env

    def server(self, port: int) -> list[str]:
        return [sys.executable, "-m", "jiesu", "serve", "--port", str(port)]

    def tool(self, *args: str) -> dict:
        command = [sys.executable, "-m", "bench.intake_http", "--jiesu", *args]
        out = subprocess.run(command, env=self.env(), cwd=HERE.parent, check=True, capture_output=True, text=True)  # noqa: S603
        return json.loads(out.stdout.strip().splitlines()[-1])


class JiesuAsync(Jiesu):
    """The same requests with ``Prefer: respond-async``: acknowledged with a receipt (202) when
    its row is committed, made by the task worker's batch intake (jiesu.orders.actions.receipts).
    Its orders/s counts orders *made*, from the first request until the last receipt of the run
    was made, not acknowledgements."""

    name = "jiesu-async"
    ack = '"receipt":%s*(%d+)'

    def __init__(self, db: str, work: Path) -> None:
        super().__init__(db, work)
        self.headers += "|Prefer: respond-async"


class Peer(System):
    name = "peer"
    path = "/api/tickets/"
    ack = '"id":%s*(%d+)'

    def __init__(self, db: str, work: Path) -> None:
        from bench import peer_helpdesk

        super().__init__(db, work)
        self.pm = peer_helpdesk
        self.pg_name = f"{PG_PREFIX}_peer"
        if db == "postgresql":
            pg_recreate(self.pg_name)
            self.database = f"{PG_URL}/{self.pg_name}"
        else:
            self.database = str(work / "peer.sqlite3")
        peer_helpdesk.migrate(self.database)
        setup = self.tool("setup")
        self.token = setup["token"]
        self.headers = f"Authorization: Token {self.token}|Content-Type: application/json"
        self.body = peer_helpdesk.body(setup["queue"])
        self.versions = self.tool("versions")

    def env(self) -> dict[str, str]:
        return self.pm.env(self.database)

    def server(self, port: int) -> list[str]:
        return self.pm.server_command(port)

    def tool(self, *args: str) -> dict:
        return self.pm.tool(self.database, *args)


# ---------------------------------------------------------------- one run


def start(system: System, port: int) -> subprocess.Popen:
    with open(system.log, "ab") as log:
        proc = subprocess.Popen(system.server(port), env=system.env(), stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                                cwd=HERE.parent if isinstance(system, Jiesu) else system.pm.PROJ,
                                start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{system.name} server exited; see {system.log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{system.path}", timeout=5)  # noqa: S310
            break
        except urllib.error.HTTPError:
            break  # it answers (401/405 without a token): up
        except OSError:
            time.sleep(0.3)
    else:
        stop(proc)
        sys.exit(f"{system.name} server did not come up; see {system.log}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    """SIGINT to the server's own process group (gunicorn and the task worker stop on it)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    time.sleep(0.5)


def wrk(system: System, port: int, seconds: int, out: Path, acks: Path) -> tuple[dict, float]:
    env = {**os.environ, "BENCH_BODY": system.body, "BENCH_HEADERS": system.headers, "BENCH_ACK": system.ack,
           "BENCH_ACK_OUT": str(acks), "BENCH_OUT": str(out)}
    proc = subprocess.Popen([WRK, "-t1", f"-c{CONNS}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA),  # noqa: S603
                             f"http://127.0.0.1:{port}{system.path}"], env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"wrk failed ({proc.returncode})")
    return json.loads(out.read_text()), usage.ru_utime + usage.ru_stime


def run_once(system: System, work: Path, label: str) -> dict:
    port = free_port()
    proc = start(system, port)
    try:
        wrk(system, port, WARMUP, work / f"{label}-warmup.json", work / f"{label}-warmup.ids")
        time.sleep(1)
        if isinstance(system, Jiesu):
            # The warm-up's backlog first: the CPU counted until drained is then the run's own.
            waited = time.monotonic()
            while time.monotonic() - waited < DRAIN_S and system.tool("count")["tasks_pending"]:
                time.sleep(1)
        before = system.tool("count")["stored"]
        procs = roles(proc.pid)
        server_pids = tree(proc.pid)
        backends = pg_backends(system.pg_name) if system.db == "postgresql" else []  # type: ignore[attr-defined]
        t0 = {p: cpu_ticks(p) for p in server_pids + backends}
        busy0, wall0 = machine_busy_ticks(), time.monotonic()
        figures, wrk_cpu = wrk(system, port, DURATION, work / f"{label}.json", work / f"{label}.ids")
        busy1, wall1 = machine_busy_ticks(), time.monotonic()
        backends = sorted(set(backends) | set(pg_backends(system.pg_name) if system.db == "postgresql" else []))  # type: ignore[attr-defined]
        t1 = {p: cpu_ticks(p) for p in server_pids + backends}
        time.sleep(1)  # requests in flight at wrk's cut-off finish
        made_after = None
        if isinstance(system, JiesuAsync):
            # Counted as made only once made: wait for the batch intake to catch up.
            while time.monotonic() - wall1 < DRAIN_S and system.tool("count")["receipts_pending"]:
                time.sleep(0.2)
            made_after = round(time.monotonic() - wall1, 1)
            check = system.tool("verify_receipts", str(work / f"{label}.ids"), str(before))
        else:
            check = system.tool("verify", str(work / f"{label}.ids"), str(before))
        rss = {role: [peak_rss_mb(p) for p in pids] for role, pids in procs.items() if role in ("web", "task") and pids}
        drain = None
        if isinstance(system, Jiesu):
            start_drain = time.monotonic()
            pending_at_end = system.tool("count")["tasks_pending"]
            while time.monotonic() - start_drain < DRAIN_S and system.tool("count")["tasks_pending"]:
                time.sleep(1)
            left = system.tool("count")["tasks_pending"]
            drain = {"tasks_pending_at_end": pending_at_end, "seconds_to_drain": round(time.monotonic() - start_drain, 1),
                     "tasks_still_pending": left, "triage": system.tool("triaged")}
            rss = {role: [peak_rss_mb(p) for p in pids] for role, pids in procs.items()
                   if role in ("web", "task") and pids}
        # The CPU of the orders' whole life: the backlog the task worker drained after the load
        # is work the orders of the run caused (with triage in intake there is none left).
        # A process gone by now keeps its last reading; a database connection opened since is
        # counted whole (tasks may connect anew).
        if system.db == "postgresql":
            backends = sorted(set(backends) | set(pg_backends(system.pg_name)))  # type: ignore[attr-defined]
        t2 = {p: max(cpu_ticks(p), t1.get(p, 0)) for p in server_pids + backends}
    finally:
        stop(proc)

    def cpu(pids: list[int], until: dict[int, int] = t1) -> float:
        return sum(until.get(p, 0) - t0.get(p, 0) for p in pids) / HZ

    stored = max(check["stored"], 1)
    web, task, db = cpu(procs["web"]), cpu(procs["task"]), cpu(backends)
    ours = cpu(server_pids) + cpu(backends) + wrk_cpu
    wall = wall1 - wall0
    errors = figures["n_non2xx"] + sum(figures["socket_errors"].values())
    out = {
        "system": system.name, "db": system.db, "label": label, "duration_s": figures["duration_s"],
        "conns": CONNS, "orders_per_s": round(figures["n_2xx"] / figures["duration_s"], 1),
        "p50_ms": figures["latency_ms"]["p50"], "p99_ms": figures["latency_ms"]["p99"],
        "errors": errors, "status": figures["status"], **check,
        "cpu_ms_per_order": {"web": round(1000 * web / stored, 2), "task_worker": round(1000 * task / stored, 2),
                             "postgresql": round(1000 * db / stored, 2)},
        "cpu_ms_per_order_until_drained": {
            "web": round(1000 * cpu(procs["web"], t2) / stored, 2),
            "task_worker": round(1000 * cpu(procs["task"], t2) / stored, 2),
            "postgresql": round(1000 * cpu(backends, t2) / stored, 2),
            # every process of the server (the periodic loops too) and its database connections
            "total": round(1000 * (cpu(server_pids, t2) + cpu(backends, t2)) / stored, 2)},
        "peak_rss_mb": rss,
        "foreign_cpu_pct_of_one_core": round(max(0.0, (busy1 - busy0) / HZ - ours) / wall * 100, 1),
    }
    if drain:
        out["triage_after_load"] = drain
    if made_after is not None:
        # Orders made per second: those of the run's receipts, over the run and the time the
        # batch intake took after it to make the last one.
        out["acknowledged_per_s"] = out["orders_per_s"]
        out["seconds_to_make_after_load"] = made_after
        out["orders_per_s"] = round(check["acknowledged_stored"] / (figures["duration_s"] + made_after), 1)
    return out


# ---------------------------------------------------------------- the whole benchmark


def main() -> None:
    global WRK
    WRK = ensure_wrk()
    dbs = [d for d in DBS if d != "postgresql" or pg_reachable()]
    if PEER:
        from bench import peer_helpdesk

        peer_helpdesk.install()
    work = Path(tempfile.mkdtemp(prefix="jiesu-intake-"))
    print(f"work dir {work}; {DURATION} s per run, {CONNS} connections, {ROUNDS} round(s), {', '.join(dbs)}",
          flush=True)
    # The set-ups (migrations, mostly) run side by side: they wait on the databases as much
    # as they compute.
    started = time.perf_counter()
    kinds: list[type[System]] = [*([Jiesu] if SYNC else []), *([JiesuAsync] if ASYNC else []),
                                 *([Peer] if PEER else [])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = [(db, pool.submit(kind, db, work)) for db in dbs for kind in kinds]
        systems: dict[str, list[System]] = {db: [f.result() for d, f in made if d == db] for db in dbs}
    print(f"set up in {time.perf_counter() - started:.0f} s", flush=True)
    runs = []
    for r in range(ROUNDS):
        for db in dbs:
            # Odd rounds run the systems in the reverse order (Jiesu, peer | peer, Jiesu): the
            # machine's speed drifts over minutes here, and a fixed order would hand that drift
            # to one side of every ratio. Pairs are still matched by round (``summarise``).
            for system in (systems[db] if r % 2 == 0 else systems[db][::-1]):
                res = run_once(system, work, f"{system.name}-{db}-{r}")
                res["round"] = r
                runs.append(res)
                print(f"[{db}] round {r} {system.name:>5}: {res['orders_per_s']:7.1f}/s  p50 {res['p50_ms']:6.1f} ms"
                      f"  p99 {res['p99_ms']:6.1f} ms  errors {res['errors']}  lost {res['lost']} of "
                      f"{res['acknowledged']}  web CPU {res['cpu_ms_per_order']['web']} ms/order"
                      f"  all CPU {res['cpu_ms_per_order_until_drained']['total']} ms/order (until drained)"
                      f"  RSS {res['peak_rss_mb']}  foreign CPU {res['foreign_cpu_pct_of_one_core']} %", flush=True)
                if "acknowledged_per_s" in res:
                    print(f"        acknowledged {res['acknowledged_per_s']}/s; the last receipt made "
                          f"{res['seconds_to_make_after_load']} s after the load", flush=True)
                if "triage_after_load" in res:
                    print(f"        triage: {res['triage_after_load']}", flush=True)
    summary = summarise(runs, dbs)
    peer_versions = next((s.versions for ss in systems.values() for s in ss if isinstance(s, Peer)), None)
    out = {"quick": QUICK, "duration_s": DURATION, "conns": CONNS, "rounds": ROUNDS, "cores": os.cpu_count(),
           "python": sys.version.split()[0], "peer": peer_versions, "summary": summary, "runs": runs}
    from bench.report import keep

    keep("intake_http", "quick" if QUICK else "full", out)
    line = {"benchmark": "intake_http", "quick": QUICK, **{k: summary[k] for k in
            ("jiesu_orders_per_s", "jiesu_async_orders_per_s", "peer_orders_per_s", "ratio", "ratio_async",
             "cpu_ratio", "cpu_ratio_async", "lost", "errors", "max_worker_rss_mb")}}
    text = json.dumps(line, ensure_ascii=False)
    (HERE / "results" / "intake_http.line.json").write_text(text + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(text, flush=True)


def summarise(runs: list[dict], dbs: list[str]) -> dict:
    """Medians per system and database, and the ratio Jiesu/peer per round (min … max)."""
    def of(system: str, db: str) -> list[dict]:
        return [r for r in runs if r["system"] == system and r["db"] == db]

    out: dict = {"jiesu_orders_per_s": {}, "jiesu_async_orders_per_s": {}, "peer_orders_per_s": {}, "ratio": {},
                 "ratio_async": {}, "ratio_range": {}, "cpu_ratio": {}, "cpu_ratio_async": {}, "lost": {},
                 "errors": {}, "max_worker_rss_mb": {}, "targets": {}}

    def cpu(r: dict) -> float:
        return r["cpu_ms_per_order_until_drained"]["total"]

    def cpu_ratio(ours: list[dict], peer: list[dict]) -> float | None:
        # The peer's CPU per ticket over ours per order (every process of each, its database's
        # included), round by round: what each order costs, whatever the machine's speed.
        ratios = [cpu(y) / cpu(x) for x, y in zip(ours, peer, strict=True) if cpu(x)]
        return round(statistics.median(ratios), 2) if ratios else None

    for db in dbs:
        j, p, a = of("jiesu", db), of("peer", db), of("jiesu-async", db)
        if a:
            out["jiesu_async_orders_per_s"][db] = statistics.median(r["orders_per_s"] for r in a)
            if p:
                ratios_a = [x["orders_per_s"] / y["orders_per_s"] for x, y in zip(a, p, strict=True) if y["orders_per_s"]]
                out["ratio_async"][db] = round(statistics.median(ratios_a), 2) if ratios_a else None
        j_all = j + a
        if j:
            out["jiesu_orders_per_s"][db] = statistics.median(r["orders_per_s"] for r in j)
        out["lost"][db] = sum(r["lost"] for r in j_all + p)
        out["errors"][db] = sum(r["errors"] for r in j_all + p)
        out["max_worker_rss_mb"][db] = max((mb for r in j_all for v in r["peak_rss_mb"].values() for mb in v),
                                           default=0)
        if p:
            out["peer_orders_per_s"][db] = statistics.median(r["orders_per_s"] for r in p)
            ratios = [a["orders_per_s"] / b["orders_per_s"] for a, b in zip(j, p, strict=True) if b["orders_per_s"]] if j else []
            out["ratio"][db] = round(statistics.median(ratios), 2) if ratios else None
            out["ratio_range"][db] = [round(min(ratios), 2), round(max(ratios), 2)] if ratios else None
            out["cpu_ratio"][db] = cpu_ratio(j, p) if j else None
            out["cpu_ratio_async"][db] = cpu_ratio(a, p) if a else None
        # The issue's targets; a miss says by how much.
        t = {"lost_is_0": out["lost"][db] == 0, "worker_rss_le_250_mb": out["max_worker_rss_mb"][db] <= 250}
        if out["ratio"].get(db) is not None:
            t["ratio_ge_5"] = out["ratio"][db] >= 5
        if out["ratio_async"].get(db) is not None:
            t["ratio_async_ge_5"] = out["ratio_async"][db] >= 5
        if db == "postgresql":
            if j:
                t["ge_300_orders_per_s"] = out["jiesu_orders_per_s"][db] >= 300
            if a:
                t["async_ge_300_orders_per_s"] = out["jiesu_async_orders_per_s"][db] >= 300
        out["targets"][db] = t
    return out


WRK = "wrk"

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--jiesu":
        jiesu_tool(*sys.argv[2:])
    else:
        main()
