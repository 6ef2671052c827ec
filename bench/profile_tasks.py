"""What the background-task worker does per new order: ``N`` orders through
``POST /api/v1/orders`` (Django's test client, a fresh SQLite database or
``JIESU_DATABASE_URL``), then ``jiesu worker --batch`` until nothing is left. Prints the web CPU
per request, the tasks queued per order by kind, and the worker's CPU per order: in all (its
start-up, about 2 s, included) and without the start-up (measured by a first run of the worker
with nothing to do). ``BENCH_PROFILE=path`` writes the worker's cProfile statistics there.

    BENCH_N=200 .venv/bin/python -m bench.profile_tasks

Not part of ``make bench``: a tool for finding the next thing to make faster (see
docs/benchmarks.md, "Triage and auto-dispatch inside intake").
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

N = int(os.environ.get("BENCH_N", "200"))
CONTENT = "工体北路12号门口的路灯坏了一个多星期，晚上出行很不方便，老人摔倒过，请尽快派人修理。编号"


def main() -> None:
    from bench.profile_intake import set_up_city

    _city, raw = set_up_city(prefix="jiesu-tasks-", handler_emails=True)
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    worker_cmd = [sys.executable, "-m", "jiesu", "worker", "--batch", "--interval", "0.1"]

    def run_worker(profile: str = "") -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        command = [sys.executable, "-m", "cProfile", "-o", profile, *worker_cmd[1:]] if profile else worker_cmd
        subprocess.run(command, env=os.environ, check=True, stdout=subprocess.DEVNULL,  # noqa: S603
                       stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    idle = run_worker()  # start-up and an empty queue
    client = Client()
    started = time.process_time()
    for i in range(N):
        body = json.dumps({"request_type": "complaint", "channel": "hotline", "content": f"{CONTENT}{i}",
                           "address": "朝阳区三里屯街道工体北路12号",
                           "requesters": [{"phone": f"139{i:08d}", "name": "张先生"}]}, ensure_ascii=False)
        r = client.post("/api/v1/orders", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert r.status_code == 201, r.content
    web = (time.process_time() - started) / N * 1000

    def tasks() -> dict[str, int]:
        return dict(DBTaskResult.objects.values_list("task_path").annotate(n=Count("id")).order_by("task_path"))

    print(f"web CPU per request: {web:.2f} ms; queued by intake: {tasks()}")
    worker = run_worker(os.environ.get("BENCH_PROFILE", ""))
    done = tasks()
    print(f"worker CPU per order: {worker / N * 1000:.2f} ms in all, {(worker - idle) / N * 1000:.2f} ms without "
          f"its start-up ({idle:.2f} s); tasks in all: {done} "
          f"({sum(done.values()) / N:.1f} per order; database: {connection.vendor})")


if __name__ == "__main__":
    main()
