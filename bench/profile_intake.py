"""Where an intake request spends its time: ``POST /api/v1/orders`` through Django's test
client (no network), on a fresh SQLite database (or ``JIESU_DATABASE_URL``).

Prints the queries of one request, the CPU time per request (``time.process_time``, median
of 3 rounds) and, with ``--profile``, cProfile's top functions by cumulative time. Also
``--triage``: the same for the task that triages (and auto-dispatches) one new order.

    .venv/bin/python -m bench.profile_intake [--profile] [--triage]

Not part of ``make bench``: a tool for finding the next thing to make faster.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time

N = int(os.environ.get("BENCH_N", "200"))
CONTENT = "工体北路12号门口的路灯坏了一个多星期，晚上出行很不方便，老人摔倒过，请尽快派人修理。"


def set_up_city(*, prefix: str, handler_emails: bool = False):
    """Django on a fresh data directory (unless ``JIESU_DATA_DIR`` is set), migrated, with the
    test city, a call-taker's API token, a routing rule for street lights and auto-dispatch at
    0.5 (as ``bench.intake_http``). Returns the city and the raw token. Shared by the profilers
    of intake and of the task worker (``bench.profile_tasks``)."""
    os.environ.setdefault("JIESU_DATA_DIR", tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from jiesu.accounts.models import ApiToken
    from jiesu.catalogue.models import RoutingRule
    from jiesu.dispatch.models import DispatchSettings
    from tests.conftest import build_city

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        city = build_city()
        _token, raw = ApiToken.issue(user=city.users["calltaker"], name="profile")
        RoutingRule.objects.create(category=city.lamp, area=None, lead_unit=city.sanlitun_office)
        DispatchSettings.objects.update_or_create(pk=1, defaults={"threshold": 0.5})
        if handler_emails:  # the handlers hear of their new assignments by e-mail
            for name, user in city.users.items():
                user.email = f"{name}@example.org"
                user.save(update_fields=["email"])
    return city, raw


def main(argv: list[str]) -> None:
    city, raw = set_up_city(prefix="jiesu-profile-")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jiesu.dispatch.services import triage_safely
    from jiesu.orders.models import WorkOrder
    client = Client()
    body = json.dumps({"request_type": "complaint", "channel": "hotline", "content": CONTENT,
                       "address": "朝阳区三里屯街道工体北路12号",
                       "requesters": [{"phone": "13900000001", "name": "张先生"}]}, ensure_ascii=False)

    def post() -> None:
        r = client.post("/api/v1/orders", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert r.status_code == 201, r.content

    pending = iter(())

    def triage() -> None:
        triage_safely(next(pending))

    fn = triage if "--triage" in argv else post
    for _ in range(20):
        post()  # warm up (and, for --triage, orders to warm up on)
    if fn is triage:
        for _ in range(N * 3 + N // 2 + 1):
            post()  # one order per triage measured below
        pending = iter(WorkOrder.objects.order_by("pk").values_list("pk", flat=True))
        for _ in range(20):
            triage()
    with CaptureQueriesContext(connection) as queries:
        fn()
    print(f"{len(queries.captured_queries)} queries:")
    for q in queries.captured_queries:
        print("   ", q["sql"][:120])
    rounds = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(N):
            fn()
        rounds.append((time.process_time() - start) / N * 1000)
    print(f"CPU per {'triage' if fn is triage else 'request'}: {statistics.median(rounds):.2f} ms "
          f"(rounds: {', '.join(f'{r:.2f}' for r in rounds)}; database: {connection.vendor})")
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(N // 2):
            fn()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(50)


if __name__ == "__main__":
    main(sys.argv[1:])
