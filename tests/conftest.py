"""Session set-up shared by every test folder.

The Dagster definitions read dbt's manifest when they are imported (as in a deployment, where the image prepares
it): it is prepared here, before any test module imports them, for this process's SENTRUM_HOME. Only `dbt parse`
when the manifest is missing or older than the dbt project; a fresh one costs a few file stats.
"""

from __future__ import annotations

import pytest


def pytest_configure(config) -> None:
    from orchestration.dbt_prepare import prepare_dbt
    from orchestration.settings import get_settings, prepare_home

    settings = get_settings()
    prepare_home(settings)
    prepare_dbt(settings)


# Folders whose every test runs the real pipeline (dbt builds, CLI subprocesses, servers): the `slow` tier.
# `make test-fast` runs everything else; a slow test elsewhere says so itself (`pytestmark = pytest.mark.slow`).
SLOW_FOLDERS = ("e2e", "dbt_project", "bigquery", "deployed")
# Tests elsewhere that run the pipeline end to end or start servers (tens of seconds each on 2 cores).
SLOW_TESTS = (
    "tests/diagnostics/test_sandbox_scenarios.py::test_every_planted_anomaly_is_found_with_its_entity_and_severity",
    "tests/diagnostics/test_sandbox_scenarios.py::test_the_clean_twin_has_no_high_severity_finding",
    "tests/diagnostics/test_state_plants.py::test_the_marts_carry_the_state_and_every_plant_is_found",
    "tests/orchestration/test_ui_graphql.py::",
    "tests/orchestration/test_definitions.py::test_dagster_definitions_validate",
    "tests/insights_jobs/test_every_status.py::test_every_request_of_every_report_and_split_names_every_status",
    "tests/insights_jobs/test_extract_truth.py::test_every_report_equals_the_truth_under_faults_and_a_tight_budget",
    "tests/insights_jobs/test_bench_smoke.py::",
    "tests/workspaces/test_registry_and_secrets.py::test_parallel_processes_lose_no_workspace_and_no_token",
)


# `make test` runs the tests on three workers (pytest-xdist, `--dist loadscope`, scheduled by `WorkUnits` below). Each
# work unit keeps a costly session fixture on one worker: the BigQuery stand-in (installed on first use, then started
# once per test process), dbt's built project (tests/dbt_project/conftest.py), the demo (tests/e2e/conftest.py).
# Every other test goes with its module, so a module fixture runs once. The units run longest first (their test time
# in a full run on this machine, 2026-12-05, three workers: BigQuery 322 s, the CLI's runs 270 s, the diagnostics
# worlds 232 s, the restatement nights 201 s, ...), then the rest in collection order, so no long unit starts last
# and holds the run while the other workers idle (`--no-loadscope-reorder` keeps this order; xdist would sort the
# units by their number of tests).
LONGEST_FIRST = (
    "bigquery",
    "tests/e2e/test_cli_runs.py",
    "tests/diagnostics/test_sandbox_scenarios.py",
    "tests/e2e/test_restatement_two_nights.py",
    "tests/deployed/test_nightly_deployed.py",
    "tests/e2e/test_backfill_resume.py",
    "tests/e2e/test_retention_cli.py",
    "tests/e2e/test_sync_matches_truth.py",
    "dbt_project",
    "demo",
)
BIGQUERY_MODULES = ("tests/bigquery/", "tests/diagnostics/test_bigquery_path.py")
DEMO_MODULES = (
    "tests/e2e/test_analyst_examples.py",
    "tests/e2e/test_every_mart_equals_truth.py",
    "tests/e2e/test_quiet_terminal.py",
    "tests/e2e/test_ui_row_counts.py",
)


def work_unit(nodeid: str) -> str:
    """A test's work unit, from its id alone (the scheduler sees ids only; `pytest_collection_modifyitems` checks the
    rule against the markers and fixtures): a shared session fixture's name, else the test's module."""
    module = nodeid.split("::", 1)[0]
    if module.startswith(BIGQUERY_MODULES) or "[bigquery" in nodeid:
        return "bigquery"
    if module in DEMO_MODULES:
        return "demo"
    if module.startswith("tests/dbt_project/"):
        return "dbt_project"
    return module


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` with our work units as the scopes. (xdist's own `loadgroup` marks a test by rewriting a node
    attribute that pytest 9.2 no longer reads, so its groups silently fall apart into single tests.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnits(config, log)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        parts = item.path.parts
        if "tests" in parts and parts[parts.index("tests") + 1] in SLOW_FOLDERS or item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
        unit = work_unit(item.nodeid)
        # the id-only rule must agree with what the test really uses, or a second worker would start the stand-in
        # again (or the demo), or two workers would install the stand-in at once
        if item.get_closest_marker("bigquery") is not None and unit != "bigquery":
            raise pytest.UsageError(f"{item.nodeid} uses BigQuery: add its module to BIGQUERY_MODULES")
        if item.nodeid.startswith("tests/e2e/") and "demo" in getattr(item, "fixturenames", ()) and unit != "demo":
            raise pytest.UsageError(f"{item.nodeid} uses the demo: add its module to DEMO_MODULES in tests/conftest.py")
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))  # stable: the rest keep their order
