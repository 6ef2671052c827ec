"""`make crash-test` (`python -m bench.crash_test`): nothing acknowledged is ever lost.

For each database (SQLite in WAL mode; PostgreSQL when ``JIESU_CRASH_PG_URL`` is set):

1. a fresh database, migrated, with one call-taker and an API token;
2. ``jiesu serve`` (gunicorn workers + the task worker) in its own process group;
3. several client threads POST /api/v1/orders with a fresh ``Idempotency-Key`` each, and retry a
   request that got no answer with the *same* key, as a well-behaved client does; every other
   client sends ``Prefer: respond-async`` and is acknowledged with a receipt (202), which the
   task worker's batch intake makes into an order later;
4. meanwhile a supervisor SIGKILLs the whole process group several times (mid-request, mid-
   commit, wherever it happens to be) and starts it again;
5. then, with the server stopped, the receipts still pending are made (as a restarted worker
   would make them), and every acknowledged (2xx) order or receipt is looked up in the database
   with its idempotency key and its "created" event; orders that were created but whose
   answer never reached the client are counted; no key may have made two orders; orders whose
   notification task is missing are counted (``orders_without_notification_task``: 0 since
   intake queues it in its own transaction).

Prints one JSON line at the end (acknowledged, found, lost, created but not acknowledged,
duplicates, kills) and exits 1 if anything acknowledged was lost. ``DURATION`` (seconds,
default 60) bounds the whole run; it is shared between the databases.

    python -m bench.crash_test --duration 60 [--clients 6] [--kills 4] [--pg-url postgres://…/db]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- phases run inside Django


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()


def phase_setup() -> None:
    """Migrate, create a unit, a call-taker and a token; print the token."""
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from jiesu.accounts.models import ApiToken, Membership, Role, User
    from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

    city = Area.objects.create(code="110000", name="北京市", level=AreaLevel.CITY)
    centre = Unit.objects.create(code="C12345", name="市民热线服务中心", kind=UnitKind.HOTLINE_CENTRE, area=city)
    user = User.objects.create_user(username="crash", password=uuid.uuid4().hex, display_name="crash")
    Membership.objects.create(user=user, unit=centre, role=Role.CALL_TAKER)
    _token, raw = ApiToken.issue(user=user, name="crash-test")
    print(raw)


def phase_verify(acks_file: str) -> None:
    """Compare the clients' acknowledgements with what the database holds; print JSON."""
    _django()
    from jiesu.orders.actions.receipts import make_received_orders
    from jiesu.orders.models import Event, IdempotencyKey, IntakeReceipt, ReceiptState, WorkOrder

    while make_received_orders():  # what the worker, started again, does first
        pass
    acks: dict[str, str] = json.loads(Path(acks_file).read_text())
    receipts = dict(IntakeReceipt.objects.filter(state=ReceiptState.MADE).values_list("pk", "order_id"))
    receipt_acks = 0
    for key, ack in list(acks.items()):
        if ack.startswith("receipt:"):  # acknowledged as a receipt: its order's number, if made
            receipt_acks += 1
            order_id = receipts.get(int(ack.split(":", 1)[1]))
            acks[key] = str(order_id) if order_id else ack
    keys = {k.key: k.order.number for k in IdempotencyKey.objects.select_related("order")}
    created = set(Event.objects.filter(code="created").values_list("order__number", flat=True))
    orders = set(WorkOrder.objects.values_list("number", flat=True))
    found = sum(1 for key, number in acks.items() if keys.get(key) == number and number in created)
    lost = [key for key, number in acks.items() if keys.get(key) != number or number not in created]
    # The notification task of each order's "created" event: queued in intake's own transaction,
    # so an order never exists without it, wherever the kill fell.
    from django_tasks_db.models import DBTaskResult

    queued: set[int] = set()
    notify = DBTaskResult.objects.filter(task_path__startswith="jiesu.integrations.tasks.notify_event")
    for args in notify.values_list("args_kwargs", flat=True):
        first = args["args"][0]
        queued.update(first if isinstance(first, list) else [first])
    created_ids = dict(Event.objects.filter(code="created").values_list("order__number", "pk"))
    print(json.dumps({
        "acknowledged": len(acks),
        "acknowledged_as_receipts": receipt_acks,
        "found": found,
        "lost": len(lost),
        "lost_keys": lost[:20],
        "created_not_acknowledged": len(set(keys) - set(acks)),
        "orders": len(orders),
        # Every order came from exactly one key (the retries of a key never made a second one).
        "orders_without_key": len(orders - set(keys.values())),
        "duplicates": len(keys) - len(set(keys.values())),
        "orders_without_created_event": len(orders - created),
        "orders_without_notification_task": sum(1 for n in orders if created_ids.get(n) not in queued),
    }))


# ---------------------------------------------------------------- the load and the faults


@dataclass
class Tally:
    acks: dict[str, str] = field(default_factory=dict)  # key → order number (2xx only)
    attempts: int = 0
    no_answer: int = 0
    retried_ok: int = 0
    # A retry answered 200 ("already had it"): an earlier attempt created the order, but its
    # answer was lost in a crash. Created but not acknowledged at the time; found by the retry.
    replayed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


BODY = {
    "request_type": "complaint",
    "channel": "api",
    "content": "崩溃测试：小区门口的路灯坏了，晚上很黑。",
    "requesters": [{"phone": "13812345678", "name": "测试"}],
}


def _post(port: int, token: str, key: str, seq: int, *, asynchronous: bool = False) -> tuple[int, dict]:
    body = json.dumps({**BODY, "title": f"crash {seq}"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"}
    if asynchronous:
        headers["Prefer"] = "respond-async"
    try:
        conn.request("POST", "/api/v1/orders", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data.startswith(b"{") else {})
    finally:
        conn.close()


def client(port: int, token: str, stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    seq = 0
    while not stop.is_set():
        seq += 1
        key = f"crash-{seed}-{seq}-{uuid.uuid4().hex[:8]}"
        # A request that got no answer is sent again with the same key until it is answered
        # (or the run ends): the retry must return the first order, never make a second one.
        tries = 0
        while not stop.is_set():
            tries += 1
            with tally.lock:
                tally.attempts += 1
            try:
                status, payload = _post(port, token, key, seq, asynchronous=seed % 2 == 1)
            except (OSError, http.client.HTTPException):
                with tally.lock:
                    tally.no_answer += 1
                time.sleep(0.05 + rng.random() * 0.2)
                continue
            with tally.lock:
                ack = payload.get("number") or (f"receipt:{payload['receipt']}" if payload.get("receipt") else "")
                if 200 <= status < 300 and ack:
                    tally.acks[key] = ack
                    if tries > 1:
                        tally.retried_ok += 1
                        if status == 200:
                            tally.replayed += 1
                else:
                    tally.errors[str(status)] = tally.errors.get(str(status), 0) + 1
            if status >= 500 or status == 429:
                time.sleep(0.1)
                continue  # same key again: a 5xx is not an answer
            break


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "jiesu", "serve", "--port", str(port), "--workers", "2"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not become healthy")


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def fresh_postgres(url: str) -> None:
    """Drop and create the database named in the URL (only that one)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_one(label: str, db_url: str, duration: float, clients: int, kills: int, workdir: Path) -> dict:
    data_dir = workdir / label
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JIESU_DATA_DIR": str(data_dir), "JIESU_SWEEP_SECONDS": "0",
           "DJANGO_SETTINGS_MODULE": "jiesu.settings", "JIESU_LOG_LEVEL": "ERROR"}
    env.pop("JIESU_DATABASE_URL", None)
    if db_url:
        env["JIESU_DATABASE_URL"] = db_url
        fresh_postgres(db_url)
    here = [sys.executable, "-m", "bench.crash_test"]
    token = subprocess.run([*here, "--phase", "setup"], env=env, cwd=ROOT, check=True,  # noqa: S603
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = (data_dir / "server.log").open("w")
    server = start_server(env, port, log)
    wait_healthy(port)
    stop = threading.Event()
    tally = Tally()
    threads = [threading.Thread(target=client, args=(port, token, stop, tally, i), daemon=True)
               for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    done_kills = 0
    rng = random.Random(12345)
    # Kills spread over the run, each at a jittered moment, so that they land mid-request.
    gaps = [duration / (kills + 1) * (0.6 + 0.8 * rng.random()) for _ in range(kills)]
    try:
        for gap in gaps:
            time.sleep(max(0.5, gap))
            if time.monotonic() - started > duration:
                break
            kill_group(server)
            done_kills += 1
            server = start_server(env, port, log)
            wait_healthy(port)
        time.sleep(max(0.0, duration - (time.monotonic() - started)))
        # Give every client the chance to finish the request it has in flight (and its retries).
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        kill_group(server, signal.SIGTERM)
        log.close()
    acks_file = data_dir / "acks.json"
    acks_file.write_text(json.dumps(tally.acks))
    out = subprocess.run([*here, "--phase", "verify", "--acks", str(acks_file)], env=env, cwd=ROOT,  # noqa: S603
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    result.update({"kills": done_kills, "seconds": round(time.monotonic() - started, 1), "clients": clients,
                   "requests": tally.attempts, "no_answer": tally.no_answer, "retried_then_acknowledged":
                   tally.retried_ok, "created_unacknowledged_then_replayed": tally.replayed,
                   "non_2xx": tally.errors})
    print(f"{label}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=["setup", "verify"])
    parser.add_argument("--acks")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", "60")))
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--kills", type=int, default=0, help="per database (default: one per ~8 s)")
    parser.add_argument("--pg-url", default=os.environ.get("JIESU_CRASH_PG_URL", ""))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    if args.phase == "setup":
        phase_setup()
        return 0
    if args.phase == "verify":
        phase_verify(args.acks)
        return 0
    databases = [("sqlite", "")]
    if args.pg_url:
        databases.append(("postgresql", args.pg_url))
    if args.only:
        databases = [d for d in databases if d[0] == args.only]
    per_db = args.duration / len(databases)
    kills = args.kills or max(2, int(per_db // 8))
    by_db = {}
    with tempfile.TemporaryDirectory(prefix="jiesu-crash-") as tmp:
        for label, url in databases:
            by_db[label] = run_one(label, url, per_db, args.clients, kills, Path(tmp))
    total = {
        "acknowledged": sum(r["acknowledged"] for r in by_db.values()),
        "found": sum(r["found"] for r in by_db.values()),
        "lost": sum(r["lost"] for r in by_db.values()),
        "created_not_acknowledged": sum(r["created_not_acknowledged"] for r in by_db.values()),
        "duplicates": sum(r["duplicates"] for r in by_db.values()),
        "created_unacknowledged_then_replayed": sum(r["created_unacknowledged_then_replayed"]
                                                    for r in by_db.values()),
        "kills": sum(r["kills"] for r in by_db.values()),
        "databases": {k: {x: v[x] for x in ("acknowledged", "acknowledged_as_receipts", "found", "lost",
                                              "created_not_acknowledged",
                                              "duplicates", "kills", "requests", "no_answer",
                                              "retried_then_acknowledged", "created_unacknowledged_then_replayed",
                                              "seconds")}
                      for k, v in by_db.items()},
    }
    print(json.dumps(total), flush=True)
    return 1 if total["lost"] or total["duplicates"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
