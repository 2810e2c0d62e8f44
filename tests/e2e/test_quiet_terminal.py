"""The terminal of a first hour: `sentrum demo` (what `make demo` runs; the session's one demo run, shared) prints
progress and a short summary, no Dagster event lines, no warnings nobody can act on; `-v` shows Dagster's event log."""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.e2e.conftest import SENTRUM, Demo, clean_environment

# Dagster's event lines, Python's warnings (BetaWarning, ...) and Dagster's WARNING lines, dbt's partial-parse notice,
# `dagster dev`'s supersession notice. Case-sensitive: a finding's severity "warning" is the summary's.
NOISE = re.compile(r"DEBUG|\w*Warning\b|WARNING|Unable to do partial parsing|superseded")


def _lines(result: subprocess.CompletedProcess) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def test_the_demo_prints_progress_and_a_short_summary(demo: Demo):
    lines = _lines(demo.result)
    out = "\n".join(lines)
    assert len(lines) < 60, out
    assert not [line for line in lines if NOISE.search(line)], out
    # progress: each ad account as its extraction finishes, then dbt's nodes counted up to the total
    assert re.search(r"^  extracted acme/act_\d+: [\d,]+ rows$", out, re.M), out
    counts = [tuple(map(int, m)) for m in re.findall(r"^  dbt (\d+)/(\d+)$", out, re.M)]
    assert counts and counts[-1][0] == counts[-1][1] and counts == sorted(counts), out
    # the summary: what landed per raw table, the models and checks, findings, where it all is, how to browse it
    assert re.search(r"rows landed in raw: .*meta_insights [\d,]+", out, re.S), out
    assert re.search(r"dbt models built: \d+ staging, \d+ intermediate, \d+ marts .* checks: \d+ passed, 0 failed", out)
    assert re.search(r"diagnostics findings: acme \d+, globex \d+, initech \d+", out), out
    assert str(demo.duckdb_file) in out and "ws_<workspace>" in out and "make ui" in out


def test_verbose_shows_dagster_s_event_log_and_quiet_does_not(demo: Demo, tmp_path):
    # a copy of the demo's state: the shared one is only read
    home = tmp_path / ".sentrum"
    shutil.copytree(demo.home, home)
    env = clean_environment(home)

    def diagnose(*flags: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [SENTRUM, *flags, "diagnose", "--workspace", "acme"], capture_output=True, text=True, env=env, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    verbose = "\n".join(_lines(diagnose("-v")))
    assert re.search(r" - DEBUG - diagnostics_job - .* - RUN_SUCCESS - ", verbose), verbose[-3000:]
    quiet = _lines(diagnose())
    assert not [line for line in quiet if NOISE.search(line)], quiet
    assert any(re.match(r"\d+ finding\(s\) for acme, night ", line) for line in quiet), quiet
