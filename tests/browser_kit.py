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


def log_in(page, base: str, username: str) -> None:
    """Sign in on the desk's login page with the test password (``pw-<name>``, tests/conftest.py)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".topbar .user")).to_have_text(username)
