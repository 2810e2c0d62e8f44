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


def pytest_collection_modifyitems(config, items) -> None:
    import pytest

    for item in items:
        parts = item.path.parts
        if "tests" in parts and parts[parts.index("tests") + 1] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
