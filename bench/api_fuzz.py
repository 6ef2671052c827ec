"""The longer schemathesis run (`python -m bench.api_fuzz [EXAMPLES]`, default 500 per operation):
tests/test_api_fuzz.py with more generated requests per operation; its own data directory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def main(argv: list[str]) -> int:
    examples = argv[0] if argv else "500"
    with tempfile.TemporaryDirectory(prefix="jiesu-fuzz-") as tmp:
        env = {**os.environ, "JIESU_FUZZ_EXAMPLES": examples, "JIESU_DATA_DIR": tmp}
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "pytest", "tests/test_api_fuzz.py", "-q", "-p", "no:logging"],  # noqa: S603
                               env=env)
        print(f"api_fuzz: {examples} examples per operation, exit {code}, {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
