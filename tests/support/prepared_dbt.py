"""A fresh SENTRUM_HOME with dbt's manifest already prepared, as a deployment's image has it (`sentrum dbt-prepare`
at build time).

Every `sentrum` command (and code server) that loads the definitions prepares the manifest of its SENTRUM_HOME when
it is missing: a full `dbt parse`, ~9 s of CPU here, paid again by every test that starts from an empty home. The
test session has prepared one already (tests/conftest.py) from the same project; its files are copied instead, which
is what `prepare_dbt` would have written (it still re-parses if the project changed since: the copies keep their
times). Preparing the manifest itself is proven by the tests that leave the home empty: the shared demo (`sentrum
demo` on a fresh home), tests/orchestration/test_definitions.py and the image's build step (test_deploy_files.py).
"""

from __future__ import annotations

from pathlib import Path

from orchestration.dbt_prepare import copy_prepared, prepare_dbt
from orchestration.settings import Settings, get_settings, prepare_home


def prepared_dbt_target() -> Path:
    """The session's prepared dbt target for DuckDB (prepared now if it is not)."""
    session = get_settings()
    if session.warehouse != "duckdb":  # the session's manifest is BigQuery's: a DuckDB one beside it
        session = Settings(home=session.home_dir / "prepared-duckdb", warehouse="duckdb")
    return prepare_dbt(session).parent  # a few file stats when it is fresh


def seed_prepared_dbt(home: Path) -> Path:
    """Give `home`, a SENTRUM_HOME for DuckDB, the session's prepared dbt target; the manifest's path."""
    settings = Settings(home=home)
    prepare_home(settings)  # owner-only, as the CLI makes it
    return copy_prepared(prepared_dbt_target(), settings.dbt_dir)
