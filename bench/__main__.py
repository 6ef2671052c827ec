"""`make bench` (`python -m bench`): every benchmark, each in its own process and data
directory. Those that read ../shared/data skip with a message when it is absent. Each prints
its ratios against a baseline measured in the same run and writes bench/results/<name>.json.

`python -m bench core triage_api` runs only the named ones.
"""

from __future__ import annotations

import subprocess
import sys
import time

ALL = [
    "core",
    "triage_throughput",
    "triage_api",
    "triage_duplicates",
    "triage_tipdm",
    "hotspots",
    "reply_quality",
    "scorecard",
    "dashboard",
    "services",
]


def main(argv: list[str]) -> int:
    names = argv or ALL
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
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
