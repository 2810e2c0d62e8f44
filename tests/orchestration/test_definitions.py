"""The Dagster code location: it loads, and its graph is what we mean it to be."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    return build_definitions(Settings(home=tmp_path_factory.mktemp("home")))


def test_dagster_definitions_validate(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRUM_")}
    env["SENTRUM_HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_graph_snapshot(defs):
    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == [
        "intermediate/int_meta__ad_conversions_daily",
        "marts/dim_ad_accounts",
        "marts/dim_ads",
        "marts/dim_adsets",
        "marts/dim_campaigns",
        "marts/fct_ad_insights_daily",
        "raw/meta_ad_accounts",
        "raw/meta_ad_creatives",
        "raw/meta_ads",
        "raw/meta_adsets",
        "raw/meta_batches",
        "raw/meta_campaigns",
        "raw/meta_extraction_errors",
        "raw/meta_insights",
        "raw/meta_insights_actions",
        "staging/stg_meta__ad_accounts",
        "staging/stg_meta__ads",
        "staging/stg_meta__adsets",
        "staging/stg_meta__batches",
        "staging/stg_meta__campaigns",
        "staging/stg_meta__insights",
        "staging/stg_meta__insights_actions",
    ]
    assert sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")) == ["sentrum_sync"]
    assert [s.name for s in defs.schedules] == ["nightly"]
    assert [s.name for s in defs.sensors] == ["workspaces_sensor"]
    graph = defs.resolve_asset_graph()
    # raw assets are partitioned by workspace only; dbt assets are not partitioned (one build for all workspaces)
    raw = graph.get(dg.AssetKey(["raw", "meta_insights"]))
    assert raw.partitions_def == dg.DynamicPartitionsDefinition(name="workspaces")
    assert graph.get(dg.AssetKey(["marts", "fct_ad_insights_daily"])).partitions_def is None
    # staging reads the raw tables written by the extraction asset
    parents = graph.get(dg.AssetKey(["staging", "stg_meta__insights"])).parent_keys
    assert dg.AssetKey(["raw", "meta_insights"]) in parents
    # dbt tests are asset checks
    checks = {c.name for c in graph.asset_check_keys}
    assert any(name.startswith("unique_combination_fct_ad_insights_daily") for name in checks)


def test_dbt_build_args():
    from orchestration.assets.dbt import dbt_build_args

    assert dbt_build_args() == ["build"]
    assert dbt_build_args({"b": "2", "a": "1"}) == ["build", "--vars", '{"a": "1", "b": "2"}']
