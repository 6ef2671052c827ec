"""`make bench` (`python -m bench`): every benchmark, each in its own process and data
directory. Those that read ../shared/data skip with a message when it is absent. Each prints
its ratios against a baseline measured in the same run and writes bench/results/<name>.json.

`python -m bench core triage_api` runs only the named ones. `python -m bench --quick`
(`make bench QUICK=1`) runs a short intake benchmark, Jiesu against django-helpdesk over HTTP
(under 3 minutes once the peer's environment is installed), and prints one JSON line last.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ALL = [
    "core",
    "triage_throughput",
    "triage_api",
    "triage_duplicates",
    "triage_tipdm",
    "routing_311",
    "hotspots",
    "reply_quality",
    "scorecard",
    "dashboard",
    "deadline_cache",
    "intake_http",
    "desk_scale",
    "integrations",
    "open311",
    "services",
]
QUICK = ["intake_http"]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    names = argv or (QUICK if quick else ALL)
    if quick:
        os.environ["BENCH_QUICK"] = "1"
    unknown = [n for n in names if n not in ALL]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(ALL)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"])  # noqa: S603
        print(f"--- bench.{name}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(name)
    if quick and "intake_http" in names and "intake_http" not in failed:
        # The one line the issue asks for: orders/s of Jiesu and of the peer, and their ratio.
        print((Path(__file__).parent / "results" / "intake_http.line.json").read_text().strip(), flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
