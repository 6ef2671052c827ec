"""Apache ECharts, served locally (government intranets have no internet; no CDN, ever).

The library is not kept in the repository: ``python -m jiesu.insight.assets`` (run by
``make install``) fetches the pinned npm package with ``npm pack``, checks its SHA-512 against
the pin below, and unpacks ``dist/echarts.min.js`` with its LICENSE and NOTICE into this app's
static folder, from where ``{% static %}`` (WhiteNoise) serves it. The PyPI package
django-static-echarts was checked first: its wheels (5.4.3.2 and 5.4.3.3) ship no JavaScript.

Without the file the dashboards still work: every chart has its table, and the page says that
the charts are not installed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ECHARTS_VERSION = "5.6.0"
# npm's dist.integrity of echarts@5.6.0.
ECHARTS_SHA512 = "oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="
STATIC_PATH = "jiesu/vendor/echarts/echarts.min.js"
TARGET = Path(__file__).resolve().parent / "static" / STATIC_PATH
WANTED = {"package/dist/echarts.min.js": "echarts.min.js", "package/LICENSE": "LICENSE", "package/NOTICE": "NOTICE"}


def installed() -> bool:
    version = TARGET.parent / "VERSION"
    return TARGET.exists() and version.exists() and version.read_text().strip() == ECHARTS_VERSION


def unpack(tgz: bytes) -> None:
    digest = base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    if digest != ECHARTS_SHA512:
        raise RuntimeError(f"echarts-{ECHARTS_VERSION}.tgz does not match its pinned SHA-512")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = WANTED.get(member.name)
            if name is None or not member.isfile():
                continue
            data = tar.extractfile(member)
            if data is not None:
                (TARGET.parent / name).write_bytes(data.read())
    (TARGET.parent / "VERSION").write_text(ECHARTS_VERSION + "\n")


def fetch() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (apt-get install npm): the dashboards will show tables only")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603 — a fixed argument list, no shell
            [npm, "pack", f"echarts@{ECHARTS_VERSION}", "--silent", "--pack-destination", tmp],
            check=True, cwd=tmp, stdout=subprocess.DEVNULL,
        )
        unpack((Path(tmp) / f"echarts-{ECHARTS_VERSION}.tgz").read_bytes())


def main() -> int:
    if installed():
        (TARGET.parent / "VERSION").touch()  # newer than this file: make has nothing to do
        print(f"ECharts {ECHARTS_VERSION} is installed at {TARGET}")
        return 0
    try:
        fetch()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as err:
        print(f"warning: ECharts not installed: {err}", file=sys.stderr)
        return 0  # not fatal: the dashboards fall back to tables
    print(f"ECharts {ECHARTS_VERSION} installed at {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
