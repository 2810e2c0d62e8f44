"""Session set-up shared by every test folder.

The Dagster definitions read dbt's manifest when they are imported (as in a deployment, where the image prepares
it): it is prepared here, before any test module imports them, for this process's SENTRUM_HOME. Only `dbt parse`
when the manifest is missing or older than the dbt project; a fresh one costs a few file stats.
"""

from __future__ import annotations


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


def pytest_collection_modifyitems(config, items) -> None:
    import pytest

    for item in items:
        parts = item.path.parts
        if "tests" in parts and parts[parts.index("tests") + 1] in SLOW_FOLDERS or item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
