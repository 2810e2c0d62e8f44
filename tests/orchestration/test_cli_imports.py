"""The quick commands stay quick: `workspaces list` (with a warehouse to read token health from), `workspaces add`'s
and `sweep`'s refusals (a sweep reads the audit log in the warehouse first) answer without importing Dagster or dbt,
which take seconds (orchestration/cli_common.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import clean_environment
from warehouse import DuckDBWarehouse
from workspaces import MetaConnection, Workspace, YamlRegistry

HEAVY = ("dagster", "dagster_dbt", "dbt")
PROBE = (
    "import json, sys\n"
    "from orchestration.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})]))\n"
)


@pytest.mark.parametrize(
    "argv,code",
    [
        (["workspaces", "list"], 0),
        (["workspaces", "add", "acme", "--ad-accounts", "1001"], 2),  # not an ad account id: refused
        (["sweep", "--workspace", "nobody"], 2),  # never registered, never swept
        (["sweep", "--workspace", "acme"], 2),  # active: no deletion was requested
    ],
)
def test_a_quick_command_imports_neither_dagster_nor_dbt(tmp_path, argv, code):
    home = tmp_path / "home"
    home.mkdir()
    # a workspace, and a warehouse file: `list` opens it for the tokens' health
    YamlRegistry(home / "workspaces.yaml").upsert(
        Workspace(id="acme", name="Acme", meta=MetaConnection(ad_accounts=["act_1001"], token_secret="meta-token-acme"))
    )
    with DuckDBWarehouse(home / "warehouse.duckdb"):
        pass
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        env=clean_environment(home),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [code, []], proc.stdout + proc.stderr
