"""`sentrum-dbt`, the dbt executable of the runs: dbt's command line, with `--version` answered locally."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import dbt.version
from dagster_dbt import DbtCliResource

from orchestration.dbt_prepare import DBT_PROJECT_DIR, dbt_executable


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([dbt_executable(), *args], capture_output=True, text=True, timeout=120)


def test_the_runs_start_sentrum_dbt():
    assert Path(dbt_executable()).name == "sentrum-dbt"
    assert DbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()).dbt_executable.endswith(
        "sentrum-dbt"
    )


def test_version_names_the_installed_dbt_core_first_and_asks_no_one_for_the_latest():
    done = run("--version")
    assert done.returncode == 0, done.stderr
    # dagster-dbt reads the first x.y.z of the output as dbt-core's version
    assert re.search(r"(\d+\.\d+\.\d+)", done.stdout).group(1) == dbt.version.__version__
    assert "duckdb" in done.stdout and "latest" not in done.stdout


def test_everything_else_is_dbt_under_its_own_name():
    refused = run("no-such-command")
    assert refused.returncode == 2, refused.stderr
    assert "No such command 'no-such-command'" in refused.stderr and "Try 'dbt --help'" in refused.stderr
