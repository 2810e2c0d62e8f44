"""A fresh SENTRUM_HOME with dbt's manifest already prepared, as a deployment's image has it (`sentrum dbt-prepare`
at build time).

Every `sentrum` command (and code server) that loads the definitions prepares the manifest of its SENTRUM_HOME when
it is missing: a full `dbt parse`, ~9 s of CPU here, paid again by every test that starts from an empty home. The
test session has prepared one already (tests/conftest.py) from the same project; its files are copied instead, which
is what `prepare_dbt` would have written (it still re-parses if the project changed since: the copies keep their
times). Preparing the manifest itself is proven by the tests that leave the home empty: the shared demo (`sentrum
demo` on a fresh home), tests/orchestration/test_definitions.py and the image's build step (test_deploy_files.py).

The copied parse (`partial_parse.msgpack`) is given the new home's profile, as `prepare_dbt` would have written it
there: dbt keeps a hash of the profile's connection values in it (for DuckDB the file's path and temp folder, which
differ between homes), and discards a saved parse whose hash is not the run's. Without this the first marts run of
every such home parsed the whole project again (~1.5 CPU-s); the parse itself does not depend on the home (the
database is named after the file, `warehouse`, in every home).
"""

from __future__ import annotations

import contextvars
import pprint
from pathlib import Path

from orchestration.dbt_prepare import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE, copy_prepared, prepare_dbt
from orchestration.dbt_profile import profile_env
from orchestration.settings import Settings, get_settings, prepare_home


def _prepared_settings() -> Settings:
    session = get_settings()
    if session.warehouse != "duckdb":  # the session's manifest is BigQuery's: a DuckDB one beside it
        session = Settings(home=session.home_dir / "prepared-duckdb", warehouse="duckdb")
    return session


def prepared_dbt_target() -> Path:
    """The session's prepared dbt target for DuckDB (prepared now if it is not)."""
    return prepare_dbt(_prepared_settings()).parent  # a few file stats when it is fresh


def seed_prepared_dbt(home: Path) -> Path:
    """Give `home`, a SENTRUM_HOME for DuckDB, the session's prepared dbt target, its saved parse made the home's
    own; the manifest's path."""
    settings = Settings(home=home)
    prepare_home(settings)  # owner-only, as the CLI makes it
    manifest = copy_prepared(prepared_dbt_target(), settings.dbt_dir)
    _give_profile(manifest.parent / PARTIAL_PARSE_FILE, _prepared_settings(), settings)
    return manifest


def profile_checksum(settings: Settings) -> str:
    """dbt's hash of the DuckDB profile as a run under `settings` renders it: the one its saved parse must hold
    (dbt's `ManifestLoader.build_manifest_state_check`: the sorted `connection_info()` pretty-printed). Rendered by
    dbt's own profile code, in a context of its own (dbt reads `env_var` from a context variable)."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.contracts.files import FileHash
    from dbt_common.context import set_invocation_context

    def credentials():
        set_invocation_context(profile_env(settings))
        raw = read_profile(str(DBT_PROJECT_DIR))["sentrum"]
        target, data = Profile.render_profile(raw, "sentrum", settings.warehouse, ProfileRenderer({}))
        return Profile._credentials_from_profile(data, "sentrum", target)

    connection = sorted(contextvars.copy_context().run(credentials).connection_info())
    return FileHash.from_contents(pprint.pformat(connection)).checksum


def _give_profile(saved_parse: Path, prepared: Settings, home: Settings) -> None:
    """Replace the prepared home's profile hash in the copied parse by `home`'s (same length, so the msgpack stays
    valid). Only when the prepared hash is found exactly once: otherwise the copy stays as it was, and dbt parses
    the whole project on the first run, as it would anyway (tests/e2e/test_restatement_two_nights.py would fail)."""
    old, new = profile_checksum(prepared).encode(), profile_checksum(home).encode()
    data = saved_parse.read_bytes()
    if old != new and data.count(old) == 1:
        saved_parse.write_bytes(data.replace(old, new))
