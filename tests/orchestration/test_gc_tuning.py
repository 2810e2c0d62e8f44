"""The pipeline's processes collect garbage as orchestration/gc_tuning.py sets it: the CLI from its first line, the
code location's processes (code server, run workers: whoever loads `definitions.py`) and `sentrum-dbt` once their
imports are done, which they then never scan again."""

from __future__ import annotations

import gc
import subprocess
import sys

from orchestration.gc_tuning import THRESHOLDS

# Printed when the process exits, however the command under test ends (click's --help exits).
PROBE = "import atexit, gc; atexit.register(lambda: print('gc', gc.get_threshold(), gc.get_freeze_count() > 0)); "


def _probe(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", PROBE + code], capture_output=True, text=True, timeout=120)
    return next((line for line in proc.stdout.splitlines() if line.startswith("gc ")), proc.stdout + proc.stderr)


def test_the_code_location_collects_less_once_loaded():
    import orchestration.definitions  # noqa: F401 (what a code server or a run worker loads)

    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0  # the imports are frozen


def test_sentrum_dbt_collects_less_and_froze_dbt():
    assert _probe("from orchestration.dbt_command import main; main(['--help'])") == f"gc {THRESHOLDS} True"


def test_the_cli_collects_less_from_its_first_line():
    # `--help` loads no definitions: nothing frozen yet, but the thresholds are set
    assert _probe("from orchestration.cli import main; main(['--help'])") == f"gc {THRESHOLDS} False"
