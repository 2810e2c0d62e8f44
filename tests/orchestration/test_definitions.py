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
    # as a deployment's image does at build time: the definitions load the manifest it prepares
    prepared = subprocess.run(
        [str(Path(sys.executable).with_name("sentrum")), "dbt-prepare"], env=env, capture_output=True, text=True
    )
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    assert (tmp_path / "dbt" / "target" / "manifest.json").exists()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_graph_snapshot(defs):
    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == [
        "diagnostics/diagnostics_findings",
        "intermediate/int_meta__ad_hierarchy",
        "intermediate/int_meta__budget_snapshots",
        "intermediate/int_meta__insights_actions_pivoted",
        "intermediate/int_meta__insights_daily",
        "intermediate/int_meta__report_coverage",
        "marts/dim_ad_accounts",
        "marts/dim_ads",
        "marts/dim_adsets",
        "marts/dim_budget_history",
        "marts/dim_campaigns",
        "marts/dim_creatives",
        "marts/fct_account_insights_daily",
        "marts/fct_ad_actions_daily",
        "marts/fct_ad_insights_daily",
        "marts/fct_ad_insights_daily_by_age_gender",
        "marts/fct_ad_insights_daily_by_country",
        "marts/fct_ad_insights_daily_by_device",
        "marts/fct_ad_insights_daily_by_placement",
        "marts/fct_adset_insights_daily",
        "marts/fct_campaign_insights_daily",
        "ops/retention_audit_log",
        "ops/workspace_health",
        "raw/meta_ad_accounts",
        "raw/meta_ad_creatives",
        "raw/meta_ads",
        "raw/meta_adsets",
        "raw/meta_batches",
        "raw/meta_campaigns",
        "raw/meta_extraction_errors",
        "raw/meta_insights",
        "staging/stg_meta__ad_accounts",
        "staging/stg_meta__ad_creatives",
        "staging/stg_meta__ads",
        "staging/stg_meta__adsets",
        "staging/stg_meta__batches",
        "staging/stg_meta__campaigns",
        "staging/stg_meta__extraction_errors",
        "staging/stg_meta__insights",
        "staging/stg_meta__insights_actions",
    ]
    jobs = sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__"))
    assert jobs == [
        "backfill_request",
        "diagnostics_job",
        "export_workspace",
        "marts_job",
        "meta_extract_job",
        "retention_sweep_job",
    ]
    assert sorted(s.name for s in defs.schedules) == ["daily_sweep", "nightly"]
    assert sorted(s.name for s in defs.sensors) == ["backfill_sensor", "nightly_marts_sensor", "workspaces_sensor"]
    graph = defs.resolve_asset_graph()
    # raw assets are partitioned by workspace only; dbt assets are not partitioned (one build for all workspaces)
    raw = graph.get(dg.AssetKey(["raw", "meta_insights"]))
    assert raw.partitions_def == dg.DynamicPartitionsDefinition(name="workspaces")
    assert graph.get(dg.AssetKey(["marts", "fct_ad_insights_daily"])).partitions_def is None
    # staging reads the raw tables written by the extraction asset
    parents = graph.get(dg.AssetKey(["staging", "stg_meta__insights"])).parent_keys
    assert dg.AssetKey(["raw", "meta_insights"]) in parents
    # dbt tests are asset checks, beside the checks of our own
    checks = {c.name for c in graph.asset_check_keys}
    assert any(name.startswith("unique_combination_fct_ad_insights_daily") for name in checks)
    assert {
        "workspaces_fresh",
        "tokens_not_expiring",
        "accounts_with_delivery_have_ad_rows",
        "deletions_within_sla",
    } <= checks
    # ad-level spend against the account's is dbt's test, not repeated as a check of our own
    assert "assert_ads_sum_to_accounts" in checks and "ad_spend_reconciles_with_account_spend" not in checks


def test_dbt_build_args():
    # the run's vars are in the environment, never on the command line (dbt would then parse the whole project)
    from orchestration.assets.dbt import MartsConfig, dbt_build_args, dbt_vars
    from orchestration.dbt_prepare import run_var_env

    flags = ["--exclude-resource-type", "unit_test", "--log-format-file", "debug"]
    assert dbt_build_args() == ["build", *flags]
    assert dbt_build_args(full_refresh=True) == ["build", "--full-refresh", *flags]
    window = MartsConfig(window_start="2026-10-01", window_end="2026-10-31")
    assert dbt_vars(window, ["b", "a"], 31) == {
        "sentrum_workspaces": ["a", "b"],
        "sentrum_default_window_days": 31,
        "sentrum_window_start": "2026-10-01",
        "sentrum_window_end": "2026-10-31",
    }
    assert run_var_env(dbt_vars(window, ["b", "a"], 31)) == {
        "SENTRUM_DBT_WORKSPACES": '["a", "b"]',
        "SENTRUM_DBT_DEFAULT_WINDOW_DAYS": "31",
        "SENTRUM_DBT_WINDOW_START": "2026-10-01",
        "SENTRUM_DBT_WINDOW_END": "2026-10-31",
    }
    assert dbt_vars(MartsConfig(), [], 12) == {"sentrum_workspaces": [], "sentrum_default_window_days": 12}
    with pytest.raises(ValueError, match="not a run var"):
        run_var_env({"sentrum_attribution_window": "value"})


def test_the_marts_default_window_follows_the_restatement_setting(tmp_path):
    # dbt's default window (a marts run without dates) is derived from SENTRUM_RESTATEMENT_DAYS, like the nightly
    # window: restatement days ending yesterday in every timezone from UTC-12 to UTC+14 span two more UTC dates.
    from orchestration.dbt_project import dbt_resource

    assert dbt_resource(Settings(home=tmp_path)).default_window_days == 31
    assert dbt_resource(Settings(home=tmp_path, restatement_days=10)).default_window_days == 12


def test_the_marts_sensor_looks_as_often_as_the_setting_says(tmp_path, defs):
    assert defs.resolve_sensor_def("nightly_marts_sensor").minimum_interval_seconds == 60
    quick = build_definitions(Settings(home=tmp_path, marts_sensor_interval_seconds=5))
    assert quick.resolve_sensor_def("nightly_marts_sensor").minimum_interval_seconds == 5


def test_extraction_is_pooled_and_retried(defs):
    job = defs.resolve_job_def("meta_extract_job")
    node = job.graph.node_named("meta_extract")
    assert node.definition.pool == "meta_api"
    policy = node.definition.retry_policy
    assert policy.max_retries == 2 and policy.jitter is not None


def test_the_marts_resource_sets_up_no_dbt_adapter_in_the_run_process(tmp_path):
    # dagster-dbt calls this before every dbt command; the override must still be the method it calls.
    from dagster_dbt import DbtCliResource

    from orchestration.dbt_project import SentrumDbtCliResource, dbt_resource
    from orchestration.settings import Settings

    assert callable(getattr(DbtCliResource, "_initialize_dbt_core_adapter", None))
    resource = dbt_resource(Settings(home=tmp_path))
    assert isinstance(resource, SentrumDbtCliResource)
    assert resource._initialize_dbt_core_adapter(["build"]) is None
