"""The Dagster UI on the project's instance: a started `dagster-webserver` serves, over its GraphQL API, the
workspace partitions, the schedules and the sensors of the code location (what an engineer sees in the UI)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from orchestration.instance import dagster_instance
from orchestration.launch import repository_label
from orchestration.partitions import WORKSPACES
from orchestration.settings import Settings
from tests.support.prepared_dbt import seed_prepared_dbt

ROOT = Path(__file__).resolve().parents[2]
QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { name location { name } schedules { name cronSchedule } sensors { name } }
    }
  }
  assetNodes(assetKeys: [{path: ["raw", "meta_insights"]}]) { partitionKeys }
  shouldShowNux
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(url: str, query: str) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def webserver(tmp_path):
    home = tmp_path / "home"
    # what the code location reads when it loads (a deployment prepares it at build time)
    seed_prepared_dbt(home)
    settings = Settings(home=home)
    instance = dagster_instance(settings)
    instance.add_dynamic_partitions(WORKSPACES, ["acme", "globex"])
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    env.update(SENTRUM_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    server = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(server), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 180  # bounded: the code location loads dbt's manifest
        while True:
            try:
                data = _graphql(url, QUERY)
                if data.get("data", {}).get("repositoriesOrError", {}).get("nodes"):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"dagster-webserver did not serve: {proc.communicate()[1][-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_ui_lists_workspace_partitions_schedules_and_sensors(webserver):
    data = _graphql(webserver, QUERY)["data"]
    [repo] = data["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s["cronSchedule"] for s in repo["schedules"]}
    assert schedules == {"nightly": "0 2 * * *", "daily_sweep": schedules["daily_sweep"]}
    assert {s["name"] for s in repo["sensors"]} == {"workspaces_sensor", "nightly_marts_sensor", "backfill_sensor"}
    [node] = data["assetNodes"]
    assert node["partitionKeys"] == ["acme", "globex"]  # one partition per workspace, never workspace x date
    assert data["shouldShowNux"] is False  # no newsletter prompt over the catalog on a first visit
    # the code location as the UI names it: the label its job pages filter runs on (`.dagster/repository`), which
    # the CLI's runs carry (orchestration/launch.py; tests/e2e/test_cli_runs.py)
    assert f"{repo['name']}@{repo['location']['name']}" == repository_label()
