"""Headless Chromium for the report tests: Debian's ``chromium`` and ``chromium-driver``.

The browser test needs a real browser to prove the report renders on its own (every image loads
from its data URI, nothing is fetched, no console error). When the two binaries are missing and
the tests run as root on a Debian-like system, they are installed with apt-get (about a minute);
otherwise the caller skips with the reason from ``BrowserUnavailable``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
# Download plus unpacking of ~100 MB of .debs; a stuck mirror must not hang the test session.
INSTALL_TIMEOUT_S = 900
UPDATE_TIMEOUT_S = 300


class BrowserUnavailable(RuntimeError):
    """Headless Chromium cannot be had here; the message says why (used as the skip reason)."""


def _missing() -> list[str]:
    return [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]


def _apt(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        return subprocess.run(
            ["apt-get", *args], capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired as exc:
        raise BrowserUnavailable(f"apt-get {' '.join(args)} took over {timeout:.0f} s") from exc


def _has_candidates() -> bool:
    """Whether the package lists already know both packages (then ``apt-get update`` is skipped:
    it costs a download and fails without a network)."""
    policy = subprocess.run(
        ["apt-cache", "policy", *PACKAGES], capture_output=True, text=True, check=False
    ).stdout
    return policy.count("Candidate:") == len(PACKAGES) and "Candidate: (none)" not in policy


def _update() -> None:
    update = _apt(["update", "-qq"], UPDATE_TIMEOUT_S)
    if update.returncode != 0:
        raise BrowserUnavailable(f"apt-get update failed: {update.stderr.strip()[-300:]}")


def _install() -> subprocess.CompletedProcess[str]:
    return _apt(["install", "-y", "-qq", *PACKAGES], INSTALL_TIMEOUT_S)


def ensure_chromium() -> tuple[Path, Path, float]:
    """Return ``(chromium, chromedriver, seconds spent installing)``, installing when needed.

    Raises ``BrowserUnavailable`` when the binaries are missing and cannot be installed (not
    root, no apt-get, or apt-get failed).
    """
    missing = _missing()
    if not missing:
        return CHROMIUM, CHROMEDRIVER, 0.0
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"{', '.join(missing)} missing and no apt-get to install it")
    if os.geteuid() != 0:
        raise BrowserUnavailable(f"{', '.join(missing)} missing and not root to apt-get install")
    start = time.monotonic()
    updated = False
    if not _has_candidates():
        _update()
        updated = True
    install = _install()
    if install.returncode != 0 and not updated:
        # Stale package lists point at .debs the mirror no longer has: refresh once and retry.
        _update()
        install = _install()
    if install.returncode != 0:
        raise BrowserUnavailable(f"apt-get install failed: {install.stderr.strip()[-300:]}")
    if missing := _missing():
        raise BrowserUnavailable(f"apt-get install left {', '.join(missing)} missing")
    return CHROMIUM, CHROMEDRIVER, time.monotonic() - start


if __name__ == "__main__":  # pragma: no cover - manual use: python tests/reporting/browser.py
    chromium, driver, seconds = ensure_chromium()
    print(f"{chromium} {driver} ready ({seconds:.1f} s spent installing)")
