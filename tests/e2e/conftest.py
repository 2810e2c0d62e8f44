"""End-to-end fixtures: a sandbox server and an isolated SENTRUM_HOME, driven through the real `sentrum` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph_sandbox import SandboxServer, Scenario
from tests.support.prepared_dbt import seed_prepared_dbt

SENTRUM = str(Path(sys.executable).with_name("sentrum"))
# Conversions as the marts define them by default (dbt var sentrum_conversion_action_types).
CONVERSION_TYPES = (
    "offsite_conversion.fb_pixel_purchase",
    "offsite_conversion.fb_pixel_lead",
    "onsite_conversion.purchase",
    "onsite_conversion.lead_grouped",
)


@dataclass
class Env:
    home: Path
    server: SandboxServer
    vars: dict[str, str]

    def sentrum(self, *args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [SENTRUM, *args], input=stdin, capture_output=True, text=True, env=self.vars, timeout=timeout
        )

    @property
    def duckdb_file(self) -> Path:
        return self.home / "warehouse.duckdb"


def clean_environment(home: Path) -> dict[str, str]:
    """This process's environment without SENTRUM_* and DAGSTER_* settings, with SENTRUM_HOME=home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    env["SENTRUM_HOME"] = str(home)
    return env


def make_env(home: Path, server: SandboxServer, dbt_prepared: bool = False) -> Env:
    """An Env for `home` against `server`. `dbt_prepared`: the home gets the session's prepared dbt manifest first
    (tests/support/prepared_dbt.py), as a deployment's image has it."""
    if dbt_prepared:
        seed_prepared_dbt(home)
    env = clean_environment(home)
    env["SENTRUM_META_GRAPH_URL"] = server.url
    return Env(home, server, env)


@dataclass
class Demo:
    """What `make demo` leaves behind: `sentrum demo` run once, into a SENTRUM_HOME of its own."""

    home: Path
    result: subprocess.CompletedProcess

    @property
    def duckdb_file(self) -> Path:
        return self.home / "warehouse.duckdb"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`sentrum demo` (what `make demo` runs, with its own sandbox and today's dates), once per session: about a minute
    here, so every test that needs the demo's state shares this one and only reads it."""
    home = tmp_path_factory.mktemp("demo") / ".sentrum"
    result = subprocess.run([SENTRUM, "demo"], capture_output=True, text=True, env=clean_environment(home), timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return Demo(home, result)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(Scenario("demo", 42), job_seconds=0.3) as server:
        yield server
