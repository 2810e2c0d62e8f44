"""dbt's manifest for a test's own SENTRUM_HOME, copied from the one this session prepared for its own home
(`tests/conftest.py`), so the test's first `sentrum` command or code server finds it fresh instead of running
`dbt parse` again (about 10 CPU seconds each). The project's files are the same, so the manifest is too; the step
that builds it (`sentrum dbt-prepare`, the image's build step) is proven by tests that start without one."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.dbt_prepare import target_dir
from orchestration.settings import Settings, get_settings, prepare_home


def seed_dbt_target(home: Path) -> None:
    """The session's prepared target (manifest and parse state, their times kept) under `home`; dbt's log left out."""
    session, settings = get_settings(), Settings(home=home)
    prepare_home(settings)  # owner-only, as the CLI makes it
    # dbt-duckdb names the catalog after the warehouse file: a manifest parsed for another name is left alone
    if (session.warehouse, session.duckdb_file.name) != (settings.warehouse, settings.duckdb_file.name):
        return
    source = target_dir(session.dbt_dir)
    target = target_dir(settings.dbt_dir)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in source.iterdir():
        if path.is_file() and path.suffix != ".log":
            shutil.copy2(path, target / path.name)
