"""Headless Chromium for the report tests (Debian's `chromium-headless-shell`, installed by `make chromium`): open a
file offline and return the DOM the browser built and the console messages it logged."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/headless_shell")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
)
# Chromium logs every console message (and uncaught exception) of the page as "INFO:CONSOLE..." on stderr.
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?:?\d*\]\s*(.*)")


def chromium() -> str:
    found = shutil.which("chromium-headless-shell") or next((c for c in CANDIDATES if Path(c).exists()), None)
    if found is None:
        pytest.fail(
            "chromium-headless-shell is not installed: run `make chromium` (apt package chromium-headless-shell)"
        )
    return found


def open_page(path: Path) -> tuple[str, list[str]]:
    """(the DOM after load, the console messages) of `path`, in a fresh profile, with no network."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", path.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [m.group(1) for m in CONSOLE.finditer(proc.stderr)]
