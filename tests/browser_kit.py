"""What every browser test shares: Debian's Chromium driven by Playwright (never a downloaded
browser), started with the flags this closed network needs, and a folder for screenshots."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/jiesu-shots")
# Without the background-networking flags Chromium keeps calling out to Google's hosts.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def require_chromium() -> ModuleType:
    """Call at module level: skips the module, naming the install command, when Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip("install Chromium: apt-get install chromium fonts-wqy-microhei", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")
